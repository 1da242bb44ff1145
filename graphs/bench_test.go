package graphs

import (
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// A decode-like trace: one graph of 32 all-reduces replayed with a runtime
// launch and its driver twin per step, and an eager call between replays.
func BenchmarkExpand(b *testing.B) {
	s := newScript().begin(0xa, 0)
	for i := 0; i < 32; i++ {
		s.coll(trace.AllReduce, 4096, 0xa)
	}
	s.end(0xa, 0x9000, 0).inst(0x9000, 0xe000, 0)
	for i := 0; i < 10000; i++ {
		s.launch(0xe000, 0xa, 0).launch(0xe000, 0xa, drv).coll(trace.AllReduce, 16, 0xa)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m := New()
		n := 0
		for _, e := range s.events {
			n += len(m.Add(e))
		}
		if n != 10000*33+32 {
			b.Fatalf("%d calls", n)
		}
	}
	b.ReportMetric(float64(len(s.events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
