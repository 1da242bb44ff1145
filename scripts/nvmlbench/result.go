package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"
)

// result is one measurement: reads per GPU over secs, each call's latency,
// and the CPU time the measured code used.
type result struct {
	Name   string  `json:"name"`
	Reads  []int   `json:"reads"` // good reads per GPU
	Secs   float64 `json:"secs"`
	Lat    []int64 `json:"lat"` // ns per call
	CPUSec float64 `json:"cpu_s"`
}

func (r *result) total() float64 {
	t := 0.0
	for _, n := range r.Reads {
		t += float64(n)
	}
	return t / r.Secs
}

func (r *result) pct(p float64) float64 {
	if len(r.Lat) == 0 {
		return 0
	}
	return float64(r.Lat[int(p*float64(len(r.Lat)-1))]) / 1e6
}

const header = "%-34s %4s %8s %11s %7s %7s %7s %9s %8s %8s\n"

func printHeader() {
	fmt.Printf(header, "case", "GPUs", "reads/s", "per GPU", "p50 ms", "p99 ms", "CPU %", "CPU %/GPU", "CPU us/rd", "of ceil")
}

// print writes the result's row; ceiling 0 leaves "of ceil" blank.
func (r *result) print(ceiling float64) {
	slices.Sort(r.Lat)
	g := len(r.Reads)
	lo, hi := float64(slices.Min(r.Reads))/r.Secs, float64(slices.Max(r.Reads))/r.Secs
	of, usPerRead := "-", 0.0
	if ceiling > 0 {
		of = fmt.Sprintf("%.1f%%", 100*r.total()/ceiling)
	}
	if n := r.total() * r.Secs; n > 0 {
		usPerRead = r.CPUSec / n * 1e6
	}
	cpu := 100 * r.CPUSec / r.Secs
	fmt.Printf("%-34s %4d %8.0f %5.0f-%-5.0f %7.2f %7.2f %7.1f %9.1f %8.0f %8s\n", r.Name, g, r.total(), lo, hi,
		r.pct(0.50), r.pct(0.99), cpu, cpu/float64(g), usPerRead, of)
}

// cpuNow is the process's user+system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuChildren is the user+system CPU time of the children reaped so far.
func cpuChildren() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// summary prints, per GPU count, the sampler case with the most reads and
// the rate per GPU that 5% of a core allows at its CPU cost per read.
func summary(all []*result, ceiling float64) {
	fmt.Println()
	best := map[int]*result{}
	for _, r := range all {
		g := len(r.Reads)
		if !strings.HasPrefix(r.Name, "sampler") || strings.Contains(r.Name, "hz") {
			continue
		}
		if b := best[g]; b == nil || r.total() > b.total() {
			best[g] = r
		}
	}
	for _, g := range []int{1, 2, 4, 8} {
		b := best[g]
		if b == nil {
			continue
		}
		usPerRead := b.CPUSec / (b.total() * b.Secs) * 1e6
		fmt.Printf("best with %d GPUs: %s, %.0f reads/s (%.1f%% of the ceiling), %.0f-%.0f per GPU; "+
			"5%% of a core per GPU allows %.0f reads/s per GPU at %.0f us CPU per read\n",
			g, b.Name, b.total(), 100*b.total()/ceiling, float64(slices.Min(b.Reads))/b.Secs,
			float64(slices.Max(b.Reads))/b.Secs, 0.05e6/usPerRead, usPerRead)
	}
}
