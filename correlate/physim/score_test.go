package physim

import (
	"math"
	"testing"
)

func TestScoreOps(t *testing.T) {
	tr := newTruth(2)
	tr.op("AllReduce").Tx[0], tr.op("AllReduce").Tx[1] = 100, 100
	tr.op("Recv").Rx[1] = 50
	tr.UnexplainedTx[0] = 20
	tr.GPUs[0].TxBytes, tr.GPUs[1].TxBytes = 120, 100
	s := ScoreOps(tr, []Attributed{{Op: "AllReduce", TxBytes: 210}, {Op: "Recv", TxBytes: 22}}, 11)
	want := map[string]float64{"AllReduce": 0.05, "Recv": 0.1}
	for _, o := range s.Ops {
		if math.Abs(o.ErrTx-want[o.Op]) > 1e-9 {
			t.Errorf("%s: error %v, want %v", o.Op, o.ErrTx, want[o.Op])
		}
	}
	if s.UnattributedShare != 0.05 || math.Abs(s.TruthUnexplainedShare-20.0/220) > 1e-9 || s.Worst().Op != "Recv" {
		t.Errorf("%+v", s)
	}
}

func TestMatchBursts(t *testing.T) {
	ms := int64(1_000_000)
	win := []Window{
		{GPU: 0, StartNs: 10 * ms, EndNs: 20 * ms, Label: "AllReduce"},
		{GPU: 0, StartNs: 70 * ms, EndNs: 80 * ms, Label: "Send+Recv"},
		{GPU: 1, StartNs: 10 * ms, EndNs: 20 * ms, Label: "AllGather"},
	}
	got := []Detected{
		{GPU: 0, StartNs: 11 * ms, EndNs: 21 * ms, Label: "AllReduce"},
		{GPU: 0, StartNs: 71 * ms, EndNs: 79 * ms, Label: "Recv+Send"},
		{GPU: 1, StartNs: 9 * ms, EndNs: 14 * ms, Label: "AllGather+AllReduce"},
	}
	b := MatchBursts(win, got, 2*ms)
	if !b.OneToOne() || b.LabelsAgree != 2 {
		t.Errorf("one to one %v, labels agree %d: %+v", b.OneToOne(), b.LabelsAgree, b)
	}
	got = append(got, Detected{GPU: 1, StartNs: 16 * ms, EndNs: 19 * ms}, Detected{GPU: 0, StartNs: 40 * ms, EndNs: 41 * ms})
	b = MatchBursts(win, got, 2*ms)
	if b.OneToOne() || b.Split != 1 || len(b.Extra) != 2 || len(b.Missed) != 0 {
		t.Errorf("split %d extra %d missed %d", b.Split, len(b.Extra), len(b.Missed))
	}
}
