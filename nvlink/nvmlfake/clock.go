package nvmlfake

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Clock is a fake nvlink.Clock: time moves only when someone sleeps or an
// NVML call costs time, so schedules are checked without wall-clock races.
// With several readers their sleeps add up, as if NVML ran them one by one.
type Clock struct {
	mu     sync.Mutex
	mono   int64
	wall   int64 // wall ns at mono 0
	stopAt int64
	stop   context.CancelFunc
}

// NewClock starts a fake clock at mono ns, with the wall clock wall ns ahead.
func NewClock(mono, wallOffset int64) *Clock {
	return &Clock{mono: mono, wall: wallOffset}
}

// StopAt calls cancel once the monotonic time reaches mono: the test's end.
func (c *Clock) StopAt(mono int64, cancel context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopAt, c.stop = mono, cancel
}

// MonoNs is the fake CLOCK_MONOTONIC.
func (c *Clock) MonoNs() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// WallNs is the fake wall clock.
func (c *Clock) WallNs() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono + c.wall
}

// Advance moves time on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.mono += int64(d)
	var stop context.CancelFunc
	if c.stop != nil && c.mono >= c.stopAt {
		stop, c.stop = c.stop, nil
	}
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Sleep advances time by d at once, unless ctx is already done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	runtime.Gosched() // a real sleep would let other readers run
	return ctx.Err()
}
