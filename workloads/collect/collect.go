package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/linkprof/linkprof/trace"
	"github.com/linkprof/linkprof/workloads"
	"github.com/linkprof/linkprof/workloads/loadgen"
)

// RecorderFunc builds the command that records pid's process tree into dir
// and creates readyFile once its probes are attached.
type RecorderFunc func(pid int, dir, readyFile string) (*exec.Cmd, error)

// LinkprofRecorder runs this executable's record subcommand.
func LinkprofRecorder(pid int, dir, readyFile string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the linkprof executable: %w", err)
	}
	return exec.Command(exe, "record", "-p", strconv.Itoa(pid), "--children", "-o", dir,
		"--ready-file", readyFile), nil
}

// Config is one collection.
type Config struct {
	Card   *workloads.Card
	Dir    string // the trace folder; must not exist or be empty
	Server ServerSpec
	// ServerArgv replaces the computed server command (tests, odd installs).
	ServerArgv   []string
	ReadyTimeout time.Duration // waiting for /health, and for the recorder to attach
	Settle       time.Duration // between the recorder attaching and the load
	Grace        time.Duration // per signal when stopping a process
	NoRecord     bool
	// TP replaces the card's tensor-parallel ranks (training: the ranks)
	// for machines with fewer GPUs; 0 keeps the card's. card.yaml lists it
	// under deviations.
	TP int
	// Steps is how many steps the training stand-in runs (external cards).
	Steps int
	// JobArgv replaces the training stand-in's command (tests).
	JobArgv  []string
	Recorder RecorderFunc // nil: LinkprofRecorder
	Probe    Prober       // nil: ExecProbe
	Load     loadgen.Options
	LoadArgs []string  // the load flags as given, for card.yaml
	Log      io.Writer // progress lines; nil: discarded
	Version  string    // linkprof's, for card.yaml
}

// Result is what Collect wrote.
type Result struct {
	Dir    string
	Report *loadgen.Report // nil for a training job
	// Interrupted: a training job was stopped by ctx before it finished.
	Interrupted bool
}

// Collect runs the card end to end. Whatever happens after the server
// started, the server is stopped and the folder gets server.log, and
// card.yaml once the load ran; errors of each step are joined. A server
// that has to be killed, or exits non-zero, once asked to stop after a
// complete load is a warning and a note in card.yaml, not an error: the
// trace is whole.
func Collect(ctx context.Context, cfg Config) (res *Result, err error) {
	cfg.defaults()
	if err := checkDir(cfg.Dir); err != nil {
		return nil, err
	}
	devs, err := cfg.applyOverrides()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "linkprof-collect-")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	if cfg.Server.Framework == "standin" {
		cfg.Server.InfoFile = filepath.Join(tmp, standinInfo)
		defer func() { err = errors.Join(err, keepInfo(cfg.Server.InfoFile, cfg.Dir, res)) }()
	}
	if cfg.Card.IsExternal() {
		return cfg.collectJob(ctx, tmp, devs)
	}
	argv, env, err := cfg.serverCommand()
	if err != nil {
		return nil, err
	}
	logFile, err := os.CreateTemp(tmp, "server-*.log")
	if err != nil {
		return nil, fmt.Errorf("creating server log: %w", err)
	}
	defer func() { err = errors.Join(err, moveInto(logFile, cfg.Dir, "server.log")) }()
	cfg.logf("starting server: %v (log: %s/server.log)", argv, cfg.Dir)
	srv, err := startProc("server", exec.Command(argv[0], argv[1:]...), env, logFile)
	if err != nil {
		return nil, err
	}
	url := cfg.Load.URL
	if err := waitReady(ctx, url, srv, cfg.ReadyTimeout); err != nil {
		return nil, errors.Join(err, cfg.stopServer(srv, nil))
	}
	cfg.logf("server ready at %s", url)
	res, col, err := cfg.recordLoad(ctx, srv)
	if col == nil {
		return res, errors.Join(err, cfg.stopServer(srv, nil))
	}
	err = errors.Join(err, cfg.stopServer(srv, col))
	col.Server, col.ServerEnv = argv, env
	devs = append(devs, cfg.standinDeviation()...)
	return res, errors.Join(err, writeCard(cfg.Dir, cfg.Card, col, devs))
}

// standinInfo is the stand-in's own account of what it ran (--info), kept
// in the trace folder.
const standinInfo = "standin.json"

// applyOverrides puts --tp over a copy of the card and returns the
// deviations from the card known before the run.
func (cfg *Config) applyOverrides() ([]string, error) {
	var devs []string
	if cfg.Server.Framework != cfg.Card.Framework {
		devs = append(devs, fmt.Sprintf("framework: %s in place of the card's %s", cfg.Server.Framework, cfg.Card.Framework))
	}
	if cfg.TP == 0 || cfg.TP == cfg.Card.TP {
		return devs, nil
	}
	if !workloads.ValidTP(cfg.TP) {
		return nil, fmt.Errorf("tp must be 1, 2, 4 or 8, not %d", cfg.TP)
	}
	card := *cfg.Card
	if card.TP > 0 {
		devs = append(devs, fmt.Sprintf("tp: %d in place of the card's %d (--tp %d)", cfg.TP, card.TP, cfg.TP))
	}
	card.TP, cfg.Card = cfg.TP, &card
	return devs, nil
}

// stopServer stops the server. When col is set the load is over: a server
// that exited before it was asked is a failure, one that stops badly once
// asked is a warning and a note.
func (cfg *Config) stopServer(srv *proc, col *workloads.Collection) error {
	early := srv.exited()
	cfg.logf("stopping server")
	start := time.Now()
	err := srv.stop(cfg.Grace)
	switch {
	case col == nil:
		return err
	case early:
		return fmt.Errorf("server exited during the load (%v): see server.log", srv.err)
	case err != nil:
		fmt.Fprintf(cfg.Log, "linkprof: warning: %v (the trace is complete)\n", err)
		col.Notes = append(col.Notes, fmt.Sprintf("stopping the server: %v", err))
	default:
		cfg.logf("server stopped in %.1fs", time.Since(start).Seconds())
	}
	return nil
}

func (cfg *Config) defaults() {
	if cfg.Recorder == nil {
		cfg.Recorder = LinkprofRecorder
	}
	if cfg.Probe == nil {
		cfg.Probe = ExecProbe
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Grace == 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 30 * time.Minute
	}
}

func (cfg *Config) logf(format string, args ...any) {
	fmt.Fprintf(cfg.Log, "collect: "+format+"\n", args...)
}

func (cfg *Config) serverCommand() ([]string, map[string]string, error) {
	if len(cfg.ServerArgv) > 0 {
		return cfg.ServerArgv, cfg.Card.Flags.Env, nil
	}
	return ServerCommand(cfg.Card, cfg.Server)
}

// recordLoad records the server's process tree while the load runs and
// writes load.json. It returns the collection facts to finish card.yaml
// with, nil when nothing ran.
func (cfg *Config) recordLoad(ctx context.Context, srv *proc) (*Result, *workloads.Collection, error) {
	rec, recArgv, err := cfg.maybeRecord(ctx, srv.pid())
	if err != nil {
		return nil, nil, err
	}
	cfg.logf("driving load")
	rep, loadErr := loadgen.RunCard(ctx, cfg.Card, cfg.Load)
	errs := []error{loadErr}
	if rec != nil {
		cfg.logf("stopping recorder")
		errs = append(errs, rec.stop(cfg.Grace))
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, nil, errors.Join(append(errs, fmt.Errorf("creating trace folder: %w", err))...)
	}
	col := cfg.facts(ctx, recArgv)
	if rep != nil {
		col.Load = loadFacts(rep, cfg.LoadArgs)
		errs = append(errs, rep.WriteJSON(filepath.Join(cfg.Dir, "load.json")))
	}
	return &Result{Dir: cfg.Dir, Report: rep}, col, errors.Join(errs...)
}

// maybeRecord starts the recorder on pid's tree and waits for its probes
// (nothing with NoRecord).
func (cfg *Config) maybeRecord(ctx context.Context, pid int) (*proc, []string, error) {
	if cfg.NoRecord {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, nil, fmt.Errorf("creating trace folder: %w", err)
		}
		return nil, nil, nil
	}
	return cfg.startRecorder(ctx, pid)
}

func (cfg *Config) facts(ctx context.Context, recArgv []string) *workloads.Collection {
	col := gatherFacts(context.WithoutCancel(ctx), cfg.Probe, cfg.Server.Python, cfg.Server.Framework, time.Now())
	col.Recorder, col.Linkprof = recArgv, cfg.Version
	return col
}

func (cfg *Config) startRecorder(ctx context.Context, pid int) (*proc, []string, error) {
	tmp, err := os.MkdirTemp("", "linkprof-collect-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating recorder ready file folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	ready := filepath.Join(tmp, "attached")
	cmd, err := cfg.Recorder(pid, cfg.Dir, ready)
	if err != nil {
		return nil, nil, err
	}
	cfg.logf("recording: %v", cmd.Args)
	// The recorder's own messages go to the terminal, not the server log.
	cmd.Stdout, cmd.Stderr = cfg.Log, cfg.Log
	rec, err := startProc("recorder", cmd, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := waitFile(ctx, ready, rec, cfg.ReadyTimeout); err != nil {
		_ = rec.stop(cfg.Grace)
		return nil, nil, err
	}
	select {
	case <-time.After(cfg.Settle):
	case <-ctx.Done():
		_ = rec.stop(cfg.Grace)
		return nil, nil, ctx.Err()
	}
	return rec, cmd.Args, nil
}

// waitFile waits for the recorder's ready file; the recorder exiting first
// is an error.
func waitFile(ctx context.Context, path string, rec *proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-rec.done:
			return fmt.Errorf("recorder exited before it attached (%v): see its messages above", rec.err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for the recorder to attach: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func loadFacts(rep *loadgen.Report, args []string) *workloads.LoadFacts {
	s := rep.Summary
	return &workloads.LoadFacts{
		Args: args, Sent: s.Completed + s.Failed + s.Cancelled, Completed: s.Completed,
		Failed: s.Failed, DurationS: s.Duration, Results: "load.json",
	}
}

func writeCard(dir string, c *workloads.Card, col *workloads.Collection, devs []string) error {
	out := *c
	out.Collection = col
	out.Deviations = append(slices.Clone(c.Deviations), devs...)
	data, err := workloads.Marshal(&out)
	if err != nil {
		return err
	}
	if err := trace.WriteFile(dir, "card.yaml", data, false); err != nil {
		return fmt.Errorf("writing card.yaml: %w", err)
	}
	return nil
}

// waitReady polls /health (falling back to /v1/models) until the server
// answers 200, fails fast when the server exits.
func waitReady(ctx context.Context, url string, srv *proc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, path := range []string{"/health", "/v1/models"} {
			resp, err := client.Get(url + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		select {
		case <-srv.done:
			return fmt.Errorf("server exited (%v) before it answered %s/health: see server.log", srv.err, url)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s/health: %w (see server.log; raise --ready-timeout)", url, ctx.Err())
		case <-tick.C:
		}
	}
}

// checkDir refuses a folder that already holds files, before a long
// server start is spent on it.
func checkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking trace folder: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("trace folder %s already holds files: pick another -o", dir)
	}
	return nil
}

// moveInto moves the temporary log into dir/name (copying across file
// systems).
func moveInto(f *os.File, dir, name string) error {
	f.Close()
	defer os.Remove(f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating trace folder: %w", err)
	}
	dst := filepath.Join(dir, name)
	if os.Rename(f.Name(), dst) == nil {
		return nil
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return fmt.Errorf("reading server log: %w", err)
	}
	if err := trace.WriteFile(dir, name, data, false); err != nil {
		return fmt.Errorf("saving server log: %w", err)
	}
	return nil
}
