// Command simrec writes a simulated recording (correlate/sim) and can time
// the analysis of one: the benchmark of issue 3 and manual checks of the
// outputs without a GPU.
//
//	go run ./scripts/simrec -o /tmp/tp -preset tp
//	go run ./scripts/simrec -o /tmp/hour -preset hour
//	go run ./scripts/simrec -o /tmp/paths -preset paths
//	go run ./scripts/simrec -analyze /tmp/hour
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

func main() {
	out := flag.String("o", "", "write a simulated recording into this new folder")
	preset := flag.String("preset", "tp", "tp (4 ranks, 200 steps), hour (8 GPUs, 1 kHz, 1 h, 10M events) or paths (custom, symmetric-memory and NCCL all-reduces by size)")
	analyze := flag.String("analyze", "", "analyze this folder to profile + report and print time and peak RSS")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of -analyze here")
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "simrec:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	switch {
	case *out != "":
		err = write(*out, *preset)
	case *analyze != "":
		err = timeAnalysis(*analyze)
	default:
		err = fmt.Errorf("give -o DIR or -analyze DIR")
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "simrec:", err)
		os.Exit(1)
	}
}

func write(dir, preset string) error {
	var cfg sim.Config
	switch preset {
	case "tp":
		cfg = sim.TensorParallel(4, 200)
	case "hour":
		cfg = sim.Hour()
	case "paths":
		cfg = sim.PathMix(3)
	default:
		return fmt.Errorf("unknown preset %q", preset)
	}
	t0 := time.Now()
	truth, err := sim.Write(dir, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d events, %d samples in %s\n", dir, truth.Events, truth.Samples, time.Since(t0).Round(time.Millisecond))
	for op, v := range truth.OpTx {
		fmt.Printf("truth %-10s calls %8d tx %.0f\n", op, truth.Calls[op], v)
	}
	fmt.Printf("truth unexplained tx %.0f\n", truth.UnexplTx)
	return nil
}

// timeAnalysis runs what record runs at the end, minus the timeline.
func timeAnalysis(dir string) error {
	t0 := time.Now()
	out, err := pipeline.Run(dir, correlate.Options{}, nil)
	if err != nil {
		return err
	}
	if err := out.Profile.Write(io.Discard); err != nil {
		return err
	}
	if err := report.WriteJSON(io.Discard, out.Report); err != nil {
		return err
	}
	wall := time.Since(t0)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fi, _ := os.Stat(dir + "/trace.lpt")
	fmt.Printf("| trace | events | samples | wall | cpu | peak RSS | GOMAXPROCS |\n|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %.2f GB | %d | %d | %s | %s | %d MiB | %d |\n", float64(fi.Size())/1e9, out.Result.Stats.Events,
		sumSamples(out.Result), wall.Round(10*time.Millisecond), cpu.Round(10*time.Millisecond), ru.Maxrss/1024, runtime.GOMAXPROCS(0))
	return nil
}

func sumSamples(r *correlate.Result) uint64 {
	var n uint64
	for _, g := range r.GPUs {
		n += g.Samples
	}
	return n
}
