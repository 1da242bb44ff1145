package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/linkprof/linkprof/workloads"
	"github.com/linkprof/linkprof/workloads/loadgen"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:    "workload",
		summary: "list, show and run the trace-collection workload cards",
		run:     runWorkload,
	})
}

const workloadUsage = "workload list [--json] | show NAME|FILE|FAMILY | run NAME|FILE --url URL [flags]"

func runWorkload(args []string) error {
	if len(args) == 0 {
		return usagef("usage: linkprof %s", workloadUsage)
	}
	switch args[0] {
	case "list":
		fs := newFlags("workload list")
		asJSON := fs.Bool("json", false, "print the cards and families as JSON")
		if err := parseFlags(fs, "workload list [--json]", args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("workload list: unexpected argument %q", fs.Arg(0))
		}
		if *asJSON {
			return workloadListJSON(os.Stdout)
		}
		return workloadList(os.Stdout)
	case "show":
		fs := newFlags("workload show")
		if err := parseFlags(fs, "workload show NAME|FILE|FAMILY", args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usagef("usage: linkprof workload show NAME|FILE|FAMILY")
		}
		return workloadShow(os.Stdout, fs.Arg(0))
	case "run":
		return workloadRun(args[1:])
	case "-h", "--help", "help":
		fmt.Printf("usage: linkprof %s\n", workloadUsage)
		return errHelp
	}
	return usagef("workload: unknown action %q (list, show, run)", args[0])
}

func workloadList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFRAMEWORK\tTP\tBATCH\tLOAD\tFAMILIES")
	for _, name := range workloads.Names() {
		c, err := workloads.Lookup(name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Framework, orDash(c.TP), orDash(c.Batch),
			loadSummary(c), strings.Join(c.Families, ","))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nfamilies (linkprof workload show FAMILY):")
	for _, f := range workloads.Families() {
		fmt.Fprintf(w, "  %-11s %s\n", f.Name, f.Title)
	}
	return nil
}

// listedCard is one card in workload list --json.
type listedCard struct {
	Name      string   `json:"name"`
	Framework string   `json:"framework"`
	TP        int      `json:"tp,omitempty"`
	Batch     int      `json:"batch,omitempty"`
	Load      string   `json:"load"`
	Families  []string `json:"families"`
}

type listedFamily struct {
	Name  string `json:"name"`
	Title string `json:"title"`
}

func workloadListJSON(w io.Writer) error {
	var out struct {
		Cards    []listedCard   `json:"cards"`
		Families []listedFamily `json:"families"`
	}
	for _, name := range workloads.Names() {
		c, err := workloads.Lookup(name)
		if err != nil {
			return err
		}
		out.Cards = append(out.Cards, listedCard{c.Name, c.Framework, c.TP, c.Batch, loadSummary(c), c.Families})
	}
	for _, f := range workloads.Families() {
		out.Families = append(out.Families, listedFamily{f.Name, f.Title})
	}
	return writeJSON(w, out)
}

func orDash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func loadSummary(c *workloads.Card) string {
	switch {
	case c.IsExternal():
		return "external"
	case c.Dataset == workloads.DatasetBurstGPT:
		return fmt.Sprintf("burstgpt %gs x%g", c.Burst.Window, c.Burst.TimeScale)
	case c.Duration > 0:
		return fmt.Sprintf("dummy %d/%d for %v", c.InputLen, c.OutputLen, c.Duration)
	}
	return fmt.Sprintf("dummy %d/%d x%d", c.InputLen, c.OutputLen, c.Requests)
}

func workloadShow(w io.Writer, arg string) error {
	if f, ok := workloads.FamilyByName(arg); ok {
		fmt.Fprintf(w, "%s: %s\n\n%s\n\ncards:\n", f.Name, f.Title, f.Description)
		for _, name := range workloads.Names() {
			if c, err := workloads.Lookup(name); err == nil && contains(c.Families, f.Name) {
				fmt.Fprintln(w, " ", name)
			}
		}
		return nil
	}
	_, data, err := workloads.Load(arg)
	if err != nil {
		return cardError(err)
	}
	_, err = w.Write(data)
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cardError makes an unknown card name a usage error.
func cardError(err error) error {
	if errors.Is(err, workloads.ErrUnknownCard) {
		return usagef("%v", err)
	}
	return err
}

// loadFlags are the load options shared by workload run and collect.
type loadFlags struct {
	o              loadgen.Options
	start, window  float64
	noProgress     bool
	requestTimeout time.Duration
}

func (lf *loadFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&lf.o.Model, "model", "", "model name sent in requests (default: the card's)")
	fs.IntVar(&lf.o.Requests, "requests", 0, "number of requests (default: the card's; BurstGPT: at most this many)")
	fs.DurationVar(&lf.o.Duration, "duration", 0, "stop sending after this long instead of a request count")
	fs.IntVar(&lf.o.Batch, "batch", 0, "requests in flight at most (default: the card's batch)")
	fs.StringVar(&lf.o.Dataset, "dataset", "", "BurstGPT CSV for burst cards ("+loadgen.BurstGPTURL+")")
	fs.Float64Var(&lf.o.TimeScale, "time-scale", 0, "wall seconds per BurstGPT second (0.1 replays 10x faster; default: the card's)")
	fs.Float64Var(&lf.start, "start", 0, "BurstGPT window start, trace seconds (default: the card's)")
	fs.Float64Var(&lf.window, "window", 0, "BurstGPT window length, trace seconds; 0 to the end (default: the card's)")
	fs.IntVar(&lf.o.InputLen, "input-len", 0, "prompt tokens for dummy cards (default: the card's)")
	fs.IntVar(&lf.o.OutputLen, "output-len", 0, "output tokens for dummy cards (default: the card's)")
	fs.IntVar(&lf.o.Token, "token", loadgen.DefaultToken, "token id dummy prompts repeat")
	fs.DurationVar(&lf.requestTimeout, "request-timeout", 10*time.Minute, "give up on one request after this long (0: never)")
	fs.BoolVar(&lf.noProgress, "no-progress", false, "no progress bar on stderr")
}

// options finishes the options after parsing: the API key comes from the
// environment only, never a flag.
func (lf *loadFlags) options(fs *pflag.FlagSet) loadgen.Options {
	o := lf.o
	o.APIKey = os.Getenv(loadgen.APIKeyEnv)
	o.Timeout = lf.requestTimeout
	if fs.Changed("start") || fs.Changed("window") {
		o.WindowSet, o.Start, o.Window = true, lf.start, lf.window
	}
	if !lf.noProgress {
		o.Progress = os.Stderr
	}
	o.Stdout = os.Stdout
	return o
}

func workloadRun(args []string) error {
	fs := newFlags("workload run")
	var lf loadFlags
	url := fs.String("url", "", "base URL of the OpenAI-compatible server (API key: $"+loadgen.APIKeyEnv+")")
	out := fs.StringP("output", "o", "", "write results JSON here")
	lf.add(fs)
	if err := parseFlags(fs, "workload run NAME|FILE --url URL [flags]", args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("workload run: give one card name or file (linkprof workload list)")
	}
	card, _, err := workloads.Load(fs.Arg(0))
	if err != nil {
		return cardError(err)
	}
	o := lf.options(fs)
	o.URL, o.Output = *url, *out
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.RunCard(ctx, card, o)
	return loadResult(rep, err, *out)
}

// loadResult turns a run's outcome into the command's error: usage
// mistakes exit 2, an interrupted run exits 130 after writing its results.
func loadResult(rep *loadgen.Report, err error, out string) error {
	if errors.Is(err, loadgen.ErrUsage) {
		return usagef("%s", strings.TrimPrefix(err.Error(), "usage: "))
	}
	if err != nil {
		return err
	}
	if rep.Interrupted {
		where := ""
		if out != "" {
			where = ", results in " + out
		}
		return exitStatusError{130, fmt.Sprintf("interrupted after %d completed requests%s", rep.Summary.Completed, where)}
	}
	if rep.Summary.Completed == 0 {
		return fmt.Errorf("no request completed (%d failed): is the server at the URL up?", rep.Summary.Failed)
	}
	return nil
}
