package physim

import (
	"cmp"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// flushEveryNs is how often the recorder hands its batches to the file;
// clockEveryNs how often it writes a clock pair.
const (
	flushEveryNs = 250_000_000
	clockEveryNs = 10_000_000_000
)

// write records everything in the order the recorder would have: events,
// samples and metadata by time, batches flushed as time passes.
func (w *world) write(tw *trace.Writer, s Scenario, samples []trace.Sample, end int64) error {
	if err := w.header(tw, s); err != nil {
		return err
	}
	slices.SortStableFunc(w.events, func(a, b trace.Event) int { return cmp.Compare(a.TsNs, b.TsNs) })
	slices.SortStableFunc(w.recs, func(a, b jsonRec) int { return cmp.Compare(a.at, b.at) })
	o := &outQueue{tw: tw, events: w.events, samples: samples}
	for t := w.start + flushEveryNs; ; t += flushEveryNs {
		// a record goes after the data that preceded it, as the
		// recorder writes a Comm record on its return event
		for ; len(w.recs) > 0 && w.recs[0].at < t; w.recs = w.recs[1:] {
			if err := o.until(w.recs[0].at + 1); err != nil {
				return err
			}
			if err := tw.WriteJSON(w.recs[0].t, w.recs[0].v); err != nil {
				return err
			}
		}
		if err := o.until(t); err != nil {
			return err
		}
		if (t-w.start)%clockEveryNs == 0 {
			if err := tw.WriteJSON(trace.RecClock, w.clock.pair("periodic", t)); err != nil {
				return err
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if t >= end && o.empty() && len(w.recs) == 0 {
			break
		}
	}
	stop := trace.Stop{Clock: w.clock.pair("stop", end), Reason: "duration", Events: uint64(len(w.events))}
	return tw.WriteJSON(trace.RecStop, stop)
}

// outQueue is the time-sorted data still to write.
type outQueue struct {
	tw      *trace.Writer
	events  []trace.Event
	samples []trace.Sample
	buf     []byte
}

// until writes the events and samples before t.
func (o *outQueue) until(t int64) error {
	for ; len(o.events) > 0 && int64(o.events[0].TsNs) < t; o.events = o.events[1:] {
		o.buf = trace.AppendEvent(o.buf[:0], o.events[0])
		if err := o.tw.WriteEvents(o.buf); err != nil {
			return err
		}
	}
	for ; len(o.samples) > 0 && o.samples[0].MonoAfterNs < t; o.samples = o.samples[1:] {
		if err := o.tw.WriteSamples(o.samples[0]); err != nil {
			return err
		}
	}
	return nil
}

func (o *outQueue) empty() bool { return len(o.events) == 0 && len(o.samples) == 0 }
