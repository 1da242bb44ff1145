package correlate_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/physim"
	"github.com/linkprof/linkprof/trace"
)

// analyzePhysim simulates s and analyzes it: the per-op scores and the
// fit's report.
func analyzePhysim(t *testing.T, s physim.Scenario) (*physim.Truth, map[string]physim.OpScore, []correlate.FitRow) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := physim.Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollect()
	res, err := correlate.Analyze(dir, correlate.Options{}, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []physim.Attributed
	for op, tx := range c.tx {
		name := op
		if op == trace.GraphLaunch.Op() {
			name = physim.HiddenGraphOp // as the report names them (correlate.OpName)
		}
		got = append(got, physim.Attributed{Op: name, TxBytes: uint64(tx), RxBytes: uint64(c.rx[op])})
	}
	ops := map[string]physim.OpScore{}
	for _, o := range physim.ScoreOps(truth, got, uint64(c.unTx)).Ops {
		ops[o.Op] = o
	}
	return truth, ops, res.Fit
}

// The first learning pass models the GPU with the protocol table's
// factors. physim twocomms seed 8 on 2 ranks runs its uneven all-to-all's
// grouped sends and receives Simple (1.00) where the table says 1.18: the
// model runs the group about 10% long. One pass fitted the 16 KiB
// all-reduces of the next phase 1.735 for the simulator's 2.04 and put
// Send 6.6% high; a second pass, modelling with the fitted factors, 1.797
// and +3.8%. Both because the launches left unserved at the phase's end
// (ready during its last active interval, behind one the link served
// short) counted in the next phase's row; they now count in the segment
// they were ready to run in (segment.go, couldFinish).
func TestLearnAgainWithFittedFactors(t *testing.T) {
	truth, ops, fit := analyzePhysim(t, physim.Scenario{Name: "twocomms", Seed: 8, Ranks: 2})
	if o := ops["Send"]; math.Abs(o.ErrTx) > 0.005 {
		t.Errorf("Send: attributed TX %.0f, truth %.0f: %+.2f%%", o.GotTx, o.TruthTx, 100*o.ErrTx)
	}
	ll := truth.Protocols.Factor[0]
	found := false
	for _, r := range fit {
		if r.Op == "AllReduce" && r.SizeBucket == "16KiB" {
			found = true
			if math.Abs(r.Fitted/ll-1) > 0.01 {
				t.Errorf("AllReduce 16 KiB fitted %.3f, the simulator's LL %.3f", r.Fitted, ll)
			}
		}
	}
	if !found {
		t.Error("no fit of AllReduce 16 KiB")
	}
}

// A learning pass after the first models no class with a factor above the
// table's: a factor too high makes the model fall further behind the link
// with every call and its rows stop being cut. physim served seed 19 on 2
// ranks fits its decode all-reduces 2.22 for the simulator's 1.99; modelled
// at that, the next pass fitted 2.88 and AllReduce came out -2.7%.
func TestLearnModelsNoFactorAboveTable(t *testing.T) {
	_, ops, _ := analyzePhysim(t, physim.Scenario{Name: "served", Seed: 19, Ranks: 2})
	if o := ops["AllReduce"]; math.Abs(o.ErrTx) > 0.01 {
		t.Errorf("AllReduce: attributed TX %.0f, truth %.0f: %+.2f%%", o.GotTx, o.TruthTx, 100*o.ErrTx)
	}
}

// A chunk of a long segment ends settleNs after its last wave even when
// the model still runs part of the wave: physim served-graphs-before seed
// 20 on 2 ranks runs a prefill wave of 1 MiB all-reduces LL128 (1.054)
// where the table says LL (2.0). The model, behind, kept the chunk open to
// the next wave 340 ms later, of 2.3 MiB all-reduces, and the fit, seeing
// the two classes only together, gave them 1.634 and 0.796; the decode
// graph's launches queued behind the first wave then ran in the second,
// labelled AllReduce+CUDAGraph.
func TestChunkEndsAfterTheWaveSettles(t *testing.T) {
	truth, _, fit := analyzePhysim(t, physim.Scenario{Name: "served-graphs-before", Seed: 20, Ranks: 2})
	ll128 := truth.Protocols.Factor[1]
	seen := map[string]bool{}
	for _, r := range fit {
		if r.Op != "AllReduce" || (r.SizeBucket != "1MiB" && r.SizeBucket != "2.38MiB") {
			continue
		}
		seen[r.SizeBucket] = true
		if math.Abs(r.Fitted/ll128-1) > 0.01 {
			t.Errorf("AllReduce %s fitted %.3f, the simulator's LL128 %.3f", r.SizeBucket, r.Fitted, ll128)
		}
	}
	if len(seen) != 2 {
		t.Errorf("fitted AllReduce classes %v, want 1MiB and 2.38MiB", seen)
	}
}

// A chunk's wave has settled only where the link ran slow since it: in a
// segment mostly of waves (physim served-graphs-before seed 26 on 8 ranks,
// a prefill wave paused 46 ms for a late rank) lowPoint ended a "wave"
// where it only slowed, and counting the calls still to run there in the
// chunk left the decode graph's launch-only rows short: CUDAGraph +10%.
func TestSettledOnlyWhereTheLinkRanSlow(t *testing.T) {
	_, ops, _ := analyzePhysim(t, physim.Scenario{Name: "served-graphs-before", Seed: 26, Ranks: 8})
	o, ok := ops["CUDAGraph"]
	if !ok || math.Abs(o.ErrTx) > 0.01 {
		t.Errorf("CUDAGraph: attributed TX %.0f, truth %.0f: %+.2f%% (scored %v)", o.GotTx, o.TruthTx, 100*o.ErrTx, ok)
	}
}
