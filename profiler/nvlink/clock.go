package nvlink

import (
	"context"
	"time"

	"golang.org/x/sys/unix"

	"github.com/linkprof/linkprof/trace"
)

// Clock is the time the sampler runs on. Tests and benchmarks inject a fake
// one so schedules can be checked without wall-clock assertions.
type Clock interface {
	// MonoNs is CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns.
	MonoNs() int64
	// WallNs is the wall clock in ns since 1970, the clock of NVML timestamps.
	WallNs() int64
	// Sleep waits d or until ctx is done, whichever comes first.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the host's clocks.
type SystemClock struct{}

// MonoNs reads CLOCK_MONOTONIC.
func (SystemClock) MonoNs() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// WallNs reads the wall clock.
func (SystemClock) WallNs() int64 { return time.Now().UnixNano() }

// Sleep waits d or until ctx is done.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// readClocks reads both clocks back to back, keeping the tightest of a few
// tries: the pair maps NVML's wall-clock timestamps onto the monotonic clock.
func readClocks(c Clock, source string) trace.Clock {
	best := trace.Clock{Source: source, UncertaintyNs: 1 << 62}
	for range 5 {
		m0 := c.MonoNs()
		wall := c.WallNs()
		m1 := c.MonoNs()
		if m1-m0 < best.UncertaintyNs {
			best.MonoNs, best.WallNs, best.UncertaintyNs = m0+(m1-m0)/2, wall, m1-m0
		}
	}
	return best
}
