package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/term"

	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/profiler/fakenccl"
)

const demoUsage = "demo [-o DIR] [--steps N] [--rotate PERIOD [--keep N]] [--metrics ADDR]"

// demoSchedule is the simulated link's ground truth inside the folder.
const demoSchedule = "simulated-link.txt"

func init() {
	register(command{name: "demo", summary: "record the built-in demo workload (fake NCCL, simulated NVLink)", run: runDemo})
}

func runDemo(args []string) error {
	fs := newFlags("demo")
	dir := fs.StringP("output", "o", "", "write the recording to `DIR` (default: linkprof-demo-DATE-TIME)")
	steps := fs.Int("steps", 400, "decode steps per rank")
	force := fs.Bool("force", false, "write into a non-empty output folder, replacing files")
	var fleet fleetFlags // to try continuous mode and metrics without a GPU
	fleet.register(fs)
	fs.MarkHidden("watch") // the demo launches its workload
	if err := parseFlags(fs, demoUsage, args); err != nil {
		return err
	}
	if err := fleet.check(fs, "", true); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo: unexpected argument %q", fs.Arg(0))
	}
	if *steps <= 0 {
		return usagef("demo: --steps must be positive")
	}
	if err := profiler.CheckPrivileges(); err != nil {
		return err
	}
	if *dir == "" {
		*dir = "linkprof-demo-" + time.Now().Format("20060102-150405")
	}
	cfg, cleanup, err := demoConfig(*dir, *steps, *force)
	if err != nil {
		return err
	}
	defer cleanup()
	keeper, err := fleet.start(&cfg, true)
	if err != nil {
		return err
	}
	defer keeper.close()
	fmt.Fprintf(os.Stderr, "demo: 2-rank tensor-parallel decode loop on a fake NCCL, NVLink simulated\n")
	var last string
	if err := record(cfg, func(dir string) error { last = dir; return keeper.finish(dir) }); err != nil {
		return err
	}
	return printReport(last)
}

// demoConfig builds the demo programs and a launch-mode recording of them;
// cleanup removes the build and closes the simulated link.
func demoConfig(dir string, steps int, force bool) (cfg profiler.Config, cleanup func(), err error) {
	schedule, err := filepath.Abs(filepath.Join(dir, demoSchedule))
	if err != nil {
		return cfg, nil, err
	}
	build, err := os.MkdirTemp("", "linkprof-demo-")
	if err != nil {
		return cfg, nil, fmt.Errorf("creating build folder: %w", err)
	}
	progs, err := fakenccl.Build(build)
	if err != nil {
		os.RemoveAll(build)
		return cfg, nil, err
	}
	sampler, err := simulatedSampler(schedule, 2)
	if err != nil {
		os.RemoveAll(build)
		return cfg, nil, err
	}
	cfg = profiler.Config{
		Command: []string{progs.Demo},
		CommandEnv: append(os.Environ(), "DEMO_NCCL="+progs.Lib, "DEMO_SCHEDULE="+schedule,
			fmt.Sprintf("DEMO_STEPS=%d", steps)),
		Children: true, Dir: dir, Force: force, Args: os.Args, Workload: "demo", Simulated: true,
		Probe:  profiler.ProbeOptions{RingBytes: profiler.DefaultRingBytes},
		Status: os.Stderr, StatusTTY: term.IsTerminal(int(os.Stderr.Fd())), StatusWidth: stderrWidth, Sampler: sampler,
	}
	return cfg, func() { sampler.Close(); os.RemoveAll(build) }, nil
}

// printReport shows the text report written into the folder.
func printReport(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	if err != nil {
		return nil // analysis not available: the summary was printed already
	}
	_, err = os.Stdout.Write(data)
	return err
}
