package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/trace"
)

const recordUsage = "record [-p PID]... [--pid-of NAME] [--all] [--children=true] [-d DURATION] [-o DIR] [-- CMD ARGS...]"

func init() {
	register(command{name: "record", summary: "record NCCL collectives (and NVLink traffic) of live processes", run: runRecord})
}

// recordFlags are record's command line.
type recordFlags struct {
	pids      []uint
	pidOf     string
	all       bool
	children  bool
	duration  time.Duration
	dir       string
	force     bool
	stacks    bool
	ringMiB   uint32
	noNVML    bool
	nvmlOnly  bool
	noAnalyze bool
	user      string
	readyFile string
	stallAt   time.Duration
	onStall   string
	link      linkFlags
	fleet     fleetFlags
	nics      nicFlags
}

// defaultStallAfter is --stall-after's default: longer than NCCL's lazy
// connection in a communicator's first call (about 1.2 s on H200), shorter
// than anyone waits at 3 a.m.
const defaultStallAfter = 5 * time.Second

func (f *recordFlags) register(fs *pflag.FlagSet) {
	fs.UintSliceVarP(&f.pids, "pid", "p", nil, "record process `PID` (repeatable)")
	fs.StringVar(&f.pidOf, "pid-of", "", "record processes whose name or command line matches `REGEXP`")
	fs.BoolVar(&f.all, "all", false, "record every process that maps NCCL")
	fs.BoolVar(&f.children, "children", true, "also record descendants, including ones started while recording")
	fs.DurationVarP(&f.duration, "duration", "d", 0, "stop after `DURATION` (default: until Ctrl-C or the targets exit)")
	fs.StringVarP(&f.dir, "output", "o", "", "write the recording to `DIR` (default: linkprof-DATE-TIME)")
	fs.BoolVar(&f.force, "force", false, "write into a non-empty output folder, replacing files")
	fs.BoolVar(&f.stacks, "stacks", false, "capture the caller's user stack at each call (frame pointers)")
	fs.Uint32Var(&f.ringMiB, "ring-size", profiler.DefaultRingBytes>>20, "ring buffer size in `MiB` (power of two)")
	fs.BoolVar(&f.noNVML, "no-nvml", false, "do not sample NVLink counters")
	fs.BoolVar(&f.nvmlOnly, "nvml-only", false, "sample NVLink counters only; attach to no process")
	fs.BoolVar(&f.noAnalyze, "no-analyze", false, "do not write the profile, timeline and report when done")
	fs.StringVar(&f.user, "user", "", "run the launched command as `USER` (default: sudo's caller, else root)")
	fs.StringVar(&f.readyFile, "ready-file", "", "create `FILE` once the probes are attached (for scripts)")
	fs.DurationVar(&f.stallAt, "stall-after", defaultStallAfter,
		"report a collective stalled after `DURATION` with ranks missing or links flat (0: off)")
	fs.StringVar(&f.onStall, "on-stall", "", "run shell `CMD` once at the first stall (LINKPROF_STALL_PIDS etc. set; output in DIR/on-stall.log)")
	f.link.register(fs)
	f.fleet.register(fs)
	f.nics.register(fs)
}

func runRecord(args []string) error {
	var f recordFlags
	fs := newFlags("record")
	f.register(fs)
	if err := parseFlags(fs, recordUsage, args); err != nil {
		return err
	}
	cfg, err := f.config(fs)
	if err != nil {
		return err
	}
	if err := profiler.CheckPrivileges(); err != nil {
		return err
	}
	sampler, closeSampler, err := f.link.open(f.noNVML, f.nvmlOnly)
	if err != nil {
		return err
	}
	defer closeSampler()
	cfg.Sampler = sampler
	nics, closeNICs, err := f.nics.open(cfg)
	if err != nil {
		return err
	}
	defer closeNICs()
	cfg.NICs = nics
	keeper, err := f.fleet.start(&cfg, !f.noAnalyze)
	if err != nil {
		return err
	}
	defer keeper.close()
	if keeper.metrics != nil && f.nics.sampler != nil {
		keeper.metrics.WatchNICs(f.nics.sampler)
	}
	return record(cfg, keeper.finish)
}

// config checks the flags and builds the recorder's configuration.
func (f *recordFlags) config(fs *pflag.FlagSet) (profiler.Config, error) {
	command := commandAfterDash(fs)
	if err := f.check(fs, command); err != nil {
		return profiler.Config{}, err
	}
	pids, err := toPids(f.pids)
	if err != nil {
		return profiler.Config{}, err
	}
	cred, env, err := launchIdentity(f.user, len(command) > 0)
	if err != nil {
		return profiler.Config{}, err
	}
	dir := f.dir
	if dir == "" {
		dir = trace.DefaultDir(time.Now())
	}
	return profiler.Config{
		Pids: pids, PidOf: f.pidOf, All: f.all, Children: f.children, Command: command,
		Duration: f.duration, Dir: dir, Force: f.force, Args: os.Args, NoTargetsOK: f.nvmlOnly,
		Probe:  profiler.ProbeOptions{RingBytes: f.ringMiB << 20, Stacks: f.stacks},
		Status: os.Stderr, StatusTTY: term.IsTerminal(int(os.Stderr.Fd())), StatusWidth: stderrWidth, Credential: cred,
		CommandEnv: env, Ready: readyFileCreator(f.readyFile), StallAfter: f.stallAt, OnStall: f.onStall,
	}, nil
}

// check checks the flags against each other and their limits.
func (f *recordFlags) check(fs *pflag.FlagSet, command []string) error {
	targets := len(f.pids) > 0 || f.pidOf != "" || f.all || len(command) > 0
	switch {
	case fs.NArg() > len(command):
		return usagef("record: unexpected argument %q (put the command after --)", fs.Arg(0))
	case f.nvmlOnly && targets:
		return usagef("record: --nvml-only records no process; drop the targets")
	case f.nvmlOnly && f.noNVML:
		return usagef("record: --nvml-only and --no-nvml contradict each other")
	case !targets && !f.nvmlOnly:
		return usagef("record: nothing to record: give -p PID, --pid-of NAME, --all or -- COMMAND")
	case f.ringMiB == 0 || f.ringMiB&(f.ringMiB-1) != 0 || f.ringMiB > maxRingMiB:
		return usagef("record: --ring-size must be a power of two from 1 to %d (MiB), got %d", maxRingMiB, f.ringMiB)
	case f.duration < 0:
		return usagef("record: --duration must be positive")
	case f.stallAt < 0:
		return usagef("record: --stall-after must be positive (0 turns stall detection off)")
	case f.onStall != "" && f.stallAt == 0:
		return usagef("record: --on-stall needs stall detection: drop --stall-after 0")
	}
	if err := f.link.check(f.noNVML); err != nil {
		return err
	}
	if err := f.nics.check(); err != nil {
		return err
	}
	if err := f.fleet.check(fs, f.pidOf, len(command) > 0); err != nil {
		return err
	}
	return checkReadyFile(f.readyFile)
}

// checkReadyFile refuses a --ready-file that exists: linkprof creates it,
// and never replaces or removes what is there.
func checkReadyFile(path string) error {
	if path == "" {
		return nil
	}
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return fmt.Errorf("--ready-file %s exists: give a path that does not (linkprof creates it)", path)
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("checking --ready-file: %w", err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return fmt.Errorf("--ready-file %s: its folder does not exist", path)
	}
	return nil
}

// readyFileCreator tells a script that recording has begun.
func readyFileCreator(path string) func() {
	if path == "" {
		return nil
	}
	// Never through a planted symbolic link, never over a file that
	// appeared since checkReadyFile. Created by linkprof itself, not as
	// sudo's caller: it signals the process that started linkprof, and may
	// lie in that process's private folder (linkprof collect's does).
	return func() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
		if err != nil {
			slog.Warn("creating ready file", "err", err)
			return
		}
		f.Close()
	}
}

func commandAfterDash(fs *pflag.FlagSet) []string {
	if at := fs.ArgsLenAtDash(); at >= 0 {
		return fs.Args()[at:]
	}
	return nil
}

// Limits of record's numeric flags.
const (
	maxPid     = 1 << 22                     // the kernel's PID_MAX_LIMIT
	maxRingMiB = profiler.MaxRingBytes >> 20 // a ring's size is a 32-bit power of two
)

// toPids checks -p values: a pid past the kernel's limit would wrap to
// another process in 32 bits.
func toPids(in []uint) ([]uint32, error) {
	out := make([]uint32, len(in))
	for i, p := range in {
		if p == 0 || p > maxPid {
			return nil, usagef("record: -p %d is not a process id (1 to %d)", p, maxPid)
		}
		out[i] = uint32(p)
	}
	return out, nil
}

// record runs the recording until Ctrl-C, SIGTERM or a stop condition,
// prints the summary, then hands the last folder written to after (which
// analyses it: folderKeeper.finish).
func record(cfg profiler.Config, after func(dir string) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := profiler.Record(ctx, cfg)
	if sum == nil {
		return err
	}
	printSummary(sum)
	if err != nil {
		return fmt.Errorf("recording ended early: %w (the trace is readable up to that point)", err)
	}
	return after(sum.Dir)
}

func printSummary(s *profiler.Summary) {
	w := os.Stderr
	fmt.Fprintf(w, "recorded %s: %d events from %d processes (%d with NCCL), lost %d, stopped by %s\n",
		s.Duration.Truncate(time.Millisecond), s.Events, s.Processes, s.NCCLProcs, s.Lost, s.Reason)
	kinds := make([]trace.Kind, 0, len(s.ByKind))
	for k := range s.ByKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	var calls, other []string
	for _, k := range kinds {
		part := fmt.Sprintf("%s %d", k, s.ByKind[k])
		if k.IsCollective() {
			calls = append(calls, part)
		} else {
			other = append(other, part)
		}
	}
	if len(calls) > 0 {
		fmt.Fprintf(w, "  collective calls (host, capture-time included): %s\n", strings.Join(calls, ", "))
	}
	if len(other) > 0 {
		fmt.Fprintf(w, "  other events: %s\n", strings.Join(other, ", "))
	}
	if s.Lost > 0 {
		fmt.Fprintf(w, "  WARNING: %d events were lost (ring buffer full): try --ring-size %d\n", s.Lost, 2*profiler.DefaultRingBytes>>20)
	}
	if s.ExitStatus != nil {
		fmt.Fprintf(w, "  command exited with status %d\n", *s.ExitStatus)
	}
	fmt.Fprintf(w, "  folder: %s (linkprof report %s)\n", s.Dir, s.Dir)
}

// stderrWidth is the width of the terminal on stderr, 0 when unknown.
func stderrWidth() int {
	w, _, err := term.GetSize(int(os.Stderr.Fd()))
	if err != nil {
		return 0
	}
	return w
}
