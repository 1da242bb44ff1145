package report_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

func TestCompare(t *testing.T) {
	dirs := [2]string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for i, steps := range []int{20, 40} {
		_, err := sim.Write(dirs[i], sim.Config{Ranks: 2, Steps: steps, Seed: 1, StepGapNs: 10_000_000,
			Ops: []sim.Op{{Kind: trace.AllReduce, Count: 16 << 20, DType: bf16}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// A has a report.json (read as is); B is analyzed from its trace.
	reportschema.WriteAll(t, dirs[0], false)
	a, err := pipeline.ForDir(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := pipeline.ForDir(dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := reportschema.CheckReport(b); err != nil {
		t.Error(err)
	}
	var out bytes.Buffer
	if err := report.WriteCompare(&out, "a", "b", a, b); err != nil {
		t.Fatal(err)
	}
	var row []string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "AllReduce" {
			row = f
		}
	}
	// op, calls A, calls B, then payloads and tx as "1.25 GiB", then B/A
	if len(row) != 12 || row[1] != "40" || row[2] != "80" || row[3] != "1.25" || row[11] != "2.00x" {
		t.Errorf("AllReduce row %q in:\n%s", row, out.String())
	}
	if !strings.Contains(out.String(), "count  ") {
		t.Errorf("no burst table:\n%s", out.String())
	}
}

// An op only B has (graphs captured before B's recording: CUDAGraph) is a
// row of the comparison, not dropped because A lacks it.
func TestPairOpsKeepsOpsOnlyBHas(t *testing.T) {
	a := &report.Report{Ops: []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 10}}, {Op: "AllGather"}}}
	b := &report.Report{Ops: []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 5}}, {Op: "AllGather"},
		{Op: "CUDAGraph", Traffic: report.Traffic{Calls: 7}}}}
	got := report.PairOps(a, b)
	if len(got) != 2 || got[0].A.Calls != 10 || got[0].B.Calls != 5 ||
		got[1].A.Op != "CUDAGraph" || got[1].A.Calls != 0 || got[1].B.Calls != 7 {
		t.Fatalf("pairs %+v; want AllReduce 10/5 and CUDAGraph 0/7", got)
	}
}
