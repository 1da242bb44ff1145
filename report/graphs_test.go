package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/timeline"
	"github.com/linkprof/linkprof/trace"
)

// graphDir records a decode loop served from CUDA graphs (2 ranks, 30
// steps): capture of 2 all-reduces and a custom all-reduce at step 0,
// replays at steps 1-14, the graph destroyed at step 15 and two all-gathers
// captured under the same handles, replayed at steps 16-29; one eager
// broadcast per step; a 1 GB transfer nothing explains.
func graphDir(t *testing.T) (string, *sim.Truth) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 30, Seed: 3, StepGapNs: 12_000_000, LagNs: 300_000, Stacks: true,
		Ops: []sim.Op{{Kind: trace.Broadcast, Count: 1 << 20, DType: bf16}},
		Graph: &sim.Graph{Recapture: 15, Driver: true,
			Ops: []sim.Op{
				{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
				{Kind: trace.CustomAllReduce, Count: 2 << 20, DType: bf16},
				{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16},
			},
			Ops2: []sim.Op{{Kind: trace.AllGather, Count: 2 << 20, DType: bf16}, {Kind: trace.AllGather, Count: 2 << 20, DType: bf16}}},
		Blobs: []sim.Blob{{AtNs: 200_000_000, GPU: 0, Bytes: 1e9}}})
	if err != nil {
		t.Fatal(err)
	}
	return dir, truth
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if filepath.Base(path) == pipeline.JSONFile {
		if err := reportschema.Check(b); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
}

// readProfile parses the folder's profile.pb.gz.
func readProfile(t *testing.T, dir string) *profile.Profile {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, pipeline.ProfileFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runOn analyzes dir with the engines spread over procs threads.
func runOn(t *testing.T, dir string, procs int) *report.Report {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	out := reportschema.Run(t, dir, correlate.Options{})
	return out.Report
}

func TestGraphReport(t *testing.T) {
	dir, truth := graphDir(t)
	reportschema.WriteAll(t, dir, false)
	var r report.Report
	readJSON(t, filepath.Join(dir, pipeline.JSONFile), &r)
	// Per rank: 30 eager broadcasts; 14 launches x (2 all-reduces + 1
	// custom); 14 launches x 2 all-gathers. Capture-time calls not counted.
	want := map[string]uint64{"AllReduce": 2 * 14 * 2, "CustomAllReduce": 2 * 14, "AllGather": 2 * 14 * 2, "Broadcast": 2 * 30}
	for _, o := range r.Ops {
		if o.Calls != want[o.Op] || o.Calls != truth.Calls[o.Op] || o.PayloadBytes != truth.Payload[o.Op] {
			t.Errorf("%s: %d calls, %d payload; want %d calls, %d payload", o.Op, o.Calls, o.PayloadBytes, want[o.Op], truth.Payload[o.Op])
		}
		if tx := truth.OpTx[o.Op]; float64(o.TxBytes) < 0.98*tx || float64(o.TxBytes) > 1.03*tx {
			t.Errorf("%s: %d tx bytes attributed, truth %.0f", o.Op, o.TxBytes, tx)
		}
	}
	if r.Ops[len(r.Ops)-1].Op != "CustomAllReduce" {
		t.Errorf("last op %q, want CustomAllReduce", r.Ops[len(r.Ops)-1].Op)
	}
	a := r.Analysis
	if a.CapturedCalls != 2*5 || a.ReplayedCalls != 2*14*5 || a.GraphLaunches != 2*28 {
		t.Errorf("analysis %+v", a)
	}
	if len(r.Graphs) != 4 {
		t.Fatalf("graphs %+v", r.Graphs)
	}
	for i, g := range r.Graphs {
		ops, destroyed := "AllReduce CustomAllReduce AllReduce", true
		if i >= 2 {
			ops, destroyed = "AllGather AllGather", false
		}
		var got []string
		for _, c := range g.Captured {
			got = append(got, c.Op)
		}
		if strings.Join(got, " ") != ops || g.Launches != 14 || g.Destroyed != destroyed || g.Handle != sim.GraphHandle(int(g.Pid-sim.Pid(0))) {
			t.Errorf("graph %+v", g)
		}
	}
	checkHints(t, &r)
	txt, _ := os.ReadFile(filepath.Join(dir, pipeline.TextFile))
	for _, s := range []string{"CustomAllReduce", "CUDA graphs: 4, 56 launches, 140 collectives replayed (in ops), 10 capture-time calls",
		"2 x AllGather", "AllReduce, CustomAllReduce, AllReduce", "route through NCCL: VLLM_ALLREDUCE_USE_SYMM_MEM=0"} {
		if !strings.Contains(string(txt), s) {
			t.Errorf("report.txt lacks %q:\n%s", s, txt)
		}
	}
	checkPhases(t, dir)
	checkTimeline(t, dir)
}

// The 1 GB transfer stays unattributed, so the report names the paths
// outside NCCL calls; graph replay is not among them (every launch was
// expanded), custom all-reduce is, with the calls recorded.
func checkHints(t *testing.T, r *report.Report) {
	t.Helper()
	var names []string
	for _, h := range r.Unattributed.Hints {
		names = append(names, h.Path)
		if custom := strings.HasSuffix(h.Path, "custom all-reduce"); custom && h.CallsSeen != 2*14 || !custom && h.CallsSeen != 0 {
			t.Errorf("hint %+v: want the 28 custom all-reduces seen for custom all-reduce, none otherwise", h)
		}
	}
	want := "vllm custom all-reduce|torch symmetric memory all-reduce|sglang custom all-reduce|" +
		"flashinfer all-reduce|deepep dispatch/combine|pplx dispatch/combine|nvshmem stream collectives"
	if strings.Join(names, "|") != want {
		t.Errorf("hints %v, want %s", names, want)
	}
}

// Every sample carries its phase; captures carry calls and payload but
// no link bytes or GPU time.
func checkPhases(t *testing.T, dir string) {
	t.Helper()
	p := readProfile(t, dir)
	calls, tx := map[string]int64{}, map[string]int64{}
	for _, s := range p.Sample {
		if s.Label["op"][0] == "unattributed" {
			continue
		}
		ph := s.Label["phase"][0]
		calls[ph] += s.Value[0]
		tx[ph] += s.Value[2]
		if ph == "graph-capture" && s.Value[2]+s.Value[3]+s.Value[4] != 0 {
			t.Errorf("capture sample with link bytes or gpu time: %v", s.Value)
		}
	}
	if calls["eager"] != 60 || calls["graph-replay"] != 140 || calls["graph-capture"] != 10 || len(calls) != 3 || tx["graph-replay"] == 0 {
		t.Errorf("calls per phase %v, tx %v", calls, tx)
	}
}

// Launches are on the host track; replays only on the GPU track, with
// their graph.
func checkTimeline(t *testing.T, dir string) {
	t.Helper()
	var tl timeline.File
	readJSON(t, filepath.Join(dir, pipeline.TimelineFile), &tl)
	count := map[string]int{}
	for _, e := range tl.TraceEvents {
		count[e.Cat]++
		if e.Cat == "gpu" && e.Args["phase"] == "graph-replay" {
			count["replay"]++
			if g, _ := e.Args["graph"].(float64); g < 1 || g > 4 {
				t.Errorf("replay slice %+v", e)
			}
		}
	}
	if count["graph-launch"] != 56 || count["replay"] != 140 || count["host"] != 60 || count["graph-capture"] != 10 {
		t.Errorf("timeline events per category %v", count)
	}
}

// Expansion runs before events are dealt to engines: the split changes
// nothing.
func TestGraphShardedMatchesSingle(t *testing.T) {
	dir, _ := graphDir(t)
	one, three := runOn(t, dir, 1), runOn(t, dir, 3)
	if !reflect.DeepEqual(one.Graphs, three.Graphs) || one.Analysis != three.Analysis {
		t.Errorf("graphs or analysis differ:\n%+v\n%+v", one.Graphs, three.Graphs)
	}
	for i := range one.Ops {
		if a, b := one.Ops[i], three.Ops[i]; a.Calls != b.Calls || diff(a.TxBytes, b.TxBytes) > 1 {
			t.Errorf("%s: %+v vs %+v", a.Op, a, b)
		}
	}
}

// Traffic the collectives explain needs no hint; report.json still has the
// (empty) list.
func TestNoHintsWhenExplained(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	if _, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 10, Seed: 3, StepGapNs: 12_000_000,
		Ops: []sim.Op{{Kind: trace.AllReduce, Count: 8 << 20, DType: bf16}}}); err != nil {
		t.Fatal(err)
	}
	reportschema.WriteAll(t, dir, false)
	b, _ := os.ReadFile(filepath.Join(dir, pipeline.JSONFile))
	txt, _ := os.ReadFile(filepath.Join(dir, pipeline.TextFile))
	if !strings.Contains(string(b), `"hints": []`) || strings.Contains(string(txt), "outside NCCL") || strings.Contains(string(txt), "CUDA graphs") {
		t.Errorf("report.json or report.txt has hints or graphs:\n%s", txt)
	}
}
