// Command attribcheck measures attribution accuracy on a recording of
// scripts/gpu/phasemix.py or torch_attrib.py (docs/validation.md). The
// ground truth of an op is the NVLink DATA_TX its phases moved (each phase
// runs one kind of collective between idle gaps), summed over the ranks'
// GPUs; a phase of two ops at once is split by each op's bytes per call in
// the solo phase it names (per_call_from). linkprof's answer is
// report.json's attributed bytes per op. It also checks that every phase
// is one burst per GPU, labelled with the phase's ops.
//
//	go run ./scripts/gpu/attribcheck REC_DIR phases.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/linkprof/linkprof/trace"
)

type phaseOps struct {
	Calls        int     `json:"calls"`
	PayloadBytes float64 `json:"payload_bytes"`
}

type phase struct {
	Phase       string              `json:"phase"`
	Ops         map[string]phaseOps `json:"ops"`
	StartWall   float64             `json:"start_wall"`
	EndWall     float64             `json:"end_wall"`
	PerCallFrom map[string]string   `json:"per_call_from"`
	moved       float64             // DATA_TX over the ranks' GPUs
}

type reportJSON struct {
	Ops []struct {
		Op    string `json:"op"`
		Calls uint64 `json:"calls"`
		Tx    uint64 `json:"nvlink_tx_bytes"`
	} `json:"ops"`
	Unattributed struct {
		Tx uint64 `json:"nvlink_tx_bytes"`
	} `json:"unattributed"`
	GPUs []struct {
		Index   int    `json:"index"`
		TxBytes uint64 `json:"tx_bytes"`
	} `json:"gpus"`
	Bursts struct {
		List []burst `json:"list"`
	} `json:"bursts"`
}

type burst struct {
	GPU        int    `json:"gpu"`
	StartNs    int64  `json:"start_ns"`
	DurationNs int64  `json:"duration_ns"`
	Label      string `json:"label"`
}

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
	var ph struct {
		World  int     `json:"world"`
		Phases []phase `json:"phases"`
	}
	if err := readJSON(phasesPath, &ph); err != nil {
		return err
	}
	var rep reportJSON
	if err := readJSON(filepath.Join(dir, "report.json"), &rep); err != nil {
		return err
	}
	truth := map[string]float64{}
	var phaseTotal float64
	byName := map[string]*phase{}
	for i := range ph.Phases {
		p := &ph.Phases[i]
		for gpu := 0; gpu < ph.World; gpu++ {
			p.moved += txDuring(tr.Samples, uint32(gpu), *p)
		}
		byName[p.Phase] = p
	}
	for _, p := range ph.Phases {
		phaseTotal += p.moved
		for op, share := range shares(p, byName) {
			truth[op] += p.moved * share
		}
	}
	if err := printTable(rep, truth, phaseTotal, ph.World); err != nil {
		return err
	}
	printBursts(tr, rep, ph.Phases, ph.World)
	return nil
}

// shares splits a phase's bytes over its ops: by each op's bytes per call
// in the solo phase named in per_call_from, else by payload (the old
// phases that mix ops pair equal sizes whose ring bytes are equal).
func shares(p phase, byName map[string]*phase) map[string]float64 {
	weight := map[string]float64{}
	total := 0.0
	for op, o := range p.Ops {
		w := o.PayloadBytes
		if op == "Recv" {
			w = 0 // the truth is link TX: a receive sends nothing
		}
		if ref := byName[p.PerCallFrom[op]]; ref != nil && ref.Ops[op].Calls > 0 {
			w = float64(o.Calls) * ref.moved / float64(ref.Ops[op].Calls)
		}
		weight[op] = w
		total += w
	}
	for op := range weight {
		weight[op] /= total
	}
	return weight
}

// txDuring is a GPU's DATA_TX change from its last sample before the phase
// to its last sample before the phase's end plus time for the GPU to finish.
func txDuring(samples []trace.Sample, gpu uint32, p phase) float64 {
	var before, last *trace.Sample
	for i := range samples {
		s := &samples[i]
		if s.GPU != gpu || !s.OK() {
			continue
		}
		t := float64(s.WallUs) / 1e6
		if t < p.StartWall-0.02 {
			before = s
		}
		if t <= p.EndWall+0.15 {
			last = s
		}
	}
	if before == nil || last == nil {
		return 0
	}
	return float64(last.DataTxKiB-before.DataTxKiB) * 1024
}

func printTable(rep reportJSON, truth map[string]float64, phaseTotal float64, world int) error {
	var total uint64
	for _, g := range rep.GPUs {
		if g.Index < world {
			total += g.TxBytes
		}
	}
	ops := make([]string, 0, len(truth))
	for op := range truth {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	fmt.Printf("| op | link bytes in its phases (truth) | attributed by linkprof | attributed / truth |\n|---|---:|---:|---:|\n")
	var attributed uint64
	for _, op := range ops {
		var got uint64
		for _, o := range rep.Ops {
			if o.Op == op {
				got = o.Tx
			}
		}
		attributed += got
		fmt.Printf("| %s | %.0f | %d | %.4f |\n", op, truth[op], got, float64(got)/truth[op])
	}
	fmt.Printf("\nGPU 0-%d TX in the recording %d bytes, in the phases %.0f (%.2f%%); attributed %d (%.2f%%), unattributed %d (%.2f%%)\n",
		world-1, total, phaseTotal, 100*phaseTotal/float64(total), attributed, 100*float64(attributed)/float64(total),
		rep.Unattributed.Tx, 100*float64(rep.Unattributed.Tx)/float64(total))
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}
