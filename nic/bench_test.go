package nic

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// The cost of sampling lo (two counters), on this machine's real sysfs:
//
//	go test -run - -bench . -benchtime 20000x ./nic/
//
// cpu-ns/round is user + system CPU per round (getrusage), which is what a
// sampler at a given rate costs: rate x cpu-ns/round of a core.

func loSampler(b *testing.B) *Sampler {
	b.Helper()
	all, err := Discover("")
	if err != nil {
		b.Fatal(err)
	}
	devs, err := Select(all, Spec{Names: []string{"lo"}}, Env{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(devs, Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func cpuNs() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkRoundLo is one round as the sampler reads it: each counter
// kept open, read again at offset 0.
func BenchmarkRoundLo(b *testing.B) {
	s := loSampler(b)
	buf := make([]trace.NICSample, 1)
	cpu0 := cpuNs()
	b.ResetTimer()
	for i := range b.N {
		s.Round(uint64(i), buf)
	}
	b.ReportMetric(float64(cpuNs()-cpu0)/float64(b.N), "cpu-ns/round")
}

// BenchmarkReadFileLo reads the same two counters the obvious way, opening
// and closing each file every time (what a script does).
func BenchmarkReadFileLo(b *testing.B) {
	dir := filepath.Join(DefaultRoot, "class", "net", "lo", "statistics")
	cpu0 := cpuNs()
	b.ResetTimer()
	for range b.N {
		for _, f := range []string{"tx_bytes", "rx_bytes"} {
			raw, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := parseDecimal(raw); !ok {
				b.Fatal("not a counter")
			}
		}
	}
	b.ReportMetric(float64(cpuNs()-cpu0)/float64(b.N), "cpu-ns/round")
}

// BenchmarkRunDefaultHz runs the sampler at its default rate for 250 ms
// per iteration: the rate it keeps (rounds/s) and the share of a core it
// takes (cpu-%), into a sink that only counts.
func BenchmarkRunDefaultHz(b *testing.B) {
	s := loSampler(b)
	var sink countSink
	cpu0, t0 := cpuNs(), time.Now()
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		if err := s.RunTo(ctx, &sink); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	wall := time.Since(t0)
	b.ReportMetric(float64(sink.n)/wall.Seconds(), "rounds/s")
	b.ReportMetric(100*float64(cpuNs()-cpu0)/float64(wall.Nanoseconds()), "cpu-%")
}

type countSink struct{ n int }

func (c *countSink) WriteJSON(trace.RecordType, any) error { return nil }
func (c *countSink) WriteNICSamples(s ...trace.NICSample) error {
	c.n++
	return nil
}
