// Command phasebytes compares a recording's NVLink DATA_TX per phase of
// scripts/gpu/torch_known.py with the ring-algorithm bytes the script
// expected (docs/validation.md). It reads the folder only, so it runs on any
// machine:
//
//	go run ./scripts/gpu/phasebytes [-link net] REC_DIR issued.json
//
// With -link net it compares the sampled NICs' TX instead (NCCL's network
// transport between local ranks, scripts/gpu/validate_net.sh): every rank's
// sends cross them, so the expected bytes are the world's ring bytes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/linkprof/linkprof/internal/phasetruth"
	"github.com/linkprof/linkprof/trace"
)

type phase struct {
	Phase     string  `json:"phase"`
	Wire      float64 `json:"wire_bytes_per_rank"`
	StartWall float64 `json:"start_wall"`
	EndWall   float64 `json:"end_wall"`
}

type issued struct {
	World int     `json:"world"`
	Ranks []phase `json:"ranks"`
}

func main() {
	link := flag.String("link", "nvlink", "the counters to compare: nvlink (GPU 0's DATA_TX) or net (the NICs' TX)")
	flag.Parse()
	if flag.NArg() != 2 || *link != "nvlink" && *link != "net" {
		fmt.Fprintln(os.Stderr, "usage: phasebytes [-link nvlink|net] REC_DIR issued.json")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *link == "net"); err != nil {
		fmt.Fprintln(os.Stderr, "phasebytes:", err)
		os.Exit(1)
	}
}

func run(dir, issuedPath string, net bool) error {
	tr, err := trace.Load(dir)
	if err != nil {
		return err
	}
	var is issued
	data, err := os.ReadFile(issuedPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &is); err != nil {
		return fmt.Errorf("reading %s: %w", issuedPath, err)
	}
	if net {
		return netTable(tr, is)
	}
	fmt.Println("| phase | expected bytes | GPU 0 DATA_TX bytes | ratio |\n|---|---:|---:|---:|")
	for _, p := range is.Ranks {
		before, last := bracket(tr.Samples, p)
		if before == nil || last == nil {
			fmt.Printf("| %s | %.0f | no samples | |\n", p.Phase, p.Wire)
			continue
		}
		got := float64(last.DataTxKiB-before.DataTxKiB) * 1024
		fmt.Printf("| %s | %.0f | %.0f | %.4f |\n", p.Phase, p.Wire, got, got/p.Wire)
	}
	return nil
}

// netTable compares each phase's NIC TX with every rank's ring bytes.
func netTable(tr *trace.Trace, is issued) error {
	if len(tr.NICs) == 0 {
		return fmt.Errorf("no NIC sampled in the recording (record --nics)")
	}
	reads := phasetruth.NetReads(tr)
	fmt.Println("| phase | expected bytes (all ranks) | NIC TX bytes | ratio |\n|---|---:|---:|---:|")
	for _, p := range is.Ranks {
		want := float64(is.World) * p.Wire
		got := phasetruth.NetTxDuring(reads, p.StartWall, p.EndWall)
		fmt.Printf("| %s | %.0f | %.0f | %.4f |\n", p.Phase, want, got, got/want)
	}
	return nil
}

// bracket returns GPU 0's last good sample before the phase and its last
// one before the phase's end plus a margin for the GPU to finish.
func bracket(samples []trace.Sample, p phase) (before, last *trace.Sample) {
	for i := range samples {
		s := &samples[i]
		if s.GPU != 0 || !s.OK() {
			continue
		}
		t := float64(s.WallUs) / 1e6
		if t < p.StartWall-0.05 {
			before = s
		}
		if t <= p.EndWall+0.15 {
			last = s
		}
	}
	return before, last
}
