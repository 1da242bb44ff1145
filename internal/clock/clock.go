// Package clock reads the two clocks a recording pairs: CLOCK_MONOTONIC,
// the clock of bpf_ktime_get_ns and of the trace, and the wall clock of
// NVML's timestamps.
package clock

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/linkprof/linkprof/trace"
)

// Mono reads CLOCK_MONOTONIC in ns.
func Mono() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// Wall reads the wall clock in ns since 1970.
func Wall() int64 { return time.Now().UnixNano() }

// Read pairs the host's clocks (Pair of Mono and Wall).
func Read(source string) trace.Clock { return Pair(source, Mono, Wall) }

// Pair reads mono and wall back to back, keeping the tightest of a few
// tries, so the pair is accurate to a microsecond or so.
func Pair(source string, mono, wall func() int64) trace.Clock {
	best := trace.Clock{Source: source, UncertaintyNs: 1 << 62}
	for range 5 {
		m0 := mono()
		w := wall()
		m1 := mono()
		if m1-m0 < best.UncertaintyNs {
			best.MonoNs, best.WallNs, best.UncertaintyNs = m0+(m1-m0)/2, w, m1-m0
		}
	}
	return best
}
