package main

import (
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/pipeline"
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
	af := analysisFlags{
		threshold: fs.Float64("burst-threshold", 0, "instead of the recording's own burst rule (docs/attribution.md), "+
			"call intervals above this fraction of the GPU's peak link bandwidth bursts (0: the recording's rule)"),
		gap:         fs.Duration("burst-gap", 0, "ignored: bursts end where the link goes quiet for a few sample periods"),
		noCalibrate: fs.Bool("no-calibrate", false, "keep the protocol table's wire factors instead of fitting them (one pass)"),
	}
	_ = fs.MarkDeprecated("burst-gap", "bursts end where the link goes quiet for a few sample periods")
	return af
}

func (a analysisFlags) options() (correlate.Options, error) {
	if t := *a.threshold; !(t >= 0 && t <= 1) { // NaN fails both
		return correlate.Options{}, usagef("--burst-threshold must be in [0, 1] (0: the recording's own rule), got %g", *a.threshold)
	}
	return correlate.Options{BurstThreshold: *a.threshold, NoCalibrate: *a.noCalibrate}, nil
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
	out, err := pipeline.Run(dir, opts, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		return report.WriteJSON(os.Stdout, out.Report)
	}
	return report.WriteText(os.Stdout, out.Report)
}
