package report

import (
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// BenchmarkAggregatorCall is the report's cost per finished call: its op,
// signature and path row (a served model's mix: runs of decode-size custom
// all-reduces between NCCL all-reduces of prefill sizes).
func BenchmarkAggregatorCall(b *testing.B) {
	calls := make([]correlate.Call, 64)
	for i := range calls {
		c := correlate.Call{Kind: trace.CustomAllReduce, DataType: 9, Count: 4096 << (i % 3), NRanks: 2, GPU: i % 2,
			Complete: true, TxBytes: 8192, RxBytes: 8192}
		if i%16 == 15 {
			c.Kind, c.Count = trace.AllReduce, 8<<20
		}
		c.Payload = c.Count * 2
		c.StartNs, c.EndNs = int64(i)*10_000, int64(i)*10_000+5_000
		calls[i] = c
	}
	a := NewAggregator()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := &calls[i%len(calls)]
		c.StartNs += 640_000
		c.EndNs += 640_000
		a.Call(c)
	}
}
