package nvlink

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Read schedules (Config.Schedule). docs/nvml.md compares them.
const (
	// ScheduleRoundRobin: one reader walks the GPUs in turn. NVML serializes
	// reads anyway, and a single caller keeps its full ceiling. The default.
	ScheduleRoundRobin = "round-robin"
	// SchedulePerGPULocked: one reader per GPU, taking turns on a shared lock.
	SchedulePerGPULocked = "per-gpu-locked"
	// SchedulePerGPUFree: one free-running reader per GPU. NVML's own
	// serialization then costs more than it gives: kept to measure it.
	SchedulePerGPUFree = "per-gpu-free"
)

// Defaults, beside the flags that set them.
const (
	DefaultPerLinkHz   = 5.0             // all links in one call cost ~12x an aggregate read
	DefaultGPMInterval = time.Second     // GPM wants >= 100 ms between samples
	DefaultClockEvery  = 1 * time.Second // wall <-> monotonic pair
	minGPMInterval     = 100 * time.Millisecond
)

// Config chooses what the sampler reads and how fast.
type Config struct {
	GPUs        []int         // NVML indexes; empty: all
	Hz          float64       // cap on aggregate reads per GPU per second; 0: as fast as NVML allows
	PerLink     bool          // also read per-link DATA counters
	PerLinkHz   float64       // per-link reads per GPU per second
	GPM         bool          // also read GPM NVLink throughput where supported
	GPMInterval time.Duration // time between GPM samples
	Schedule    string        // "" or "best": round-robin
	ClockEvery  time.Duration // periodic clock pairs; 0: DefaultClockEvery
	Clock       Clock         // nil: SystemClock
}

// AddFlags registers the sampler's flags on fs.
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.IntSliceVar(&c.GPUs, "gpus", nil, "GPUs to sample by NVML index, e.g. 0,1 (default all)")
	fs.Float64Var(&c.Hz, "nvml-hz", 0, "cap on NVLink counter reads per GPU per second (default 0: as fast as NVML allows)")
	fs.BoolVar(&c.PerLink, "per-link", false, "also sample each NVLink's counters, at --per-link-hz")
	fs.Float64Var(&c.PerLinkHz, "per-link-hz", DefaultPerLinkHz, "per-link reads per GPU per second")
	fs.BoolVar(&c.GPM, "gpm", false, "also sample GPM NVLink throughput where the GPU supports it")
	fs.DurationVar(&c.GPMInterval, "gpm-interval", DefaultGPMInterval, "time between GPM samples (at least 100ms)")
	fs.StringVar(&c.Schedule, "nvml-schedule", ScheduleRoundRobin, "NVML read schedule: round-robin, per-gpu-locked, per-gpu-free")
}

// Validate checks the settings and fills the defaults.
func (c *Config) Validate() error {
	switch c.Schedule {
	case "", "best":
		c.Schedule = ScheduleRoundRobin
	case ScheduleRoundRobin, SchedulePerGPULocked, SchedulePerGPUFree:
	default:
		return fmt.Errorf("unknown NVML schedule %q: use round-robin, per-gpu-locked or per-gpu-free", c.Schedule)
	}
	if c.Hz < 0 {
		return fmt.Errorf("--nvml-hz %g: must be 0 (no cap) or more", c.Hz)
	}
	if c.PerLink && c.PerLinkHz <= 0 {
		return fmt.Errorf("--per-link-hz %g: must be above 0", c.PerLinkHz)
	}
	if c.GPM && c.GPMInterval == 0 {
		c.GPMInterval = DefaultGPMInterval
	}
	if c.GPM && c.GPMInterval < minGPMInterval {
		return fmt.Errorf("--gpm-interval %v: GPM needs at least %v between samples", c.GPMInterval, minGPMInterval)
	}
	seen := map[int]bool{}
	for _, g := range c.GPUs {
		if g < 0 || seen[g] {
			return fmt.Errorf("--gpus: %d is negative or listed twice", g)
		}
		seen[g] = true
	}
	if c.ClockEvery <= 0 {
		c.ClockEvery = DefaultClockEvery
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return nil
}
