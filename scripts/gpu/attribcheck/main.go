// Command attribcheck measures attribution accuracy on a recording of
// scripts/gpu/phasemix.py or torch_attrib.py (docs/validation.md). The
// ground truth of an op is the link TX its phases moved, from the
// recording's own samples (internal/phasetruth); linkprof's answer is
// report.json's attributed bytes per op. It also checks that every phase
// is one burst per GPU, labelled with the phase's ops.
//
// With -link net it checks the network link instead (NCCL's network
// transport, scripts/gpu/validate_net.sh): the truth is the sampled NICs'
// TX per phase, the answer each op's net_tx_bytes, and each phase must be
// one burst of the network link.
//
//	go run ./scripts/gpu/attribcheck [-link net] REC_DIR phases.json
package main

import (
	"flag"
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
	link := flag.String("link", "nvlink", "the link to check: nvlink or net")
	flag.Parse()
	if flag.NArg() != 2 || *link != "nvlink" && *link != "net" {
		fmt.Fprintln(os.Stderr, "usage: attribcheck [-link nvlink|net] REC_DIR phases.json")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *link == "net"); err != nil {
		fmt.Fprintln(os.Stderr, "attribcheck:", err)
		os.Exit(1)
	}
}

func run(dir, phasesPath string, net bool) error {
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
	if !net {
		truth := ph.Measure(tr.Samples)
		printTable(nvlinkView(rep, ph), truth, ph)
		printBursts(tr, rep, ph)
		return nil
	}
	if rep.Net == nil {
		return fmt.Errorf("%s: no network link in report.json (no NIC sampled: record --nics)", dir)
	}
	printTable(netView(rep), ph.MeasureNet(tr), ph)
	printNetBursts(tr, rep, ph)
	return nil
}

// linkView is one link's figures in a report.
type linkView struct {
	name         string
	ops          []report.Op
	total, unatt uint64
	attributed   func(report.Op) uint64
}

func nvlinkView(rep *report.Report, ph *phasetruth.Phases) linkView {
	var total uint64
	for _, g := range rep.GPUs {
		if g.Index < ph.World {
			total += g.TxBytes
		}
	}
	return linkView{name: fmt.Sprintf("GPU 0-%d TX", ph.World-1), ops: rep.Ops, total: total, unatt: rep.Unattributed.TxBytes,
		attributed: func(o report.Op) uint64 { return o.TxBytes }}
}

func netView(rep *report.Report) linkView {
	var nics []string
	for _, n := range rep.Net.NICs {
		nics = append(nics, n.Name)
	}
	return linkView{name: "network TX (" + strings.Join(nics, "+") + ")", ops: rep.Ops, total: rep.Net.TxBytes,
		unatt: rep.Net.Unattributed.NetTxBytes, attributed: func(o report.Op) uint64 { return o.NetTxBytes }}
}

func printTable(v linkView, truth map[string]float64, ph *phasetruth.Phases) {
	var phaseTotal float64
	for _, p := range ph.Phases {
		phaseTotal += p.Moved
	}
	ops := make([]string, 0, len(truth))
	for op, x := range truth {
		if x > 0 {
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	fmt.Printf("| op | link bytes in its phases (truth) | attributed by linkprof | attributed / truth | calls issued in phases | calls counted |\n|---|---:|---:|---:|---:|---:|\n")
	var attributed uint64
	for _, op := range ops {
		var got, calls uint64
		for _, o := range v.ops {
			if o.Op == op {
				got, calls = v.attributed(o), o.Calls
			}
		}
		attributed += got
		fmt.Printf("| %s | %.0f | %d | %.4f | %d | %d |\n", op, truth[op], got, float64(got)/truth[op], ph.Calls(op), calls)
	}
	fmt.Println("\n(calls counted: executed calls of the whole recording, so NCCL's AllReduce also counts the warm-ups and the barriers between phases)")
	fmt.Printf("\n%s in the recording %d bytes, in the phases %.0f (%.2f%%); attributed %d (%.2f%%), unattributed %d (%.2f%%)\n",
		v.name, v.total, phaseTotal, 100*phaseTotal/float64(v.total), attributed, 100*float64(attributed)/float64(v.total),
		v.unatt, 100*float64(v.unatt)/float64(v.total))
}

// printBursts lists, per phase and GPU, the bursts in the phase's window.
func printBursts(tr *trace.Trace, rep *report.Report, ph *phasetruth.Phases) {
	fmt.Printf("\n| phase | GPU | bursts | label | expected |\n|---|---:|---:|---|---|\n")
	one, agree, n := 0, 0, 0
	for _, p := range ph.Phases {
		lo, hi := p.Window(tr.Start.Clock)
		want := p.OpSet()
		for gpu := range ph.World {
			labels := labelsIn(rep.Bursts.List, gpu, lo, hi)
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

// printNetBursts lists, per phase, the network link's bursts in its window.
func printNetBursts(tr *trace.Trace, rep *report.Report, ph *phasetruth.Phases) {
	fmt.Printf("\n| phase | network bursts | label | expected |\n|---|---:|---|---|\n")
	one, agree := 0, 0
	for _, p := range ph.Phases {
		lo, hi := p.Window(tr.Start.Clock)
		want := p.OpSet()
		labels := labelsIn(rep.Net.BurstList, -1, lo, hi)
		if len(labels) == 1 {
			one++
			if phasetruth.SameOps(labels[0], want) {
				agree++
			}
		}
		fmt.Printf("| %s | %d | %s | %s |\n", p.Name, len(labels), strings.Join(labels, ", "), want)
	}
	fmt.Printf("\nphases: %d; exactly one network burst: %d; one with the expected label: %d\n", len(ph.Phases), one, agree)
}

func labelsIn(list []report.BurstRow, gpu int, lo, hi int64) []string {
	var labels []string
	for _, b := range list {
		if b.GPU == gpu && b.StartNs+b.DurationNs > lo && b.StartNs < hi {
			labels = append(labels, b.Label)
		}
	}
	return labels
}
