package nvlink

import (
	"time"

	"golang.org/x/sys/unix"
)

// A read of the NVLink counters costs 1.2-3.5 ms of CPU on the GPU box,
// 95-99% of it in the kernel (NVML's call waits on the driver by spinning;
// docs/validation.md), so a reader at NVML's full rate keeps a core busy.
// --nvml-cpu bounds that: each reader process spends at most its share of
// a core, and reads only as often as the share allows.

// cpuBurst is the CPU a reader may spend ahead of its share after idling,
// so a budget is kept over a fraction of a second, not over the whole run.
const cpuBurst = 50 * time.Millisecond

// CPUClock reads CPU time used so far.
type CPUClock func() time.Duration

// ProcessCPU is this process's user and system CPU time.
func ProcessCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuBudget is a token bucket of CPU time: it fills at share of a core and
// each read takes what it cost; when it is empty, the next read waits.
type cpuBudget struct {
	share   float64 // of one core
	cpu     CPUClock
	tokens  time.Duration // CPU that may still be spent now; may go below 0
	lastCPU time.Duration
	lastNs  int64 // monotonic ns the bucket was last filled
}

func newCPUBudget(share float64, cpu CPUClock, nowNs int64) *cpuBudget {
	return &cpuBudget{share: share, cpu: cpu, tokens: cpuBurst, lastCPU: cpu(), lastNs: nowNs}
}

// spend takes the CPU used since the last call and returns the monotonic
// time the next read may start at.
func (b *cpuBudget) spend(nowNs int64) int64 {
	used := b.cpu()
	b.tokens += time.Duration(float64(nowNs-b.lastNs)*b.share) - (used - b.lastCPU)
	b.tokens = min(b.tokens, cpuBurst)
	b.lastCPU, b.lastNs = used, nowNs
	if b.tokens >= 0 {
		return nowNs
	}
	return nowNs + int64(float64(-b.tokens)/b.share)
}
