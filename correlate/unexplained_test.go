package correlate_test

import (
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/trace"
)

// blobsEvery places unexplained transfers: odd ones in idle time between
// steps, even ones on top of running collectives.
func blobsEvery(n, ranks int, stepNs int64, bytes float64) []sim.Blob {
	var out []sim.Blob
	for i := 1; i <= n; i++ {
		at := int64(i)*3*stepNs + stepNs/2 + 600_000 // inside the step's GPU work
		if i%2 == 1 {
			at = int64(i)*3*stepNs + stepNs/5 // idle: before the step's first call
		}
		out = append(out, sim.Blob{AtNs: at, GPU: i % ranks, Bytes: bytes})
	}
	return out
}

func TestUnexplainedTrafficStaysUnattributed(t *testing.T) {
	cfg := sim.Config{Ranks: 4, Steps: 120, Ops: bigOps, StepGapNs: 40_000_000, SkewNs: 100_000,
		LagNs: 500_000, JitterNs: 100_000, Seed: 3, KeepSegments: true, NoiseBps: 1e8}
	cfg.Blobs = blobsEvery(38, cfg.Ranks, cfg.StepGapNs, 2e9)
	truth, c, _ := run(t, cfg, correlate.Options{})
	if s := rightShare(truth, c); s < 0.98 {
		t.Errorf("right share %.4f < 0.98", s)
	}
	for op, want := range truth.OpTx {
		if got := c.tx[op]; got > want*1.03 {
			t.Errorf("%s: attributed %.4g tx bytes, more than 3%% over the true %.4g: unexplained traffic smeared onto it", op, got, want)
		}
	}
	if c.unTx < 0.95*truth.UnexplTx || c.unRx < 0.95*truth.UnexplRx {
		t.Errorf("unattributed tx %.4g rx %.4g, want >= 95%% of the unexplained %.4g / %.4g", c.unTx, c.unRx, truth.UnexplTx, truth.UnexplRx)
	}
	checkBurstLabels(t, truth, c.bursts)
}

// checkBurstLabels compares each burst's label with what truly crossed the
// link in its span.
func checkBurstLabels(t *testing.T, truth *sim.Truth, bursts []correlate.Burst) {
	t.Helper()
	if len(bursts) == 0 {
		t.Fatal("no bursts")
	}
	var unexpl int
	for _, b := range bursts {
		bytes := map[string]float64{}
		for _, s := range append(truth.Segments, truth.BlobWindows...) {
			if s.GPU != b.GPU || s.EndNs <= b.StartNs || s.StartNs >= b.EndNs {
				continue
			}
			lo, hi := max(s.StartNs, b.StartNs), min(s.EndNs, b.EndNs)
			op := s.Op
			if op == "" {
				op = "unattributed"
			}
			bytes[op] += (s.Tx + s.Rx) * float64(hi-lo) / float64(s.EndNs-s.StartNs)
		}
		want, most := "", -1.0
		for op, v := range bytes {
			if v > most {
				want, most = op, v
			}
		}
		if want == "" {
			want = "unattributed"
		}
		label := b.Label()
		if want == "unattributed" {
			unexpl++
		}
		first := strings.SplitN(label, "+", 2)[0]
		if first != want && bytes[first] < 0.9*most {
			t.Errorf("burst on GPU %d at %d..%d labelled %q, truth %v", b.GPU, b.StartNs, b.EndNs, label, bytes)
		}
	}
	if truth.BlobWindows != nil && unexpl == 0 {
		t.Error("no burst labelled unattributed although unexplained transfers ran alone")
	}
}

func TestCalibrationFitsProtocolFactor(t *testing.T) {
	// 32 back-to-back 3 MiB all-reduces per step whose true wire factor
	// (1.15) is not the protocol table's (Simple, 1.0).
	cfg := sim.Config{Ranks: 4, Steps: 200, Seed: 4, StepGapNs: 5_000_000, JitterNs: 50_000, HostGapNs: 5_000,
		Ops:     repeat(sim.Op{Kind: trace.AllReduce, Count: 1536 << 10, DType: bf16}, 32),
		Factors: map[correlate.Protocol]float64{correlate.Simple: 1.15}}
	truth, c, res := run(t, cfg, correlate.Options{})
	if s := rightShare(truth, c); s < 0.98 {
		t.Errorf("calibrated: right share %.4f < 0.98", s)
	}
	if len(res.Fit) != 1 {
		t.Fatalf("fit rows %+v, want one", res.Fit)
	}
	f := res.Fit[0]
	if f.Op != "AllReduce" || f.Protocol != "Simple" || f.SizeBucket != "3.36MiB" || !f.Applied || f.Fitted < 1.14 || f.Fitted > 1.16 {
		t.Errorf("fit %+v, want AllReduce 3.36MiB (the quarter octave of 3 MiB) applied near 1.15", f)
	}
	_, c, _ = run(t, cfg, correlate.Options{NoCalibrate: true})
	if s := rightShare(truth, c); s >= 0.98 {
		t.Errorf("without calibration right share %.4f: the test cannot tell calibration works", s)
	}
}

func TestGroupedSendRecv(t *testing.T) {
	cfg := sim.Config{Ranks: 4, Steps: 100, Seed: 5, Group: true, StepGapNs: 10_000_000, KeepSegments: true,
		Ops: []sim.Op{{Kind: trace.Send, Count: 32 << 20, DType: bf16}, {Kind: trace.Recv, Count: 32 << 20, DType: bf16}}}
	truth, c, _ := run(t, cfg, correlate.Options{})
	if s := rightShare(truth, c); s < 0.98 {
		t.Errorf("right share %.4f < 0.98: truth %v/%v got %v/%v", s, truth.OpTx, truth.OpRx, c.tx, c.rx)
	}
	if c.calls["Send"] != 400 || c.calls["Recv"] != 400 {
		t.Errorf("calls %v, want 400 Send and 400 Recv", c.calls)
	}
	checkBurstLabels(t, truth, c.bursts)
}

func repeat(op sim.Op, n int) []sim.Op {
	out := make([]sim.Op, n)
	for i := range out {
		out[i] = op
	}
	return out
}
