package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/timeline"
	"github.com/linkprof/linkprof/trace"
)

const bf16 = trace.DataType(9)

func simDir(t *testing.T) (string, *sim.Truth) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 50, Seed: 9, StepGapNs: 20_000_000, Stacks: true,
		Ops: []sim.Op{
			{Kind: trace.AllReduce, Count: 32 << 20, DType: bf16},
			{Kind: trace.AllReduce, Count: 16 << 10, DType: bf16},
			{Kind: trace.AllGather, Count: 4 << 20, DType: bf16},
		},
		Blobs: []sim.Blob{{AtNs: 116_000_000, GPU: 1, Bytes: 1.5e9}}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, truth
}

func TestWriteAllReportJSON(t *testing.T) {
	dir, truth := simDir(t)
	reportschema.WriteAll(t, dir, false)
	var r report.Report
	readJSON(t, filepath.Join(dir, pipeline.JSONFile), &r)
	if r.Version != report.Version || len(r.Ops) != 11 || len(r.GPUs) != 2 || len(r.Processes) != 2 {
		t.Fatalf("version %d, %d ops, %d gpus, %d processes", r.Version, len(r.Ops), len(r.GPUs), len(r.Processes))
	}
	ar, ag := r.Ops[0], r.Ops[1]
	// 50 steps x 2 ranks x 2 all-reduces; payload per rank as passed.
	if ar.Op != "AllReduce" || ar.Calls != 200 || ar.PayloadBytes != 100*(64<<20+32<<10) {
		t.Errorf("AllReduce %+v", ar)
	}
	if ag.Op != "AllGather" || ag.Calls != 100 || ag.PayloadBytes != 100*(8<<20) {
		t.Errorf("AllGather %+v", ag)
	}
	for _, o := range r.Ops[2:] {
		if o.Calls != 0 || o.TxBytes != 0 {
			t.Errorf("%s: %+v, want nothing", o.Op, o)
		}
	}
	for _, o := range r.Ops[:2] {
		want := truth.OpTx[o.Op]
		if d := float64(o.TxBytes)/want - 1; d > 0.02 || d < -0.02 {
			t.Errorf("%s attributed tx %d, truth %.0f", o.Op, o.TxBytes, want)
		}
	}
	if u := float64(r.Unattributed.TxBytes); u < 0.95*truth.UnexplTx || u > 1.05*truth.UnexplTx {
		t.Errorf("unattributed tx %.0f, want about %.0f", u, truth.UnexplTx)
	}
	if r.Bursts.Labels["unattributed"] != 1 {
		t.Errorf("burst labels %v, want one unattributed burst", r.Bursts.Labels)
	}
	if r.Bursts.Count != 101 || r.Bursts.DurationP50Ns <= 0 || r.Bursts.IdleGapP50Ns < 15_000_000 {
		t.Errorf("bursts %+v", r.Bursts)
	}
	for _, p := range r.Processes {
		if p.Calls != 150 || p.Rank != int(p.Pid-4000) || p.GPU != p.Rank {
			t.Errorf("process %+v", p)
		}
	}
	if len(r.Comms) != 2 || r.Comms[0].NRanks != 2 || r.Comms[0].Calls != 150 {
		t.Errorf("comms %+v", r.Comms)
	}
	wantSizes := map[uint64]uint64{32 << 10: 100, 8 << 20: 100, 64 << 20: 100}
	for _, s := range r.MessageSizes {
		if s.Calls != wantSizes[s.UpperBytes] {
			t.Errorf("size bin %d: %d calls, want %d", s.UpperBytes, s.Calls, wantSizes[s.UpperBytes])
		}
	}
	if r.TopCollectives[0].Op != "AllReduce" || r.TopCollectives[0].Count != 32<<20 || r.TopCollectives[0].Protocol != "Simple" {
		t.Errorf("top %+v", r.TopCollectives[0])
	}
	for _, g := range r.GPUs {
		if g.SampleHz < 990 || g.SampleHz > 1010 || g.FailedSamples != 0 || g.UUID == "" {
			t.Errorf("gpu %+v", g)
		}
	}
}

// Attached to running ranks, linkprof sees no communicator init and no
// RANK in the environment; NVML names each process's GPU. The report still
// attributes the traffic (one rank per GPU) and lists each process with
// its GPU, from the process's last record.
func TestReportAttachedLate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := sim.Write(dir, sim.Config{Ranks: 4, Steps: 50, Seed: 3, StepGapNs: 20_000_000, AttachedLate: true,
		Ops: []sim.Op{{Kind: trace.AllReduce, Count: 32 << 20, DType: bf16}, {Kind: trace.AllGather, Count: 4 << 20, DType: bf16}}})
	if err != nil {
		t.Fatal(err)
	}
	reportschema.WriteAll(t, dir, false)
	var r report.Report
	readJSON(t, filepath.Join(dir, pipeline.JSONFile), &r)
	for _, o := range r.Ops[:2] {
		if d := float64(o.TxBytes)/truth.OpTx[o.Op] - 1; d > 0.02 || d < -0.02 {
			t.Errorf("%s attributed tx %d, truth %.0f", o.Op, o.TxBytes, truth.OpTx[o.Op])
		}
	}
	if len(r.Processes) != 4 {
		t.Fatalf("%d processes, want 4: %+v", len(r.Processes), r.Processes)
	}
	// 50 steps x 4 ranks x 2 ops, every one on a guessed communicator.
	if a := r.Analysis; a.GuessedCommCalls != 400 || a.GuessedNRanks != 4 {
		t.Errorf("analysis %+v, want 400 calls on communicators guessed at 4 ranks", a)
	}
	if len(r.Notes) != 1 || !strings.HasPrefix(r.Notes[0].Text, "400 calls ran on communicators created before linkprof attached: their size was taken as 4") {
		t.Errorf("notes %+v", r.Notes)
	}
	for _, p := range r.Processes {
		if want := int(p.Pid - 4000); p.GPU != want || p.Rank != want {
			t.Errorf("process %d: GPU %d rank %d, want %d and %d", p.Pid, p.GPU, p.Rank, want, want)
		}
	}
}

func TestWriteAllFiles(t *testing.T) {
	dir, _ := simDir(t)
	reportschema.WriteAll(t, dir, false)
	if err := pipeline.WriteAll(dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second WriteAll without force: %v, want a refusal naming --force", err)
	}
	if err := pipeline.WriteAll(dir, true); err != nil {
		t.Fatalf("with force: %v", err)
	}
	if err := reportschema.CheckFile(filepath.Join(dir, pipeline.JSONFile)); err != nil {
		t.Error(err)
	}
	p := readProfile(t, dir)
	if p.DefaultSampleType != "nvlink_tx" || len(p.SampleType) != 8 || p.SampleType[5].Type != "wait" ||
		p.SampleType[6].Type != "net_tx" || p.SampleType[7].Type != "net_rx" {
		t.Errorf("profile types %v default %s", p.SampleType, p.DefaultSampleType)
	}
	var tl timeline.File
	b, _ := os.ReadFile(filepath.Join(dir, pipeline.TimelineFile))
	if err := json.Unmarshal(b, &tl); err != nil {
		t.Fatalf("timeline: %v", err)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, pipeline.TextFile))
	for _, want := range []string{"AllReduce", "AllGather", "unattributed", "bursts: 101", "top collectives"} {
		if !strings.Contains(string(txt), want) {
			t.Errorf("report.txt lacks %q:\n%s", want, txt)
		}
	}
}
