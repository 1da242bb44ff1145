package nvlink

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// Sink receives what the sampler records; *trace.Writer is one. It must be
// safe for concurrent use (the per-GPU schedules write from several readers).
type Sink interface {
	WriteSamples(samples ...trace.Sample) error
	WriteJSON(t trace.RecordType, v any) error
	WriteRaw(t trace.RecordType, payload []byte) error
}

// Run writes the GPU records and a starting clock pair, then samples into
// w until ctx is done, and ends with a closing clock pair. Failed reads are
// recorded as gaps; only a failed write stops it early.
func (s *Sampler) Run(ctx context.Context, w *trace.Writer) error {
	return s.RunTo(ctx, w)
}

// RunTo is Run with any Sink (benchmarks count samples instead of writing).
func (s *Sampler) RunTo(ctx context.Context, sink Sink) error {
	if s.closed {
		return errors.New("sampling NVLink: sampler is closed")
	}
	if err := s.writeHeader(sink); err != nil {
		return err
	}
	s.start.Store(s.clock.MonoNs())
	err := runAll(ctx, s.loops(sink))
	if cerr := sink.WriteJSON(trace.RecClock, clock.Pair("nvml-stop", s.clock.MonoNs, s.clock.WallNs)); err == nil && cerr != nil {
		err = fmt.Errorf("writing clock record: %w", cerr)
	}
	return err
}

func (s *Sampler) writeHeader(sink Sink) error {
	for _, g := range s.gpus {
		if err := sink.WriteJSON(trace.RecGPU, g.info); err != nil {
			return fmt.Errorf("writing GPU record: %w", err)
		}
	}
	now := s.clock.MonoNs()
	for _, n := range s.notes {
		if err := sink.WriteJSON(trace.RecNote, trace.Note{MonoNs: now, Level: "info", Text: n}); err != nil {
			return fmt.Errorf("writing note: %w", err)
		}
	}
	if err := sink.WriteJSON(trace.RecClock, clock.Pair("nvml-start", s.clock.MonoNs, s.clock.WallNs)); err != nil {
		return fmt.Errorf("writing clock record: %w", err)
	}
	return nil
}

// oneReader: the schedule runs every read in the sampler on one reader
// (per-process: the per-link and GPM reads left to the sampler).
func (s *Sampler) oneReader() bool {
	switch s.cfg.Schedule {
	case ScheduleRoundRobin, ScheduleBurst, SchedulePerProcess:
		return true
	}
	return false
}

// loops are what runs concurrently: the readers in this process and, under
// the per-process schedule, one supervisor per GPU reader process.
func (s *Sampler) loops(sink Sink) []func(context.Context) error {
	var loops []func(context.Context) error
	rs := s.readers(sink)
	started := &sync.WaitGroup{}
	started.Add(len(rs))
	for _, r := range rs {
		r.started = started
		loops = append(loops, r.loop)
	}
	if s.cfg.Schedule != SchedulePerProcess {
		return loops
	}
	for _, g := range s.gpus {
		if g.sampled() {
			loops = append(loops, func(ctx context.Context) error { return s.supervise(ctx, g, sink) })
		}
	}
	return loops
}

// readers lays the tasks out by schedule: all on one reader (round-robin, burst),
// or one reader per GPU, sharing a lock or not. The clock task rides on the
// first reader so no reader only sleeps (a fake clock advances on sleeps).
func (s *Sampler) readers(sink Sink) []*reader {
	var lock locker = s.lock
	if s.cfg.Schedule == SchedulePerGPUFree {
		lock = noLock{}
	}
	var rs []*reader
	for _, g := range s.gpus {
		tasks := s.gpuTasks(g, sink, lock)
		switch {
		case len(tasks) == 0:
		case len(rs) == 0 || !s.oneReader():
			rs = append(rs, &reader{clock: s.clock, tasks: tasks, pin: s.cfg.PinThreads})
		default:
			rs[0].tasks = append(rs[0].tasks, tasks...)
		}
	}
	if len(rs) == 0 {
		rs = append(rs, &reader{clock: s.clock, pin: s.cfg.PinThreads})
	}
	rs[0].tasks = append(rs[0].tasks, s.clockTask(sink))
	return rs
}

// clockTask records a wall/monotonic pair every ClockEvery.
func (s *Sampler) clockTask(sink Sink) *task {
	every := s.cfg.ClockEvery.Nanoseconds()
	return &task{period: every, due: s.clock.MonoNs() + every, run: func(context.Context) error {
		if err := sink.WriteJSON(trace.RecClock, clock.Pair("periodic", s.clock.MonoNs, s.clock.WallNs)); err != nil {
			return fmt.Errorf("writing clock record: %w", err)
		}
		return nil
	}}
}

// gpuTasks are the reads of one GPU: aggregate counters, and per-link
// counters and GPM when asked for.
func (s *Sampler) gpuTasks(g *gpuState, sink Sink, lock locker) []*task {
	if !g.sampled() {
		return nil
	}
	var tasks []*task
	if s.cfg.Schedule != SchedulePerProcess {
		tasks = append(tasks, s.aggregateTask(g, sink, lock))
	}
	// A lost GPU's other reads wait until its counters answer again.
	if s.cfg.PerLink {
		tasks = append(tasks, &task{period: hzPeriod(s.cfg.PerLinkHz), run: func(context.Context) error {
			if g.parked.Load() {
				return nil
			}
			return s.readLinksTo(g, sink, lock)
		}})
	}
	if s.cfg.GPM && g.gpm != nil {
		tasks = append(tasks, &task{period: s.cfg.GPMInterval.Nanoseconds(), run: func(context.Context) error {
			if g.parked.Load() {
				return nil
			}
			return s.readGPMTo(g, sink, lock)
		}})
	}
	return tasks
}

// aggregateTask reads the GPU's aggregate counters in this process.
func (s *Sampler) aggregateTask(g *gpuState, sink Sink, lock locker) *task {
	agg := &task{period: hzPeriod(s.cfg.Hz), burst: s.cfg.burst()}
	agg.run = func(context.Context) error {
		smp, ret := s.readAggregate(g, lock)
		if err := sink.WriteSamples(smp); err != nil {
			return fmt.Errorf("writing samples: %w", err)
		}
		return s.track(g, agg, &smp, ret, sink)
	}
	return agg
}

func hzPeriod(hz float64) int64 {
	if hz <= 0 {
		return 0
	}
	return int64(1e9 / hz)
}
