package profiler

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/linkprof/linkprof/trace"
)

// pollInterval bounds how long an event waits in the ring buffer: probes
// wake the reader only when a lot is queued (see bpf/nccl.c submit).
const pollInterval = 20 * time.Millisecond

// maxKinds bounds the kinds counted: room for kinds appended later.
const maxKinds = 64

// eventHooks react to events as they are read; all run on the pump goroutine.
type eventHooks struct {
	libraryLoad func(pid uint32)
	commCreated func(e trace.Event)
	stack       func(pid uint32, stackID int32)
	// collective sees every collective and communicator creation.
	collective func(e *trace.Event)
	// observe sees every event written (Config.Observer).
	observe func(e *trace.Event)
}

// pump copies events from the ring buffer into the trace, batching writes,
// and counts them by kind for the status line.
type pump struct {
	rd     *ringbuf.Reader
	w      *trace.Writer
	hooks  eventHooks
	counts [maxKinds]atomic.Uint64
	total  atomic.Uint64
	batch  []byte
}

func newPump(p *Probes, w *trace.Writer, hooks eventHooks) (*pump, error) {
	rd, err := ringbuf.NewReader(p.EventsMap())
	if err != nil {
		return nil, fmt.Errorf("opening ring buffer: %w", err)
	}
	return &pump{rd: rd, w: w, hooks: hooks, batch: make([]byte, 0, 64<<10)}, nil
}

// run reads until stop is closed, then drains what is left and returns.
func (pm *pump) run(stop <-chan struct{}) error {
	var rec ringbuf.Record
	for {
		pm.rd.SetDeadline(time.Now().Add(pollInterval))
		for {
			err := pm.rd.ReadInto(&rec)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return fmt.Errorf("reading ring buffer: %w", err)
			}
			pm.handle(rec.RawSample)
		}
		if err := pm.flush(); err != nil {
			return err
		}
		select {
		case <-stop:
			return pm.drain(&rec)
		default:
		}
	}
}

// drain reads whatever the probes wrote before they were detached.
func (pm *pump) drain(rec *ringbuf.Record) error {
	pm.rd.SetDeadline(time.Now())
	for {
		err := pm.rd.ReadInto(rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return pm.flush()
		}
		if err != nil {
			return fmt.Errorf("draining ring buffer: %w", err)
		}
		pm.handle(rec.RawSample)
	}
}

func (pm *pump) handle(raw []byte) {
	if len(raw) < trace.EventSize {
		return
	}
	raw = raw[:trace.EventSize]
	e := trace.DecodeEvent(raw)
	if int(e.Kind) < len(pm.counts) {
		pm.counts[e.Kind].Add(1)
	}
	switch {
	case e.Kind == trace.LibraryLoad:
		if pm.hooks.libraryLoad != nil {
			pm.hooks.libraryLoad(e.Pid)
		}
		return // a notification, not data
	case e.Kind.IsCommCreate() || e.Kind.IsCollective() && pm.hooks.collective != nil:
		if e.Kind.IsCommCreate() && pm.hooks.commCreated != nil {
			pm.hooks.commCreated(e)
		}
		if pm.hooks.collective != nil {
			pm.hooks.collective(&e)
		}
	}
	pm.total.Add(1)
	if pm.hooks.observe != nil {
		pm.hooks.observe(&e)
	}
	if e.StackID >= 0 && pm.hooks.stack != nil {
		pm.hooks.stack(e.Pid, e.StackID)
	}
	pm.batch = append(pm.batch, raw...)
	if len(pm.batch) >= cap(pm.batch)-trace.EventSize {
		_ = pm.flush()
	}
}

func (pm *pump) flush() error {
	if len(pm.batch) == 0 {
		return nil
	}
	err := pm.w.WriteEvents(pm.batch)
	pm.batch = pm.batch[:0]
	return err
}

// count returns how many events of a kind were read.
func (pm *pump) count(k trace.Kind) uint64 {
	if int(k) < len(pm.counts) {
		return pm.counts[k].Load()
	}
	return 0
}

func (pm *pump) close() error { return pm.rd.Close() }
