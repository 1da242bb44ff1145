package correlate_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/linkprof/linkprof/correlate"
)

type printSink struct{ lo, hi int64 }

func (p printSink) Call(c *correlate.Call) {
	if c.GPU == 0 && c.EnqueueNs > 4239680000000 && c.EnqueueNs < 4239746000000 && c.Count > 100000 {
		fmt.Printf("call %s count %d enq %d launch %d start %d end %d exp %.3g got %.3g complete %v\n", c.Kind, c.Count, c.EnqueueNs/1000, c.LaunchNs/1000, c.StartNs/1000, c.EndNs/1000, c.ExpTx, c.TxBytes, c.Complete)
	}
}
func (p printSink) Interval(iv *correlate.Interval) {
	if iv.GPU == 0 && iv.UnTx > 1e6 {
		fmt.Printf("iv %d-%d tx %.3g un %.3g\n", iv.StartNs/1000, iv.EndNs/1000, iv.TxBytes, iv.UnTx)
	}
}
func (p printSink) Burst(b *correlate.Burst) {}

func TestZZPrint(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	res, err := correlate.Analyze(os.Getenv("ZZ"), correlate.Options{}, printSink{})
	_ = res
	if err != nil {
		t.Fatal(err)
	}
}
