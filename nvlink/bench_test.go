package nvlink_test

import (
	"context"
	"testing"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
)

// BenchmarkSamplerOverhead is the sampler's own cost per aggregate read
// (scheduling, decoding, unwrapping, writing), NVML made free: one op is one
// read. The GPU-box figures come from scripts/nvmlbench.
func BenchmarkSamplerOverhead(b *testing.B) {
	for _, sch := range []string{nvlink.ScheduleRoundRobin, nvlink.ScheduleBurst, nvlink.SchedulePerGPULocked} {
		b.Run(sch, func(b *testing.B) {
			srv := nvmlfake.New(nvmlfake.Options{GPUs: 2, Counters: kibPerMs})
			s, err := nvlink.Open(srv, nvlink.Config{Schedule: sch})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx, cancel := context.WithCancel(context.Background())
			sink := &countingSink{n: b.N, done: cancel}
			b.ReportAllocs()
			b.ResetTimer()
			if err := s.RunTo(ctx, sink); err != nil {
				b.Fatal(err)
			}
		})
	}
}
