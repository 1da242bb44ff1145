package report_test

import (
	"bytes"
	"path/filepath"
	"slices"
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

// Two recordings that route 1.5 MiB all-reduces differently (A through
// the custom all-reduce, B through NCCL) compare per path: each row pairs
// with the other side's zero, in one size bucket.
func TestComparePaths(t *testing.T) {
	var reps [2]*report.Report
	for i, k := range []trace.Kind{trace.CustomAllReduce, trace.AllReduce} {
		dir := filepath.Join(t.TempDir(), "rec")
		_, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 10, Seed: 1, StepGapNs: 10_000_000,
			Ops: []sim.Op{{Kind: k, Count: 768 << 10, DType: bf16}, {Kind: trace.AllReduce, Count: 16 << 20, DType: bf16}}})
		if err != nil {
			t.Fatal(err)
		}
		if reps[i], err = pipeline.ForDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	a, b := reps[0], reps[1]
	pairs := report.PairPaths(a, b)
	type row struct {
		path, bucket string
		a, b         uint64
	}
	var got []row
	for _, p := range pairs {
		if p.A.Path != p.B.Path || p.A.SizeBucket != p.B.SizeBucket || p.A.Op != p.B.Op {
			t.Errorf("pair of different rows: %+v / %+v", p.A, p.B)
		}
		got = append(got, row{p.A.Path, p.A.SizeBucket, p.A.Calls, p.B.Calls})
	}
	want := []row{{"nccl", "1MiB-2MiB", 0, 20}, {"custom-all-reduce", "1MiB-2MiB", 20, 0}, {"nccl", "32MiB-64MiB", 20, 20}}
	if !slices.Equal(got, want) {
		t.Fatalf("pairs %+v, want %+v", got, want)
	}
	var out bytes.Buffer
	if err := report.WriteCompare(&out, "a", "b", a, b); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"AllReduce 2 1MiB-2MiB nccl AllReduce 0 20 0.0% 100.0% -",
		"AllReduce 2 1MiB-2MiB custom-all-reduce CustomAllReduce 20 0 100.0% 0.0%"} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), line) {
			t.Errorf("no %q in:\n%s", line, out.String())
		}
	}
}

// When either recording sampled NICs, compare shows the bytes per link
// kind of both (a recording without NICs has NVLink alone) and each op's
// network TX where either side has some.
func TestCompareLinks(t *testing.T) {
	a := &report.Report{
		Ops:  []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 10, Link: report.Link{TxBytes: 700, RxBytes: 700}}}},
		GPUs: []report.GPU{{Index: 0, TxBytes: 900}}}
	a.Unattributed.TxBytes = 200
	b := &report.Report{
		Ops: []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 10, NetBytes: report.NetBytes{NetTxBytes: 600}}},
			{Op: "AllGather", Traffic: report.Traffic{Calls: 4}}},
		Net:   &report.Net{TxBytes: 800},
		Links: []report.LinkTotal{{Link: "nvlink"}, {Link: "net", TxBytes: 800, AttributedTx: 600, UnattributedTx: 200}}}
	var out bytes.Buffer
	if err := report.WriteCompare(&out, "a", "b", a, b); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]+" "+f[1]] = strings.Join(f, " ")
		}
	}
	for key, want := range map[string]string{
		"nvlink 900":  "nvlink 900 B 0 B 0.00x 700 B 0 B",
		"net 0":       "net 0 B 800 B new 0 B 600 B",
		"AllReduce 0": "AllReduce 0 B 600 B new",
	} {
		if rows[key] != want {
			t.Errorf("row %q, want %q in:\n%s", rows[key], want, out.String())
		}
	}
	if strings.Contains(out.String(), "AllGather 0 B 0 B") {
		t.Errorf("an op without network bytes has a net row:\n%s", out.String())
	}
	if report.PairLinks(a, a) != nil {
		t.Error("links compared for two recordings without NICs")
	}
}
