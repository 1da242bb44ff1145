package main

import (
	"fmt"
	"os"

	"github.com/linkprof/linkprof/pipeline"
)

// analyzeRecording writes the profile, timeline and report of a finished
// recording into its folder.
func analyzeRecording(dir string) error {
	fmt.Fprintf(os.Stderr, "analyzing: writing profile.pb.gz, timeline.json, report.txt, report.json, report.html\n")
	if err := pipeline.WriteAll(dir, true); err != nil {
		return fmt.Errorf("analyzing %s: %w (the trace is intact: retry with linkprof report %s)", dir, err, dir)
	}
	return nil
}
