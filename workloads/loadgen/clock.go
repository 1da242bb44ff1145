// Package loadgen drives an OpenAI-compatible /v1/completions endpoint with
// the load a workload card describes and measures it the way vLLM's
// `bench serve` does (TTFT, TPOT, ITL, end-to-end latency, throughput).
package loadgen

import (
	"context"
	"time"
)

// Clock is the time source of a run. Replays sleep on it and latencies are
// read from it, so a test can run a minute-long schedule on a scaled clock.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time { return time.Now() }

func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ScaledClock runs Factor times faster than the wall clock: a Sleep of one
// second takes 1/Factor real seconds and Now advances Factor seconds per
// real second.
type ScaledClock struct {
	Factor float64
	origin time.Time
}

// NewScaledClock starts a scaled clock at the current wall time.
func NewScaledClock(factor float64) *ScaledClock {
	return &ScaledClock{Factor: factor, origin: time.Now()}
}

func (c *ScaledClock) Now() time.Time {
	real := time.Since(c.origin)
	return c.origin.Add(time.Duration(float64(real) * c.Factor))
}

func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	return RealClock{}.Sleep(ctx, time.Duration(float64(d)/c.Factor))
}
