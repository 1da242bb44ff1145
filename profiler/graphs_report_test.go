package profiler

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

// A real recording of graph-driver, analyzed as `linkprof report` does:
// ops[].calls are the collectives the driver executed (eager calls plus
// launches x captured, never capture-time calls), and report.json's
// graphs list what each graph captured and how often it ran, the graph
// made under a destroyed one's handles included.
func TestGraphRecordingReport(t *testing.T) {
	requirePrivileges(t)
	const n, m = 5, 3
	g := buildGraphProgs(t)
	cfg := testConfig(t)
	cfg.Command = []string{g.Driver, "graphs", fmt.Sprint(n), fmt.Sprint(m)}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + filepath.Join(t.TempDir(), "truth"))
	if sum, _ := record(t, cfg, 30*time.Second); sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("graph-driver exit %v", sum.ExitStatus)
	}
	reportschema.WriteAll(t, cfg.Dir, true)
	b, err := os.ReadFile(filepath.Join(cfg.Dir, pipeline.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	// What graph-driver runs (see TestGraphExpansionCounts): eager
	// all-reduces 3 + n, graph A (all-reduce 1000, all-gather 2000, all-reduces
	// 3000 and 11, custom 8192) launched n times, graph B (reduce-scatter)
	// every other iteration, graph C (broadcast) m times, graph D empty.
	want := map[string]uint64{"AllReduce": 3 + n + 3*n, "AllGather": n, "ReduceScatter": (n + 1) / 2, "Broadcast": m, "CustomAllReduce": 1 + n}
	for _, o := range r.Ops {
		if o.Calls != want[o.Op] {
			t.Errorf("%s: %d calls, want %d", o.Op, o.Calls, want[o.Op])
		}
	}
	if a := r.Analysis; a.CapturedCalls != 7 || a.ReplayedCalls != 5*n+(n+1)/2+m || a.GraphLaunches != n+(n+1)/2+m+3 {
		t.Errorf("analysis %+v", a)
	}
	var got []string
	for _, s := range r.Graphs {
		var ops []string
		for _, c := range s.Captured {
			ops = append(ops, c.Op)
		}
		got = append(got, fmt.Sprintf("%d [%s] x%d calls=%d destroyed=%v", s.ID, strings.Join(ops, " "), s.Launches, s.ExecutedCalls, s.Destroyed))
	}
	diffLines(t, got, []string{
		fmt.Sprintf("1 [AllReduce AllGather AllReduce AllReduce CustomAllReduce] x%d calls=%d destroyed=true", n, 5*n),
		fmt.Sprintf("2 [ReduceScatter] x%d calls=%d destroyed=false", (n+1)/2, (n+1)/2),
		fmt.Sprintf("3 [Broadcast] x%d calls=%d destroyed=false", m, m),
		"4 [] x3 calls=0 destroyed=true",
	})
}
