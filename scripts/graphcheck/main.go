// Command graphcheck compares a recording of scripts/gpu_graphs.py with what
// the workload says it issued: per rank, the all-reduces executed (eager
// plus graph replays), their payload, the capture-time calls, and each
// graph's captured collectives and launches, as package graphs expands
// them from the trace alone. It also compares the TensorImpl numel offset
// the workload measured with the one linkprof's extra-probe table assumes.
//
//	sudo ./linkprof record -o /tmp/graphs -- python3 scripts/gpu_graphs.py --out /tmp/issued.json
//	go run ./scripts/graphcheck /tmp/graphs /tmp/issued.json
//
// Exit 0 when everything matches exactly, 1 otherwise.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/linkprof/linkprof/trace"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: graphcheck REC_DIR ISSUED_JSON")
		os.Exit(2)
	}
	bad, err := run(os.Args[1], os.Args[2], os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "graphcheck:", err)
		os.Exit(1)
	}
	if bad > 0 {
		fmt.Printf("%d mismatches\n", bad)
		os.Exit(1)
	}
	fmt.Println("all match")
}

// issued is the part of gpu_graphs.py's output compared here.
type issued struct {
	Ranks []struct {
		Rank              int    `json:"rank"`
		Pid               uint32 `json:"pid"`
		TensorNumelOffset int    `json:"tensor_numel_offset"`
		Expected          struct {
			AllReduce struct {
				Calls        int    `json:"calls"`
				PayloadBytes uint64 `json:"payload_bytes"`
			} `json:"AllReduce"`
			CaptureTimeCalls int `json:"capture_time_calls"`
		} `json:"expected"`
		Graphs []struct {
			Name     string `json:"name"`
			Captured []struct {
				Op    string `json:"op"`
				Count uint64 `json:"count"`
			} `json:"captured"`
			Launches int `json:"launches"`
		} `json:"graphs"`
	} `json:"ranks"`
}

func readIssued(path string) (*issued, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var is issued
	if err := json.Unmarshal(b, &is); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &is, nil
}

func run(dir, issuedPath string, out io.Writer) (int, error) {
	is, err := readIssued(issuedPath)
	if err != nil {
		return 0, err
	}
	tr, err := trace.Load(dir)
	if err != nil {
		return 0, err
	}
	got := measure(tr.Events)
	bad := 0
	for _, r := range is.Ranks {
		m := got[r.Pid]
		if m == nil {
			m = &measured{}
		}
		bad += compare(out, fmt.Sprintf("rank %d (pid %d)", r.Rank, r.Pid), r.Expected.AllReduce.Calls,
			r.Expected.AllReduce.PayloadBytes, r.Expected.CaptureTimeCalls, m)
		var want []string
		for _, g := range r.Graphs {
			want = append(want, graphKey(len(g.Captured), g.Captured[0].Op, g.Captured[0].Count, g.Launches))
		}
		bad += compareGraphs(out, r.Rank, want, m.graphs)
		bad += compareOffset(out, r.Rank, r.TensorNumelOffset)
	}
	return bad, nil
}
