package trace

import (
	"fmt"
	"io"
)

// Trace is a whole recording in memory. Analysis of long recordings should
// stream with Reader instead; Load suits reports and tests.
type Trace struct {
	Start     Start
	Stop      *Stop // nil when the recorder did not finish (crash)
	Processes []Process
	Libraries []Library
	Comms     []Comm
	Events    []Event
	Samples   []Sample
	// LinkSamples are per-link counters (record --per-link).
	LinkSamples []LinkSample
	// GPM holds GPM NVLink throughput samples (record --gpm).
	GPM       []GPMSample
	GPUs      []GPU
	Clocks    []Clock
	Stacks    []Stack
	Mappings  []Mappings
	Notes     []Note
	Stalls    []Stall
	Lost      uint64 // the last cumulative count recorded
	Truncated bool
	Minor     uint16
	// Unknown counts records of types this version does not know (newer minor).
	Unknown int
}

// Load reads the trace of a recording folder.
func Load(dir string) (*Trace, error) {
	f, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadAll(f.Reader)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ReadAll reads every record of r.
func ReadAll(r *Reader) (*Trace, error) {
	t := &Trace{Minor: r.Minor}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := t.add(rec); err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
	}
	t.Truncated = r.Truncated
	return t, nil
}

func (t *Trace) add(rec Record) error {
	switch rec.Type {
	case RecEvents:
		return rec.Events(func(e Event) { t.Events = append(t.Events, e) })
	case RecSamples:
		return rec.Samples(func(s Sample) { t.Samples = append(t.Samples, s) })
	case RecLinkSamples:
		return rec.LinkSamples(func(s LinkSample) { t.LinkSamples = append(t.LinkSamples, s) })
	case RecGPUSamples:
		return appendJSON(rec, &t.GPM)
	case RecStart:
		return rec.JSON(&t.Start)
	case RecStop:
		t.Stop = &Stop{}
		return rec.JSON(t.Stop)
	case RecProcess:
		return t.addProcess(rec)
	case RecLibrary:
		return appendJSON(rec, &t.Libraries)
	case RecComm:
		return appendJSON(rec, &t.Comms)
	case RecGPU:
		return appendJSON(rec, &t.GPUs)
	case RecClock:
		return appendJSON(rec, &t.Clocks)
	case RecStack:
		return appendJSON(rec, &t.Stacks)
	case RecMappings:
		return appendJSON(rec, &t.Mappings)
	case RecNote:
		return appendJSON(rec, &t.Notes)
	case RecStall:
		return appendJSON(rec, &t.Stalls)
	case RecLost:
		var l Lost
		if err := rec.JSON(&l); err != nil {
			return err
		}
		t.Lost = l.Count
		return nil
	default:
		t.Unknown++
		return nil
	}
}

func appendJSON[T any](rec Record, list *[]T) error {
	var v T
	if err := rec.JSON(&v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// addProcess keeps one entry per pid: the recorder rewrites a process's
// record when it learns more (its NCCL library), and the last one wins.
func (t *Trace) addProcess(rec Record) error {
	var p Process
	if err := rec.JSON(&p); err != nil {
		return err
	}
	for i := range t.Processes {
		if t.Processes[i].Pid == p.Pid {
			t.Processes[i] = p
			return nil
		}
	}
	t.Processes = append(t.Processes, p)
	return nil
}
