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
	GPM []GPMSample
	// NICs and NICSamples are the sampled network devices and their
	// counters (record --nics, format 1.2).
	NICs       []NIC
	NICSamples []NICSample
	GPUs       []GPU
	Clocks     []Clock
	Stacks     []Stack
	Mappings   []Mappings
	Notes      []Note
	Stalls     []Stall
	Lost       uint64 // the last cumulative count recorded
	Truncated  bool
	Minor      uint16
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
	case RecNICSamples:
		return rec.NICSamples(func(s NICSample) { t.NICSamples = append(t.NICSamples, s) })
	}
	v, ok, err := rec.Meta() // the one list of metadata types
	if err != nil || !ok {
		if !ok {
			t.Unknown++
		}
		return err
	}
	switch v := v.(type) {
	case Start:
		t.Start = v
	case Stop:
		t.Stop = &v
	case Process:
		t.addProcess(v)
	case Library:
		t.Libraries = append(t.Libraries, v)
	case Comm:
		t.Comms = append(t.Comms, v)
	case GPU:
		t.GPUs = append(t.GPUs, v)
	case Clock:
		t.Clocks = append(t.Clocks, v)
	case Stack:
		t.Stacks = append(t.Stacks, v)
	case Mappings:
		t.Mappings = append(t.Mappings, v)
	case Note:
		t.Notes = append(t.Notes, v)
	case Lost:
		t.Lost = v.Count
	case GPMSample:
		t.GPM = append(t.GPM, v)
	case Stall:
		t.Stalls = append(t.Stalls, v)
	case NIC:
		t.NICs = append(t.NICs, v)
	}
	return nil
}

// addProcess keeps one entry per pid: the recorder rewrites a process's
// record when it learns more (its NCCL library), and the last one wins.
func (t *Trace) addProcess(p Process) {
	for i := range t.Processes {
		if t.Processes[i].Pid == p.Pid {
			t.Processes[i] = p
			return
		}
	}
	t.Processes = append(t.Processes, p)
}
