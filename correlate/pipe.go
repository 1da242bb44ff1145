package correlate

import (
	"encoding/json"
	"io"

	"github.com/linkprof/linkprof/trace"
)

// pipeDepth is how many records the reading goroutine may run ahead.
const pipeDepth = 64

// piped is one record, decoded off the analysis goroutine: events and
// samples (timed with the clock pairs seen so far) as batches, metadata as
// a copy of the record.
type piped struct {
	rec     trace.Record
	events  []trace.Event
	samples []timedSample
	err     error
}

// readAhead reads, checks, decodes and times records on its own goroutine,
// so file I/O, checksums and decoding overlap the analysis. Batches come
// back through recycle once handled.
func readAhead(r *trace.Reader, done <-chan struct{}) (<-chan piped, chan<- piped) {
	out := make(chan piped, pipeDepth)
	recycle := make(chan piped, pipeDepth+2)
	go func() {
		defer close(out)
		var align Aligner
		for {
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			var p piped
			select {
			case p = <-recycle:
			default:
			}
			p = decodeRecord(rec, err, p, &align)
			select {
			case out <- p:
			case <-done:
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	return out, recycle
}

func decodeRecord(rec trace.Record, err error, p piped, align *Aligner) piped {
	p.events, p.samples, p.err = p.events[:0], p.samples[:0], err
	if err != nil {
		return p
	}
	switch rec.Type {
	case trace.RecEvents:
		p.err = rec.Events(func(e trace.Event) { p.events = append(p.events, e) })
		p.rec = trace.Record{Type: rec.Type}
		return p
	case trace.RecSamples:
		p.err = rec.Samples(func(s trace.Sample) {
			t, nvml := align.SampleTime(&s)
			p.samples = append(p.samples, timedSample{t: t, nvml: nvml, s: s})
		})
		p.rec = trace.Record{Type: rec.Type}
		return p
	case trace.RecClock, trace.RecStart, trace.RecStop:
		align.Add(clockOf(rec))
	}
	rec.Payload = append([]byte(nil), rec.Payload...)
	p.rec = rec
	return p
}

// clockOf is the clock pair a clock, start or stop record carries.
func clockOf(rec trace.Record) trace.Clock {
	var c trace.Clock
	if rec.Type == trace.RecClock {
		_ = json.Unmarshal(rec.Payload, &c)
		return c
	}
	var v struct {
		Clock trace.Clock `json:"clock"`
	}
	_ = json.Unmarshal(rec.Payload, &v)
	return v.Clock
}
