package correlate_test

import (
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/physim"
)

// The grouped sends and receives of an uneven all-to-all, whose chunks
// the simulator sends Simple where the protocol table says LL up to
// 1 MiB, share one column per group shape, so the fit learns the group's
// factor: physim phasemix seed 12 on 8 ranks, Send within 1% of the
// simulator's bytes (-3.85% with a column per size class).
func TestGroupedPointToPointOneColumn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := physim.Write(dir, physim.Scenario{Name: "phasemix", Seed: 12, Ranks: 8})
	if err != nil {
		t.Fatal(err)
	}
	c := newCollect()
	if _, err := correlate.Analyze(dir, correlate.Options{}, c); err != nil {
		t.Fatal(err)
	}
	var got []physim.Attributed
	for op, tx := range c.tx {
		got = append(got, physim.Attributed{Op: op, TxBytes: uint64(tx), RxBytes: uint64(c.rx[op])})
	}
	for _, o := range physim.ScoreOps(truth, got, uint64(c.unTx)).Ops {
		if o.Op == "Send" && (o.ErrTx > 0.01 || o.ErrTx < -0.01) {
			t.Errorf("Send: attributed TX %.0f, truth %.0f: %+.2f%%", o.GotTx, o.TruthTx, 100*o.ErrTx)
		}
	}
}
