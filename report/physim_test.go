package report_test

import (
	"cmp"
	"flag"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/physim"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// opBound is the per-op error (attributed link TX over the simulator's
// truth) each scenario must stay within, on seeds 1-20 of every rank count
// with a margin (-physim.seeds=20; the worst cases are in
// docs/attribution.md, section 10). 2% is the goal; where a bound is
// wider, docs/attribution.md ("Limits") says why:
//   - twocomms: an all-reduce and an all-gather of two communicators (and
//     a reduce-scatter and an all-reduce) only ever run together, so no
//     observable splits their bytes but the protocol table, and the
//     simulator may run the two of a pair with different protocols (the
//     all-gather LL128, the all-reduce Simple): the pair's sum is right,
//     its split is the table's. AllGather and ReduceScatter have wider
//     bounds; the all-reduces of the pairs share the misfit, but are most
//     of AllReduce's bytes only on 8 ranks (-1.5% at worst). twocomms-solo
//     runs each op of the pairs alone too, as the GPU phase mix does, and
//     every op meets 2%.
//
// opBoundOf overrides a scenario's bound for one op.
var (
	opBound = map[string]float64{
		"phasemix": 0.02, "twocomms": 0.02, "twocomms-solo": 0.02, "served": 0.02, "served-graphs-seen": 0.02,
		"served-graphs-before": 0.02, "straggler": 0.01,
	}
	opBoundOf = map[[2]string]float64{
		{"twocomms", "AllGather"}:             0.08,
		{"twocomms", "ReduceScatter"}:         0.05,
		{"served-graphs-before", "CUDAGraph"}: 0.01,
	}
)

// phaseBound is how far the bytes a phase's burst gives the phase's ops
// may be from what the phase moved: per phase, not per op, so it holds
// where two ops that always run together are split wrongly (twocomms).
const phaseBound = 0.02

func bound(scenario, op string) float64 {
	if b, ok := opBoundOf[[2]string{scenario, op}]; ok {
		return b
	}
	return opBound[scenario]
}

// physimSeeds widens TestPhysim from one seed per rank count to seeds
// 1..N on each of 2, 4 and 8 ranks, and logs each scenario's and op's
// worst case:
//
//	go test -run TestPhysim -v ./report/ -args -physim.seeds=20
var physimSeeds = flag.Int("physim.seeds", 0, "run seeds 1..N on 2, 4 and 8 ranks (0: seeds 1, 2, 3 on 2, 4, 8 ranks)")

// TestPhysim runs the analysis on every physim scenario for three seeds
// (2, 4 and 8 ranks) against the simulator's own truth, whose physics
// (protocol thresholds and factors, start delays, lazy first calls, link
// sharing) the model does not know: calls and payload exact, per-op error
// within its bound, at most 5% of the link bytes unattributed beyond what
// truly no collective explains, and the bursts one-to-one with the
// simulated phases, each labelled with the ops that carried it and giving
// its phase's ops their bytes within phaseBound. The
// bounds hold at the scenarios' full length, which -short keeps (the
// whole test takes about 2 s).
func TestPhysim(t *testing.T) {
	var summary []string
	worst := map[[2]string]physimWorst{} // by scenario and op
	for _, name := range physim.Names() {
		for _, s := range physimRuns(name) {
			t.Run(fmt.Sprintf("%s/seed%d/ranks%d", name, s.Seed, s.Ranks), func(t *testing.T) {
				line, ops := runPhysim(t, s)
				summary = append(summary, line)
				for _, o := range ops {
					key := [2]string{name, o.Op}
					if w, ok := worst[key]; !ok || math.Abs(o.ErrTx) > math.Abs(w.err) {
						worst[key] = physimWorst{o.ErrTx, s}
					}
				}
			})
		}
	}
	t.Log("accuracy:\n" + strings.Join(summary, "\n"))
	if *physimSeeds > 0 {
		t.Log("worst per scenario and op:\n" + worstLines(worst))
	}
}

// TestPhysimHardSeeds runs seeds beyond the default three that failed
// once, each for the reason given (the fix is named in the code):
func TestPhysimHardSeeds(t *testing.T) {
	for _, c := range []struct {
		s   physim.Scenario
		why string
	}{
		{physim.Scenario{Name: "served", Seed: 6, Ranks: 4},
			"a chunk cut in the first wave's slow tail gave its last 2.4% to the decode steps after it (learn.go lowPoint)"},
		{physim.Scenario{Name: "served", Seed: 40, Ranks: 2},
			"two waves straddled NCCL's LL/LL128 switch in one 1/32-octave class: one wave 20% short (fit.go fineSteps)"},
		{physim.Scenario{Name: "served-graphs-before", Seed: 40, Ranks: 4},
			"the same, and the decode graph's launches took the short wave's bytes (fit.go fineSteps)"},
		{physim.Scenario{Name: "served-graphs-before", Seed: 20, Ranks: 2},
			"a model behind on a wave kept its chunk open across the next (learn.go settleNs)"},
		{physim.Scenario{Name: "served-graphs-before", Seed: 45, Ranks: 2},
			"a class whose one LL wave was trimmed from the fit stayed whole: the wave got half its bytes (fitsplit.go)"},
		{physim.Scenario{Name: "served", Seed: 26, Ranks: 8},
			"a row cut in a dip of a wave was trimmed, its neighbour kept: a class 2.4% low (fitmerge.go)"},
		{physim.Scenario{Name: "twocomms", Seed: 74, Ranks: 2},
			"a chunk of calls and no bytes pulled their class's factor to 1.64 for 1.98 (fit.go joinLast)"},
		{physim.Scenario{Name: "twocomms", Seed: 8, Ranks: 2},
			"launches ready in a segment's last interval counted in the next phase's row (segment.go couldFinish)"},
	} {
		t.Run(fmt.Sprintf("%s/seed%d/ranks%d", c.s.Name, c.s.Seed, c.s.Ranks), func(t *testing.T) {
			t.Log(c.why)
			runPhysim(t, c.s)
		})
	}
}

// physimWorst is an op's largest error over a scenario's runs.
type physimWorst struct {
	err float64
	s   physim.Scenario
}

func worstLines(worst map[[2]string]physimWorst) string {
	keys := slices.SortedFunc(maps.Keys(worst), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(slices.Index(physim.Names(), a[0]), slices.Index(physim.Names(), b[0])), cmp.Compare(a[1], b[1]))
	})
	var lines []string
	for _, k := range keys {
		w := worst[k]
		lines = append(lines, fmt.Sprintf("%-20s %-14s %+6.2f%% (seed %d, %d ranks), bound %.3g%%",
			k[0], k[1], 100*w.err, w.s.Seed, w.s.Ranks, 100*bound(k[0], k[1])))
	}
	return strings.Join(lines, "\n")
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

func runPhysim(t *testing.T, s physim.Scenario) (string, []physim.OpScore) {
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
		if b := bound(s.Name, o.Op); math.Abs(o.ErrTx) > b {
			t.Errorf("%s: attributed TX %.0f, truth %.0f: error %+.2f%% beyond %.3g%%", o.Op, o.GotTx, o.TruthTx, 100*o.ErrTx, 100*b)
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
		if got, want := p.PhaseBytes(); want > 0 && math.Abs(got/want-1) > phaseBound {
			t.Errorf("phase on GPU %d %q: its burst gave its ops %.0f bytes, truth %.0f: %+.2f%%",
				p.Window.GPU, p.Window.Name, got, want, 100*(got/want-1))
		}
	}
	line := fmt.Sprintf("%-20s seed %d, %d ranks: worst op %s %+6.2f%%, unattributed %5.2f%% (truly unexplained %4.2f%%), "+
		"bursts: %d phases, %d detected, %d matched, %d labels agree",
		s.Name, s.Seed, s.Ranks, ops.Worst().Op, 100*ops.Worst().ErrTx, 100*ops.UnattributedShare, 100*ops.TruthUnexplainedShare,
		b.Truth, b.Detected, len(b.Pairs), b.LabelsAgree)
	return line, ops.Ops
}

// reportBursts is report.json's burst list on the monotonic clock.
func reportBursts(r *report.Report, originNs int64) []physim.Detected {
	var out []physim.Detected
	for _, b := range r.Bursts.List {
		start := originNs + b.StartNs
		ops := map[string]float64{}
		for _, o := range b.Ops {
			ops[o.Op] += float64(o.TxBytes + o.RxBytes)
		}
		out = append(out, physim.Detected{GPU: b.GPU, StartNs: start, EndNs: start + b.DurationNs, Label: b.Label, Ops: ops})
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
