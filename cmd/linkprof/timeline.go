package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/trace"
)

const timelineUsage = "timeline DIR [-o FILE]"

func init() {
	register(command{name: "timeline", summary: "write a Perfetto/Chrome timeline: ranks, modelled GPU work, NVLink counters, bursts", run: runTimeline})
}

func runTimeline(args []string) error {
	fs := newFlags("timeline")
	out := fs.StringP("output", "o", "", "timeline file (default DIR/"+pipeline.TimelineFile+")")
	force := fs.Bool("force", false, "replace an existing file")
	af := addAnalysisFlags(fs)
	dir, err := oneDir(fs, timelineUsage, args)
	if err != nil {
		return err
	}
	opts, err := af.options()
	if err != nil {
		return err
	}
	path := outPath(*out, dir, pipeline.TimelineFile)
	f, err := trace.CreateFile(filepath.Dir(path), filepath.Base(path), *force)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	_, err = pipeline.Run(dir, opts, bw)
	err = errors.Join(err, bw.Flush(), f.Close())
	if err != nil {
		os.Remove(path)
		return err
	}
	fmt.Printf("wrote %s (open it in ui.perfetto.dev)\n", path)
	return nil
}
