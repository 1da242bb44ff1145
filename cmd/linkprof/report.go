package main

import (
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/report"
)

const reportUsage = "report DIR [--json]"

func init() {
	register(command{name: "report", summary: "attributed NVLink bytes per op, unattributed, bursts, top collectives", run: runReport})
}

// analysisFlags are the attribution knobs every analysis command shares.
type analysisFlags struct {
	threshold   *float64
	gap         *time.Duration
	noCalibrate *bool
}

func addAnalysisFlags(fs *pflag.FlagSet) analysisFlags {
	return analysisFlags{
		threshold:   fs.Float64("burst-threshold", correlate.DefaultBurstThreshold, "busy above this fraction of the GPU's peak link bandwidth"),
		gap:         fs.Duration("burst-gap", correlate.DefaultBurstGapNs, "merge bursts separated by less idle time"),
		noCalibrate: fs.Bool("no-calibrate", false, "keep the protocol wire factors of docs/nccl-facts.md instead of fitting them"),
	}
}

func (a analysisFlags) options() (correlate.Options, error) {
	if *a.threshold <= 0 || *a.threshold > 1 {
		return correlate.Options{}, usagef("--burst-threshold must be in (0, 1], got %g", *a.threshold)
	}
	if *a.gap <= 0 {
		return correlate.Options{}, usagef("--burst-gap must be positive, got %s", *a.gap)
	}
	return correlate.Options{BurstThreshold: *a.threshold, BurstGapNs: int64(*a.gap), NoCalibrate: *a.noCalibrate}, nil
}

// oneDir parses a command that takes one recording folder.
func oneDir(fs *pflag.FlagSet, usage string, args []string) (string, error) {
	if err := parseFlags(fs, usage, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", usagef("%s: give one recording folder (usage: linkprof %s)", fs.Name(), usage)
	}
	return fs.Arg(0), nil
}

func runReport(args []string) error {
	fs := newFlags("report")
	asJSON := fs.Bool("json", false, "print report.json (the contract in docs/design.md) instead of text")
	af := addAnalysisFlags(fs)
	dir, err := oneDir(fs, reportUsage, args)
	if err != nil {
		return err
	}
	opts, err := af.options()
	if err != nil {
		return err
	}
	out, err := report.Run(dir, opts, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		return report.WriteJSON(os.Stdout, out.Report)
	}
	return report.WriteText(os.Stdout, out.Report)
}
