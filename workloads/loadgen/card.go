package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/linkprof/linkprof/workloads"
)

// ErrUsage marks option mistakes (exit code 2 on the command line).
var ErrUsage = errors.New("usage")

// BurstGPTURL is where users get the BurstGPT files (not shipped).
const BurstGPTURL = "https://github.com/HPMLL/BurstGPT/releases"

// DefaultToken is the token id dummy prompts repeat: valid in every
// tokenizer the cards use and in the stand-in's vocabulary.
const DefaultToken = 100

// Options are the command line's overrides of a card. Zero values keep
// the card's; Start and Window are used only when WindowSet is true.
type Options struct {
	URL, Model, APIKey string
	Requests           int
	Duration           time.Duration
	Dataset            string // BurstGPT CSV path
	TimeScale          float64
	Start, Window      float64
	WindowSet          bool
	InputLen           int
	OutputLen          int
	Batch              int
	Token              int
	Timeout            time.Duration
	Output             string    // results JSON path; "" writes none
	Stdout             io.Writer // summary table; nil: none
	Progress           io.Writer // progress bar; nil: none
	Clock              Clock
	Client             Doer // nil: an HTTP client for URL
}

func usage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Check refuses cards and options the load generator cannot run.
func Check(c *workloads.Card, o *Options) error {
	switch {
	case c.IsExternal():
		return usage("card %s is a %s trace driven by its own job, not by the load generator: record that job with linkprof record (linkprof workload show %s)", c.Name, c.Framework, c.Name)
	case o.URL == "" && o.Client == nil:
		return usage("--url is required (the server's base URL, e.g. http://127.0.0.1:8000)")
	case o.Requests < 0 || o.Duration < 0 || o.InputLen < 0 || o.OutputLen < 0 || o.Batch < 0:
		return usage("counts and durations must not be negative")
	case o.TimeScale < 0:
		return usage("--time-scale must be above 0")
	case c.Dataset == workloads.DatasetBurstGPT && o.Dataset == "":
		return usage("card %s replays BurstGPT: pass --dataset FILE (e.g. %s from %s)", c.Name, burstFile(c), BurstGPTURL)
	case c.Dataset == workloads.DatasetDummy && o.Dataset != "":
		return usage("card %s uses dummy prompts: --dataset is for BurstGPT cards", c.Name)
	case c.Dataset == workloads.DatasetBurstGPT && (o.InputLen > 0 || o.OutputLen > 0):
		return usage("card %s takes its lengths from the BurstGPT file: drop --input-len/--output-len", c.Name)
	}
	return nil
}

func burstFile(c *workloads.Card) string {
	if c.Burst != nil && c.Burst.File != "" {
		return c.Burst.File
	}
	return "BurstGPT_without_fails_1.csv"
}

// RunCard drives the card's load and writes the results JSON and summary.
// An interrupted run (ctx ended) still writes what it collected.
func RunCard(ctx context.Context, c *workloads.Card, o Options) (*Report, error) {
	if err := Check(c, &o); err != nil {
		return nil, err
	}
	o.defaults(c)
	rep := &Report{Card: c.Name, URL: o.URL, Model: o.Model, Batch: o.Batch, Date: time.Now().UTC()}
	r := &Runner{Client: o.client(), Batch: o.Batch, Clock: o.Clock, Progress: o.Progress}
	var run Run
	if c.Dataset == workloads.DatasetBurstGPT {
		reqs, info, err := o.burst(c)
		if err != nil {
			return nil, err
		}
		rep.Mode, rep.Burst = "replay", info
		run = r.Replay(ctx, reqs)
		info.Lateness(run.Results)
	} else {
		rep.Mode = "static"
		n, d, in, out := o.Requests, o.Duration, o.InputLen, o.OutputLen
		distinct := c.Prompt == workloads.PromptDistinct
		run = r.Static(ctx, n, d, func(i int) Request {
			return Request{ID: i, Prompt: DummyPrompt(i, in, o.Token, distinct), MaxTokens: out}
		})
	}
	rep.Interrupted, rep.Requests, rep.Summary = run.Interrupted, run.Results, Summarize(run)
	if o.Stdout != nil {
		rep.Summary.WriteTable(o.Stdout)
	}
	if o.Output != "" {
		if err := rep.WriteJSON(o.Output); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

func (o *Options) defaults(c *workloads.Card) {
	if o.Model == "" {
		o.Model = c.Model
	}
	if o.Batch == 0 {
		o.Batch = c.Batch
	}
	if o.Token == 0 {
		o.Token = DefaultToken
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.InputLen == 0 {
		o.InputLen = c.InputLen
	}
	if o.OutputLen == 0 {
		o.OutputLen = c.OutputLen
	}
	// A count or a duration on the command line replaces the card's pair.
	if o.Requests == 0 && o.Duration == 0 {
		o.Requests, o.Duration = c.Requests, c.Duration
	}
}

func (o *Options) client() Doer {
	if o.Client != nil {
		return o.Client
	}
	cl := NewClient(o.URL, o.Model, o.APIKey, o.Batch)
	cl.Timeout, cl.Clock = o.Timeout, o.Clock
	return cl
}

func (o *Options) burst(c *workloads.Card) ([]Request, *BurstInfo, error) {
	b := c.Burst
	w := Window{Start: b.Start, Length: b.Window, TimeScale: b.TimeScale,
		MaxInput: b.MaxInputLen, MaxOutput: b.MaxOutputLen, Limit: o.Requests}
	if o.WindowSet {
		w.Start, w.Length = o.Start, o.Window
	}
	if o.TimeScale > 0 {
		w.TimeScale = o.TimeScale
	}
	f, err := os.Open(o.Dataset)
	if err != nil {
		return nil, nil, fmt.Errorf("opening BurstGPT file: %w", err)
	}
	defer f.Close()
	rows, st, err := ReadBurstGPT(f, o.Dataset, w)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("no BurstGPT requests in window [%gs, +%gs) of %s (%d rows read)", w.Start, w.Length, o.Dataset, st.Rows)
	}
	if o.Duration > 0 {
		rows = cutAt(rows, w, o.Duration)
	}
	return ReplayRequests(rows, w, o.Token, false), &BurstInfo{File: o.Dataset, Window: w, Stats: st}, nil
}

// cutAt keeps the rows scheduled within d of wall time.
func cutAt(rows []BurstRow, w Window, d time.Duration) []BurstRow {
	for i, r := range rows {
		if time.Duration((r.Timestamp-w.Start)*w.TimeScale*float64(time.Second)) >= d {
			return rows[:i]
		}
	}
	return rows
}
