// Command attribcheck measures attribution accuracy on a recording of
// scripts/gpu/phasemix.py or torch_attrib.py (docs/validation.md). The
// ground truth of an op is the NVLink DATA_TX its phases moved, from the
// recording's own samples (internal/phasetruth); linkprof's answer is
// report.json's attributed bytes per op. It also checks that every phase
// is one burst per GPU, labelled with the phase's ops.
//
//	go run ./scripts/gpu/attribcheck REC_DIR phases.json
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/linkprof/linkprof/internal/phasetruth"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: attribcheck REC_DIR phases.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "attribcheck:", err)
		os.Exit(1)
	}
}

func run(dir, phasesPath string) error {
	tr, err := trace.Load(dir)
	if err != nil {
		return err
	}
	ph, err := phasetruth.Load(phasesPath)
	if err != nil {
		return err
	}
	rep, err := report.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		return err
	}
	truth := ph.Measure(tr.Samples)
	printTable(rep, truth, ph)
	printBursts(tr, rep, ph)
	return nil
}

func printTable(rep *report.Report, truth map[string]float64, ph *phasetruth.Phases) {
	var total uint64
	for _, g := range rep.GPUs {
		if g.Index < ph.World {
			total += g.TxBytes
		}
	}
	var phaseTotal float64
	for _, p := range ph.Phases {
		phaseTotal += p.Moved
	}
	ops := make([]string, 0, len(truth))
	for op, v := range truth {
		if v > 0 {
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	fmt.Printf("| op | link bytes in its phases (truth) | attributed by linkprof | attributed / truth | calls issued in phases | calls counted |\n|---|---:|---:|---:|---:|---:|\n")
	var attributed uint64
	for _, op := range ops {
		var got, calls uint64
		for _, o := range rep.Ops {
			if o.Op == op {
				got, calls = o.TxBytes, o.Calls
			}
		}
		attributed += got
		fmt.Printf("| %s | %.0f | %d | %.4f | %d | %d |\n", op, truth[op], got, float64(got)/truth[op], ph.Calls(op), calls)
	}
	fmt.Println("\n(calls counted: executed calls of the whole recording, so NCCL's AllReduce also counts the warm-ups and the barriers between phases)")
	fmt.Printf("\nGPU 0-%d TX in the recording %d bytes, in the phases %.0f (%.2f%%); attributed %d (%.2f%%), unattributed %d (%.2f%%)\n",
		ph.World-1, total, phaseTotal, 100*phaseTotal/float64(total), attributed, 100*float64(attributed)/float64(total),
		rep.Unattributed.TxBytes, 100*float64(rep.Unattributed.TxBytes)/float64(total))
}

// printBursts lists, per phase and GPU, the bursts in the phase's window.
func printBursts(tr *trace.Trace, rep *report.Report, ph *phasetruth.Phases) {
	fmt.Printf("\n| phase | GPU | bursts | label | expected |\n|---|---:|---:|---|---|\n")
	one, agree, n := 0, 0, 0
	for _, p := range ph.Phases {
		lo, hi := p.Window(tr.Start.Clock)
		want := p.OpSet()
		for gpu := range ph.World {
			var labels []string
			for _, b := range rep.Bursts.List {
				if b.GPU == gpu && b.StartNs+b.DurationNs > lo && b.StartNs < hi {
					labels = append(labels, b.Label)
				}
			}
			n++
			if len(labels) == 1 {
				one++
				if phasetruth.SameOps(labels[0], want) {
					agree++
				}
			}
			fmt.Printf("| %s | %d | %d | %s | %s |\n", p.Name, gpu, len(labels), strings.Join(labels, ", "), want)
		}
	}
	fmt.Printf("\nphases x GPUs: %d; exactly one burst: %d; one burst with the expected label: %d\n", n, one, agree)
}
