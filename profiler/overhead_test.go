package profiler

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSoakOverhead measures what recording costs spin targets calling
// ncclAllReduce at full rate: their own call rate without and with
// linkprof recording them, over the same window. Reported per iteration:
// calls/s of all targets together each way, the ratio, and the time a
// recorded call adds (us/call). Run (root):
//
//	go test ./profiler/ -run '^$' -bench SoakOverhead -benchtime 3x
func BenchmarkSoakOverhead(b *testing.B) {
	requirePrivileges(b)
	const window = 3 * time.Second
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			var plain, recorded float64
			for i := 0; i < b.N; i++ {
				plain += spinRate(b, n, window, false)
				recorded += spinRate(b, n, window, true)
			}
			plain, recorded = plain/float64(b.N), recorded/float64(b.N)
			b.ReportMetric(plain, "calls/s-plain")
			b.ReportMetric(recorded, "calls/s-recorded")
			b.ReportMetric(plain/recorded, "slowdown")
			// Per target: each runs on its own core when n <= cores.
			b.ReportMetric((float64(n)/recorded-float64(n)/plain)*1e6, "us-added/call")
		})
	}
}

// spinRate runs n spin targets for the window, recorded or not, and
// returns their calls per second together, as they counted them.
func spinRate(b *testing.B, n int, window time.Duration, record bool) float64 {
	targets := make([]*target, n)
	for i := range targets {
		targets[i] = startTarget(b, "spin")
	}
	var done chan error
	if record {
		done = make(chan error, 1)
		ready := make(chan struct{})
		cfg := Config{Dir: b.TempDir() + "/rec", Pids: pidsOf(targets), Children: true,
			Probe: ProbeOptions{RingBytes: DefaultRingBytes}, Ready: func() { close(ready) }}
		go func() { _, err := recordFor(cfg, time.Minute); done <- err }()
		<-ready
	}
	for _, tg := range targets {
		tg.release()
	}
	time.Sleep(window)
	var rate float64
	for _, tg := range targets {
		rate += tg.stop(b).rate()
	}
	if record {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	return rate
}
