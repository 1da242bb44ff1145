package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
	SysSec float64 `json:"sys_s"` // of CPUSec, in the kernel
	// OwnSec is, of CPUSec, what nvmlbench's own process used (the sampler,
	// beside its reader processes).
	OwnSec float64 `json:"own_s"`
	// RunSecs is the time CPUSec was counted over when it is not Secs (a
	// sampler's start and warm-up are in its CPU, not in its reads window).
	RunSecs float64 `json:"run_s,omitempty"`
}

// cpuShare is the CPU used, in cores.
func (r *result) cpuShare() float64 {
	if r.RunSecs > 0 {
		return r.CPUSec / r.RunSecs
	}
	return r.CPUSec / r.Secs
}

// cpuPerRead is the CPU time of one read, in microseconds.
func (r *result) cpuPerRead() float64 {
	if r.total() == 0 {
		return 0
	}
	return r.cpuShare() / r.total() * 1e6
}

// addCPU adds a CPU-time difference to the result.
func (r *result) addCPU(d cpuTime) {
	r.CPUSec += (d.user + d.sys).Seconds()
	r.SysSec += d.sys.Seconds()
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

const header = "%-34s %4s %8s %11s %7s %7s %7s %9s %8s %6s %6s %8s\n"

func printHeader() {
	fmt.Printf(header, "case", "GPUs", "reads/s", "per GPU", "p50 ms", "p99 ms", "CPU %", "CPU %/GPU", "CPU us/rd", "sys %", "own %", "of ceil")
}

// print writes the result's row; ceiling 0 leaves "of ceil" blank.
func (r *result) print(ceiling float64) {
	slices.Sort(r.Lat)
	g := len(r.Reads)
	lo, hi := float64(slices.Min(r.Reads))/r.Secs, float64(slices.Max(r.Reads))/r.Secs
	of := "-"
	if ceiling > 0 {
		of = fmt.Sprintf("%.1f%%", 100*r.total()/ceiling)
	}
	cpu, sys := 100*r.cpuShare(), 0.0
	if r.CPUSec > 0 {
		sys = 100 * r.SysSec / r.CPUSec
	}
	own := "-"
	if r.OwnSec > 0 {
		own = fmt.Sprintf("%.1f", 100*r.OwnSec/r.Secs)
	}
	fmt.Printf("%-34s %4d %8.0f %5.0f-%-5.0f %7.2f %7.2f %7.1f %9.1f %8.0f %6.0f %6s %8s\n", r.Name, g, r.total(), lo, hi,
		r.pct(0.50), r.pct(0.99), cpu, cpu/float64(g), r.cpuPerRead(), sys, own, of)
}

// cpuTime is user and system CPU time.
type cpuTime struct{ user, sys time.Duration }

func (c cpuTime) minus(o cpuTime) cpuTime { return cpuTime{c.user - o.user, c.sys - o.sys} }

func (c cpuTime) plus(o cpuTime) cpuTime { return cpuTime{c.user + o.user, c.sys + o.sys} }

// cpuNow is the process's CPU time.
func cpuNow() cpuTime { return rusage(syscall.RUSAGE_SELF) }

// runningChildrenCPU is the CPU time of this process's running children,
// from /proc (clock ticks of 10 ms; enough over seconds).
func runningChildrenCPU() cpuTime {
	var sum cpuTime
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state is 3rd,
		// ppid 4th, utime 14th and stime 15th of the whole line.
		rest := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(rest) < 13 || rest[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		ut, _ := strconv.ParseInt(rest[11], 10, 64)
		st, _ := strconv.ParseInt(rest[12], 10, 64)
		sum = sum.plus(cpuTime{time.Duration(ut) * 10 * time.Millisecond, time.Duration(st) * 10 * time.Millisecond})
	}
	return sum
}

func rusage(who int) cpuTime {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return cpuTime{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())}
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
		usPerRead := b.cpuPerRead()
		fmt.Printf("best with %d GPUs: %s, %.0f reads/s (%.1f%% of the ceiling), %.0f-%.0f per GPU; "+
			"5%% of a core per GPU allows %.0f reads/s per GPU at %.0f us CPU per read\n",
			g, b.Name, b.total(), 100*b.total()/ceiling, float64(slices.Min(b.Reads))/b.Secs,
			float64(slices.Max(b.Reads))/b.Secs, 0.05e6/usPerRead, usPerRead)
	}
}
