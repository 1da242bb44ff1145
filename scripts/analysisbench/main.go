// Command analysisbench measures the analysis's memory and speed on
// recordings of one process calling NCCL at full rate (issue 11): it
// writes recordings of N calls, with and without NVML samples of one GPU at
// 1 kHz, then times `linkprof report --json` on each as a separate process
// and prints a table of wall time per event and peak RSS.
//
//	go run ./scripts/analysisbench -linkprof bin/linkprof -calls 1000000,10000000
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("linkprof", "bin/linkprof", "the linkprof binary to time")
	calls := flag.String("calls", "1000000,10000000", "comma-separated call counts")
	dir := flag.String("dir", "", "where to write the recordings (default: a temporary folder, removed after)")
	keep := flag.Bool("keep", false, "keep the recordings")
	flag.Parse()
	if err := run(*bin, *calls, *dir, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "analysisbench:", err)
		os.Exit(1)
	}
}

func run(bin, calls, dir string, keep bool) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "analysisbench")
		if err != nil {
			return err
		}
		dir = d
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	fmt.Println("| calls | NVML samples | trace | wall | CPU | us per event | peak RSS |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|")
	for _, field := range strings.Split(calls, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n <= 0 {
			return fmt.Errorf("-calls: %q is not a positive count", field)
		}
		for _, samples := range []bool{false, true} {
			rec := filepath.Join(dir, fmt.Sprintf("calls-%d-samples-%v", n, samples))
			spec := recording{calls: n, samples: samples}
			if err := spec.write(rec); err != nil {
				return fmt.Errorf("writing %s: %w", rec, err)
			}
			if err := timeReport(bin, rec, spec); err != nil {
				return err
			}
			if !keep {
				os.RemoveAll(rec)
			}
		}
	}
	return nil
}

// timeReport runs `linkprof report --json REC` and prints its row.
func timeReport(bin, rec string, spec recording) error {
	cmd := exec.Command(bin, "report", "--json", rec)
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s report %s: %w", bin, rec, err)
	}
	wall := time.Since(t0)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fi, err := os.Stat(filepath.Join(rec, "trace.lpt"))
	if err != nil {
		return err
	}
	events := float64(spec.calls)
	fmt.Printf("| %d | %d | %.0f MB | %.2f s | %.2f s | %.2f | %d MiB |\n", spec.calls, spec.sampleCount(),
		float64(fi.Size())/1e6, wall.Seconds(), cpu.Seconds(), wall.Seconds()*1e6/events, ru.Maxrss/1024)
	return nil
}
