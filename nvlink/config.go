package nvlink

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Read schedules (Config.Schedule). docs/nvml.md compares them.
const (
	// ScheduleRoundRobin: one reader walks the GPUs in turn. NVML serializes
	// reads anyway, and a single caller keeps its full ceiling. The default.
	ScheduleRoundRobin = "round-robin"
	// ScheduleBurst: one reader, reading a GPU Burst times in a row before
	// moving on. On the GPU box a call costs NVML more when the previous
	// one read another GPU (docs/validation.md), so fewer switches may give
	// more reads in total, at the cost of samples coming in short bursts.
	ScheduleBurst = "burst"
	// SchedulePerGPULocked: one reader per GPU, taking turns on a shared lock.
	SchedulePerGPULocked = "per-gpu-locked"
	// SchedulePerGPUFree: one free-running reader per GPU. NVML's own
	// serialization then costs more than it gives: kept to measure it.
	SchedulePerGPUFree = "per-gpu-free"
	// SchedulePerProcess: one reader process per GPU (the caller's
	// ReaderCmd), streaming its reads to the sampler, paced to one rate
	// (pace.go). On the GPU box NVML serializes reads inside a process but
	// not across processes (docs/validation.md). Per-link and GPM reads stay
	// in the sampler. linkprof record's default (DefaultSchedule).
	SchedulePerProcess = "per-process"
)

// DefaultSchedule is the schedule of linkprof record (the --nvml-schedule
// default). A Config left empty runs round-robin instead: it needs no
// reader command, so it suits fakes and the simulated link.
const DefaultSchedule = SchedulePerProcess

// Defaults of the settings, for the flags that set them.
const (
	DefaultPerLinkHz   = 5.0             // all links in one call cost ~12x an aggregate read
	DefaultGPMInterval = time.Second     // GPM wants >= 100 ms between samples
	DefaultClockEvery  = 1 * time.Second // wall <-> monotonic pair
	DefaultBurst       = 8               // reads of one GPU in a row (burst schedule)
	DefaultLostAfter   = 10              // failed reads in a row before a lost GPU is only probed
	DefaultLostProbe   = time.Second     // time between reads of a lost GPU
	DefaultRestarts    = 3               // restarts of a GPU's reader process before giving up on it
	minGPMInterval     = 100 * time.Millisecond
)

// Config chooses what the sampler reads and how fast.
type Config struct {
	GPUs        []int         // NVML indexes; empty: all
	Hz          float64       // cap on aggregate reads per GPU per second; 0: as fast as NVML allows
	CPUPercent  float64       // of a core each GPU's reader process may use (per-process); 0: no bound
	PerLink     bool          // also read per-link DATA counters
	PerLinkHz   float64       // per-link reads per GPU per second
	GPM         bool          // also read GPM NVLink throughput where supported
	GPMInterval time.Duration // time between GPM samples
	Schedule    string        // "" or "best": round-robin
	Burst       int           // reads of one GPU in a row for ScheduleBurst; 0: DefaultBurst
	PinThreads  bool          // lock each reader to its own OS thread
	LostAfter   int           // a lost GPU's failed reads in a row before only probing it; 0: DefaultLostAfter, <0: never
	LostProbe   time.Duration // time between reads of a lost GPU; 0: DefaultLostProbe
	ClockEvery  time.Duration // periodic clock pairs; 0: DefaultClockEvery
	Clock       Clock         // nil: SystemClock
	// ReaderCmd starts a GPU's reader process: the per-process schedule
	// needs it or StartReader. The reader's flags (ReaderArgs.Args) follow
	// it; it must pass them to ParseReaderArgs and run RunReader.
	ReaderCmd []string
	// StartReader, when set, replaces ReaderCmd: tests run the reader in
	// the test process.
	StartReader StartReaderFunc
	// PaceWindow is how long the reader processes' reads are counted before
	// their rates are evened out (pace.go); 0: DefaultPaceWindow.
	PaceWindow time.Duration
	// Restarts bounds the restarts of a GPU's reader process after it died;
	// 0: DefaultRestarts, < 0: none.
	Restarts int
}

// Validate checks the settings and fills the defaults.
func (c *Config) Validate() error {
	switch c.Schedule {
	case "", "best":
		c.Schedule = ScheduleRoundRobin
	case ScheduleRoundRobin, ScheduleBurst, SchedulePerGPULocked, SchedulePerGPUFree, SchedulePerProcess:
	default:
		return fmt.Errorf("unknown NVML schedule %q: use round-robin, burst, per-gpu-locked, per-gpu-free or per-process", c.Schedule)
	}
	if err := c.validateBurst(); err != nil {
		return err
	}
	if err := c.validateRates(); err != nil {
		return err
	}
	if c.CPUPercent > 0 && c.Schedule != SchedulePerProcess {
		return fmt.Errorf("--nvml-cpu works with --nvml-schedule per-process (each GPU's reader in its own process), not %s", c.Schedule)
	}
	seen := map[int]bool{}
	for _, g := range c.GPUs {
		if g < 0 || seen[g] {
			return fmt.Errorf("--gpus: %d is negative or listed twice", g)
		}
		seen[g] = true
	}
	if c.Schedule == SchedulePerProcess && len(c.ReaderCmd) == 0 && c.StartReader == nil {
		return errNoReaderCmd
	}
	c.fillDefaults()
	return nil
}

// fillDefaults sets what was left zero.
func (c *Config) fillDefaults() {
	if c.GPM && c.GPMInterval == 0 {
		c.GPMInterval = DefaultGPMInterval
	}
	if c.ClockEvery <= 0 {
		c.ClockEvery = DefaultClockEvery
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.LostAfter == 0 {
		c.LostAfter = DefaultLostAfter
	}
	if c.LostProbe <= 0 {
		c.LostProbe = DefaultLostProbe
	}
	if c.Restarts == 0 {
		c.Restarts = DefaultRestarts
	}
	if c.PaceWindow <= 0 {
		c.PaceWindow = DefaultPaceWindow
	}
}

// errNoReaderCmd is a caller's mistake, not a user's: the library does not
// know which program runs a reader.
var errNoReaderCmd = errors.New("the per-process NVML schedule needs a reader command (Config.ReaderCmd)")

// validateRates checks the rates and intervals, whether or not the reads
// they pace are asked for: a value that is wrong is refused, not ignored.
// NaN compares false with everything, so each test is written to pass
// only numbers in range.
func (c *Config) validateRates() error {
	switch {
	case !(c.Hz >= 0 && c.Hz <= math.MaxFloat64):
		return fmt.Errorf("--nvml-hz %g: must be 0 (no cap) or a finite rate above 0", c.Hz)
	case !(c.CPUPercent >= 0 && c.CPUPercent <= 100):
		return fmt.Errorf("--nvml-cpu %g: must be a percent of a core, 0 (no bound) to 100", c.CPUPercent)
	case !(c.PerLinkHz >= 0 && c.PerLinkHz <= math.MaxFloat64), c.PerLink && c.PerLinkHz == 0:
		return fmt.Errorf("--per-link-hz %g: must be a finite rate above 0", c.PerLinkHz)
	case c.GPMInterval < 0, c.GPMInterval > 0 && c.GPMInterval < minGPMInterval:
		return fmt.Errorf("--gpm-interval %v: GPM needs at least %v between samples", c.GPMInterval, minGPMInterval)
	}
	return nil
}

// validateBurst checks --nvml-burst; it only means something to the burst
// schedule, where 1 is plain round-robin.
func (c *Config) validateBurst() error {
	if c.Burst < 0 {
		return fmt.Errorf("--nvml-burst %d: must be 1 or more", c.Burst)
	}
	if c.Burst == 0 {
		c.Burst = DefaultBurst
	}
	return nil
}

// burst is the number of reads of one GPU in a row under this schedule.
func (c *Config) burst() int {
	if c.Schedule == ScheduleBurst {
		return c.Burst
	}
	return 1
}
