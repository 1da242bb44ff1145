package report_test

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// benchDir returns a recording of cfg kept between runs (generating the
// hour-long one takes longer than analyzing it): under
// $LINKPROF_BENCH_DIR, else the temporary folder.
func benchDir(b *testing.B, name string, cfg sim.Config) string {
	b.Helper()
	root := os.Getenv("LINKPROF_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, "linkprof-bench-"+name)
	if complete(dir) {
		return dir
	}
	os.RemoveAll(dir)
	b.Logf("writing %s (once)", dir)
	if _, err := sim.Write(dir, cfg); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchAnalysis is what record runs when it finishes, minus the timeline
// (bounded separately): the analysis pass, profile and report.
func benchAnalysis(b *testing.B, dir string) {
	var events, samples uint64
	for b.Loop() {
		out, err := pipeline.Run(dir, correlate.Options{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := out.Profile.Write(io.Discard); err != nil {
			b.Fatal(err)
		}
		if err := report.WriteJSON(io.Discard, out.Report); err != nil {
			b.Fatal(err)
		}
		events = out.Result.Stats.Events
		samples = 0
		for _, g := range out.Result.GPUs {
			samples += g.Samples
		}
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(samples), "samples")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
}

// BenchmarkAnalyzeHour is issue 3's benchmark: 10M events plus 1 kHz
// samples of 8 GPUs over an hour (a 2.9 GB trace) to profile + report.
func BenchmarkAnalyzeHour(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 2.9 GB trace; run without -short")
	}
	benchAnalysis(b, benchDir(b, "hour", sim.Hour()))
}

// BenchmarkAnalyzeMinute is the same workload for one minute.
func BenchmarkAnalyzeMinute(b *testing.B) {
	cfg := sim.Hour()
	cfg.Steps /= 60
	benchAnalysis(b, benchDir(b, "minute", cfg))
}

// complete reports whether dir holds a trace that was finished: its last
// record is the stop record (read streaming: the hour trace is large).
func complete(dir string) bool {
	f, err := trace.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	var last trace.RecordType
	for {
		rec, err := f.Next()
		if err == io.EOF {
			return last == trace.RecStop && !f.Truncated
		}
		if err != nil {
			return false
		}
		last = rec.Type
	}
}
