// Command phasebytes compares a recording's NVLink DATA_TX per phase of
// scripts/gpu/torch_known.py with the ring-algorithm bytes the script
// expected (docs/validation.md). It reads the folder only, so it runs on any
// machine:
//
//	go run ./scripts/gpu/phasebytes REC_DIR issued.json
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/linkprof/linkprof/trace"
)

type phase struct {
	Phase     string  `json:"phase"`
	Wire      float64 `json:"wire_bytes_per_rank"`
	StartWall float64 `json:"start_wall"`
	EndWall   float64 `json:"end_wall"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: phasebytes REC_DIR issued.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "phasebytes:", err)
		os.Exit(1)
	}
}

func run(dir, issuedPath string) error {
	tr, err := trace.Load(dir)
	if err != nil {
		return err
	}
	var issued struct {
		Ranks []phase `json:"ranks"`
	}
	data, err := os.ReadFile(issuedPath)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &issued); err != nil {
		return fmt.Errorf("reading %s: %w", issuedPath, err)
	}
	fmt.Println("| phase | expected bytes | GPU 0 DATA_TX bytes | ratio |\n|---|---:|---:|---:|")
	for _, p := range issued.Ranks {
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
