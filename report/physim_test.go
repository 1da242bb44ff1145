package report_test

import (
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/physim"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// opBound is the per-op error (attributed link TX over the simulator's
// truth) each scenario must stay within. 2% is the goal; two scenarios do
// not reach it yet, and docs/attribution.md ("Limits") says why:
// collectives of two communicators that always run at the same time share
// each row of the fit, so only the protocol table splits their bytes
// (twocomms), and a graph captured before the recording is counted in the
// row of its launch time while its bytes may run in the next row, which
// summing its launch-only rows evens out except next to prefill waves
// (served-graphs-before).
var opBound = map[string]float64{
	"phasemix": 0.02, "served": 0.02, "served-graphs-seen": 0.02, "straggler": 0.02,
	"twocomms": 0.06, "served-graphs-before": 0.05,
}

// physimSeeds widens TestPhysim from one seed per rank count to seeds
// 1..N on each of 2, 4 and 8 ranks, and logs each scenario's worst case:
// go test -run TestPhysim -v ./report/ -args -physim.seeds=10
var physimSeeds = flag.Int("physim.seeds", 0, "run seeds 1..N on 2, 4 and 8 ranks (0: seeds 1, 2, 3 on 2, 4, 8 ranks)")

// TestPhysim runs the analysis on every physim scenario for three seeds
// (2, 4 and 8 ranks) against the simulator's own truth, whose physics
// (protocol thresholds and factors, start delays, lazy first calls, link
// sharing) the model does not know: calls and payload exact, per-op error
// within opBound, at most 5% of the link bytes unattributed beyond what
// truly no collective explains, and the bursts one-to-one with the
// simulated phases, each labelled with the ops that carried it.
func TestPhysim(t *testing.T) {
	scale := 1.0
	if testing.Short() {
		scale = 0.3
	}
	var summary []string
	worst := map[string]physimWorst{}
	for _, name := range physim.Names() {
		for _, s := range physimRuns(name) {
			s.Scale = scale
			t.Run(fmt.Sprintf("%s/seed%d/ranks%d", name, s.Seed, s.Ranks), func(t *testing.T) {
				line, op := runPhysim(t, s)
				summary = append(summary, line)
				if w := worst[name]; math.Abs(op.ErrTx) >= math.Abs(w.err) {
					worst[name] = physimWorst{op.Op, op.ErrTx, s}
				}
			})
		}
	}
	t.Log("accuracy:\n" + strings.Join(summary, "\n"))
	if *physimSeeds > 0 {
		var lines []string
		for _, name := range physim.Names() {
			w := worst[name]
			lines = append(lines, fmt.Sprintf("%-20s worst op %s %+6.2f%% (seed %d, %d ranks), bound %.0f%%",
				name, w.op, 100*w.err, w.s.Seed, w.s.Ranks, 100*opBound[name]))
		}
		t.Log("worst per scenario:\n" + strings.Join(lines, "\n"))
	}
}

// physimWorst is a scenario's largest per-op error over the runs.
type physimWorst struct {
	op  string
	err float64
	s   physim.Scenario
}

// physimRuns are the seeds and rank counts TestPhysim runs a scenario on.
func physimRuns(name string) []physim.Scenario {
	var out []physim.Scenario
	for i, ranks := range []int{2, 4, 8} {
		if *physimSeeds == 0 {
			out = append(out, physim.Scenario{Name: name, Seed: uint64(i + 1), Ranks: ranks})
			continue
		}
		for seed := range *physimSeeds {
			out = append(out, physim.Scenario{Name: name, Seed: uint64(seed + 1), Ranks: ranks})
		}
	}
	return out
}

func runPhysim(t *testing.T, s physim.Scenario) (string, physim.OpScore) {
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := physim.Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkSimCalls(t, truth, tr)
	out := reportschema.Run(t, dir, correlate.Options{})
	r := out.Report
	var got []physim.Attributed
	for _, o := range r.Ops {
		got = append(got, physim.Attributed{Op: o.Op, TxBytes: o.TxBytes, RxBytes: o.RxBytes})
		var want physim.OpTruth
		if tc := truth.Ops[o.Op]; tc != nil {
			want = *tc
		}
		if o.Op != "CUDAGraph" && (want.Calls != o.Calls || want.Payload != o.PayloadBytes) {
			t.Errorf("%s: %d calls, %d payload; truth %d, %d", o.Op, o.Calls, o.PayloadBytes, want.Calls, want.Payload)
		}
	}
	ops := physim.ScoreOps(truth, got, r.Unattributed.TxBytes)
	for _, o := range ops.Ops {
		if math.Abs(o.ErrTx) > opBound[s.Name] {
			t.Errorf("%s: attributed TX %.0f, truth %.0f: error %+.2f%% beyond %.0f%%", o.Op, o.GotTx, o.TruthTx, 100*o.ErrTx, 100*opBound[s.Name])
		}
	}
	if extra := ops.UnattributedShare - ops.TruthUnexplainedShare; extra > 0.05 {
		t.Errorf("unattributed %.1f%% of link TX, truly unexplained %.1f%%", 100*ops.UnattributedShare, 100*ops.TruthUnexplainedShare)
	}
	b := physim.MatchBursts(truth.Windows, reportBursts(r, truth.StartNs), 2_000_000)
	if !b.OneToOne() || b.LabelsAgree != len(b.Pairs) {
		t.Errorf("bursts: %d phases, %d detected, %d matched, %d labels agree, split %d, merged %d",
			b.Truth, b.Detected, len(b.Pairs), b.LabelsAgree, b.Split, b.Merged)
	}
	for _, p := range b.Pairs {
		if !p.Agree {
			t.Logf("phase on GPU %d %q is %s, burst says %s", p.Window.GPU, p.Window.Name, p.Window.Label, p.Detected.Label)
		}
	}
	line := fmt.Sprintf("%-20s seed %d, %d ranks: worst op %s %+6.2f%%, unattributed %5.2f%% (truly unexplained %4.2f%%), "+
		"bursts: %d phases, %d detected, %d matched, %d labels agree",
		s.Name, s.Seed, s.Ranks, ops.Worst().Op, 100*ops.Worst().ErrTx, 100*ops.UnattributedShare, 100*ops.TruthUnexplainedShare,
		b.Truth, b.Detected, len(b.Pairs), b.LabelsAgree)
	return line, ops.Worst()
}

// reportBursts is report.json's burst list on the monotonic clock.
func reportBursts(r *report.Report, originNs int64) []physim.Detected {
	var out []physim.Detected
	for _, b := range r.Bursts.List {
		start := originNs + b.StartNs
		out = append(out, physim.Detected{GPU: b.GPU, StartNs: start, EndNs: start + b.DurationNs, Label: b.Label})
	}
	return out
}

// checkSimCalls asserts the simulator's own books, read back from the
// trace: executed calls per op and their payload equal the truth's. A
// broadcast whose ncclBroadcast fired inside ncclBcast counts once;
// capture-time calls not at all; each launch of a graph captured in the
// recording counts what its capture issued.
func checkSimCalls(t *testing.T, truth *physim.Truth, tr *trace.Trace) {
	t.Helper()
	calls, payload := map[string]uint64{}, map[string]uint64{}
	captured := map[[2]uint64][]trace.Event{} // by pid, exec
	open := map[uint32][]trace.Event{}        // by pid: the capture being recorded
	var lastBcast = map[uint32]uint64{}
	add := func(e trace.Event) {
		calls[e.Kind.Op()]++
		payload[e.Kind.Op()] += e.PayloadBytes()
	}
	for _, e := range tr.Events {
		switch {
		case e.Kind == trace.StreamBeginCapture:
			open[e.Pid] = []trace.Event{}
		case e.Kind == trace.GraphInstantiate:
			captured[[2]uint64{uint64(e.Pid), e.Aux}] = open[e.Pid]
			delete(open, e.Pid)
		case e.Kind == trace.GraphLaunch:
			for _, c := range captured[[2]uint64{uint64(e.Pid), e.Aux}] {
				add(c)
			}
		case !e.Kind.IsCollective():
		case open[e.Pid] != nil:
			open[e.Pid] = append(open[e.Pid], e)
		case e.Kind == trace.Broadcast && lastBcast[e.Tid] > 0 && e.TsNs-lastBcast[e.Tid] < 50_000:
			lastBcast[e.Tid] = 0 // made inside ncclBcast
		default:
			if e.Kind == trace.Bcast {
				lastBcast[e.Tid] = e.TsNs
			}
			add(e)
		}
	}
	for op, o := range truth.Ops {
		if calls[op] != o.Calls || payload[op] != o.Payload {
			t.Errorf("%s: trace holds %d calls, %d payload; truth %d, %d", op, calls[op], payload[op], o.Calls, o.Payload)
		}
	}
	if len(calls) != len(truth.Ops) {
		t.Errorf("trace ops %v, truth has %d", calls, len(truth.Ops))
	}
}
