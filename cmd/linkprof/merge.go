package main

import (
	"fmt"
	"os"

	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/merge"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/trace"
)

const mergeUsage = "merge -o OUT DIR DIR..."

func init() {
	register(command{name: "merge", summary: "merge the recordings of one job's hosts into one recording and analyze it", run: runMerge})
}

func runMerge(args []string) error {
	fs := newFlags("merge")
	out := fs.StringP("output", "o", "", "the merged recording folder (required)")
	force := fs.Bool("force", false, "write into a folder that is not empty, replacing its files")
	clock := fs.String("clock", merge.ClockAuto, "how each host's clock is placed on the first's: collectives "+
		"(the median difference of the collectives they share), wall (their wall clocks, kept together by NTP or PTP), "+
		"or auto (wall where it agrees with the collectives within 10 ms, else collectives)")
	af := addAnalysisFlags(fs)
	if err := parseFlags(fs, mergeUsage, args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return usagef("merge: give the merged folder with -o (usage: linkprof %s)", mergeUsage)
	case fs.NArg() < 2:
		return usagef("merge: give two recording folders or more, one per host (usage: linkprof %s)", mergeUsage)
	}
	opts, err := af.options()
	if err != nil {
		return err
	}
	if *clock != merge.ClockAuto && *clock != merge.ClockCollectives && *clock != merge.ClockWall {
		return usagef("merge: --clock must be auto, collectives or wall, got %q", *clock)
	}
	hosts, err := merge.Merge(merge.Options{Dirs: fs.Args(), Out: *out, Force: *force, Clock: *clock, Args: os.Args})
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if err := pipeline.WriteAllOptions(*out, *force, opts); err != nil {
		return err
	}
	fmt.Printf("merged %d recordings into %s (report.txt, report.json, report.html, profile.pb.gz, timeline.json)\n", len(hosts), *out)
	for _, h := range hosts {
		fmt.Println(" ", hostLine(h, hosts[0].Name))
	}
	return nil
}

// hostLine says where a host's GPUs went and how its clock was placed.
func hostLine(h trace.Host, ref string) string {
	line := fmt.Sprintf("%s (%s): no GPU", h.Name, h.Folder)
	if h.GPUs > 0 {
		line = fmt.Sprintf("%s (%s): GPUs %d-%d (its 0-%d)", h.Name, h.Folder, h.GPUBase, h.GPUBase+h.GPUs-1, h.GPUs-1)
	}
	if h.Index == 0 {
		line += ", the reference clock"
	} else {
		line += fmt.Sprintf(", clock %s ahead of %s's by the %s; %d collectives shared, arrivals then %s apart (spread %s), wall clocks %s",
			units.Duration(h.OffsetNs), ref, h.Clock, h.Collectives, units.Duration(h.CollectiveSkewNs),
			units.Duration(h.SpreadNs), units.Duration(h.WallSkewNs))
	}
	if h.Truncated {
		line += ", cut short (no Stop record)"
	}
	return line
}
