// Command bench measures what linkprof costs the process it records and
// prints a table (make bench). Needs root. Figures are ratios to the floor
// measured in the same run: these machines are shared and noisy.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"

	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/profiler/fakenccl"
	"github.com/linkprof/linkprof/trace"
)

func main() {
	calls := flag.Int("calls", 200000, "calls per cost measurement")
	runs := flag.Int("runs", 5, "repetitions (the median is shown)")
	rate := flag.Int("rate", 200000, "calls per second for the lost-event run")
	secs := flag.Int("seconds", 10, "length of the lost-event run")
	flag.Parse()
	if err := run(*calls, *runs, *rate, *secs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(calls, runs, rate, secs int) error {
	dir, err := os.MkdirTemp("", "linkprof-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progs, err := fakenccl.Build(dir)
	if err != nil {
		return err
	}
	b := &bench{progs: progs, dir: dir, calls: calls}
	rows := []struct {
		name    string
		measure func() (float64, error)
	}{
		{"no probe", b.plain},
		{"empty uprobe (floor)", b.emptyProbe},
		{"linkprof record", func() (float64, error) { return b.recorded(false) }},
		{"linkprof record --stacks", func() (float64, error) { return b.recorded(true) }},
	}
	results := make([]float64, len(rows))
	for i, r := range rows {
		if results[i], err = median(runs, r.measure); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
	}
	floor := results[1]
	fmt.Printf("probe cost, %d calls of ncclAllReduce in a tight loop, median of %d runs\n\n", calls, runs)
	fmt.Printf("| %-26s | %12s | %13s |\n|---|---:|---:|\n", "", "ns per call", "/ floor")
	for i, r := range rows {
		fmt.Printf("| %-26s | %12.1f | %12.3fx |\n", r.name, results[i], results[i]/floor)
	}
	return b.lost(rate, secs)
}

type bench struct {
	progs *fakenccl.Programs
	dir   string
	calls int
	seq   int
}

func median(n int, f func() (float64, error)) (float64, error) {
	var xs []float64
	for i := 0; i < n; i++ {
		x, err := f()
		if err != nil {
			return 0, err
		}
		xs = append(xs, x)
	}
	sort.Float64s(xs)
	return xs[len(xs)/2], nil
}

// loopCost runs the driver's tight loop and returns its own ns per call.
func (b *bench) loopCost() (float64, error) {
	out, err := exec.Command(b.progs.Driver, "loop", strconv.Itoa(b.calls)).Output()
	if err != nil {
		return 0, err
	}
	return parseNsPerCall(string(out))
}

func parseNsPerCall(out string) (float64, error) {
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "ns_per_call" {
			return strconv.ParseFloat(f[i+1], 64)
		}
	}
	return 0, fmt.Errorf("driver printed %q", out)
}

func (b *bench) plain() (float64, error) { return b.loopCost() }

// emptyProbe attaches a program that does nothing, the same way linkprof
// attaches its own: the cost of the uprobe trap alone.
func (b *bench) emptyProbe() (float64, error) {
	spec := &ebpf.ProgramSpec{Type: ebpf.Kprobe, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}
	multi := features.HaveBPFLinkUprobeMulti() == nil
	if multi {
		spec.AttachType = ebpf.AttachTraceUprobeMulti
	}
	prog, err := ebpf.NewProgram(spec)
	if err != nil {
		return 0, err
	}
	defer prog.Close()
	ex, err := link.OpenExecutable(b.progs.Lib)
	if err != nil {
		return 0, err
	}
	var l link.Link
	if multi {
		l, err = ex.UprobeMulti([]string{"ncclAllReduce"}, prog, nil)
	} else {
		l, err = ex.Uprobe("ncclAllReduce", prog, nil)
	}
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return b.loopCost()
}

// recorded runs the loop under a real recording (launch mode).
func (b *bench) recorded(stacks bool) (float64, error) {
	b.seq++
	truth := filepath.Join(b.dir, fmt.Sprintf("truth-%d", b.seq))
	cfg := profiler.Config{Command: []string{b.progs.Driver, "loop", strconv.Itoa(b.calls)},
		CommandEnv: append(os.Environ(), "DRIVER_TRUTH="+truth), Dir: filepath.Join(b.dir, fmt.Sprintf("rec-%d", b.seq)),
		Probe: profiler.ProbeOptions{RingBytes: profiler.DefaultRingBytes, Stacks: stacks}, CommandOutput: io.Discard}
	sum, err := profiler.Record(context.Background(), cfg)
	if err != nil {
		return 0, err
	}
	if sum.Events != uint64(b.calls) {
		return 0, fmt.Errorf("recorded %d events of %d calls (lost %d)", sum.Events, b.calls, sum.Lost)
	}
	data, err := os.ReadFile(truth)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data)) // pid loop n dt
	if len(f) < 4 {
		return 0, fmt.Errorf("truth %q", data)
	}
	dt, _ := strconv.ParseFloat(f[3], 64)
	return dt / float64(b.calls), nil
}

// lost records a paced target for secs seconds and counts every call.
func (b *bench) lost(rate, secs int) error {
	truth := filepath.Join(b.dir, "truth-rate")
	dirRec := filepath.Join(b.dir, "rec-rate")
	cfg := profiler.Config{Command: []string{b.progs.Driver, "rate", strconv.Itoa(rate), strconv.Itoa(secs)},
		CommandEnv: append(os.Environ(), "DRIVER_TRUTH="+truth), Dir: dirRec,
		Probe: profiler.ProbeOptions{RingBytes: profiler.DefaultRingBytes}, CommandOutput: io.Discard}
	start := time.Now()
	sum, err := profiler.Record(context.Background(), cfg)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(truth)
	if err != nil {
		return err
	}
	f := strings.Fields(string(data)) // pid rate n dt
	n, _ := strconv.Atoi(f[2])
	dt, _ := strconv.ParseFloat(f[3], 64)
	tr, err := trace.Load(dirRec)
	if err != nil {
		return err
	}
	fmt.Printf("\nlost events at %d calls/s for %d s (default %d MiB ring buffer)\n\n", rate, secs, profiler.DefaultRingBytes>>20)
	fmt.Printf("| calls made | achieved calls/s | events in trace | lost | wall s |\n|---:|---:|---:|---:|---:|\n")
	fmt.Printf("| %d | %.0f | %d | %d | %.1f |\n", n, float64(n)/(dt/1e9), len(tr.Events), sum.Lost, time.Since(start).Seconds())
	if float64(n)/(dt/1e9) < 0.95*float64(rate) {
		fmt.Printf("\n(the target could not reach %d calls/s: one probed call costs the floor above)\n", rate)
	}
	return nil
}
