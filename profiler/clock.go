package profiler

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/linkprof/linkprof/trace"
)

// MonoNow reads CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns.
func MonoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// ReadClocks reads the monotonic and wall clocks back to back, keeping the
// tightest of a few tries so the pair is accurate to a microsecond or so.
func ReadClocks(source string) trace.Clock {
	best := trace.Clock{Source: source, UncertaintyNs: 1 << 62}
	for range 5 {
		m0 := MonoNow()
		wall := time.Now().UnixNano()
		m1 := MonoNow()
		if m1-m0 < best.UncertaintyNs {
			best.MonoNs, best.WallNs, best.UncertaintyNs = m0+(m1-m0)/2, wall, m1-m0
		}
	}
	return best
}
