package nvlink

import (
	"context"
	"time"

	"github.com/linkprof/linkprof/internal/clock"
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
func (SystemClock) MonoNs() int64 { return clock.Mono() }

// WallNs reads the wall clock.
func (SystemClock) WallNs() int64 { return clock.Wall() }

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
