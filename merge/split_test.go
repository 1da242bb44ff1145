package merge

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// split writes a recording of one machine as the recordings of several
// hosts would be, the test's stand-in for a multi-host job: each process
// goes to the host hostOf names, each GPU's samples and record to the host
// of the process on it, and everything else (clock pairs, the start and
// stop, notes) to every host. Host h's monotonic clock runs shift[h] ahead
// of the machine's, and its wall clock wall[h] ahead (nil: none): every
// time it records is moved by them. It is written apart from the merge's
// own qualification (qualify.go), which undoes it.
func split(t *testing.T, src string, hostOf func(pid uint32) int, shift, wall []int64) []string {
	t.Helper()
	tr, err := trace.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	gpuHost := map[uint32]int{}
	for _, p := range tr.Processes {
		if p.GPU >= 0 {
			gpuHost[uint32(p.GPU)] = hostOf(p.Pid)
		}
	}
	dirs := make([]string, len(shift))
	ws := make([]*trace.Writer, len(shift))
	for h := range shift {
		dirs[h] = filepath.Join(t.TempDir(), "host"+string(rune('a'+h)))
		if ws[h], err = trace.Create(dirs[h], false); err != nil {
			t.Fatal(err)
		}
	}
	f, err := trace.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if wall == nil {
		wall = make([]int64, len(shift))
	}
	s := splitter{ws: ws, shift: shift, wall: wall, hostOf: hostOf, gpuHost: gpuHost}
	for {
		rec, err := f.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = s.record(rec)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

type splitter struct {
	ws      []*trace.Writer
	shift   []int64
	wall    []int64
	hostOf  func(uint32) int
	gpuHost map[uint32]int
}

func (s *splitter) record(rec trace.Record) error {
	switch rec.Type {
	case trace.RecEvents:
		return rec.Events(func(e trace.Event) {
			h := s.hostOf(e.Pid)
			e.TsNs += uint64(s.shift[h])
			s.ws[h].WriteEvents(trace.AppendEvent(nil, e))
		})
	case trace.RecSamples:
		return rec.Samples(func(x trace.Sample) {
			h := s.gpuHost[x.GPU]
			x.MonoBeforeNs += s.shift[h]
			x.MonoAfterNs += s.shift[h]
			x.WallUs += s.wall[h] / 1000
			s.ws[h].WriteSamples(x)
		})
	}
	v, ok, err := rec.Meta()
	if err != nil || !ok {
		return err
	}
	switch v := v.(type) {
	case trace.Start:
		return s.all(trace.RecStart, func(h int) any { c := v; c.Clock = s.clock(h, c.Clock); return c })
	case trace.Stop:
		return s.all(trace.RecStop, func(h int) any { c := v; c.Clock = s.clock(h, c.Clock); return c })
	case trace.Clock:
		return s.all(trace.RecClock, func(h int) any { return s.clock(h, v) })
	case trace.Note:
		return s.all(trace.RecNote, func(h int) any { c := v; c.MonoNs += s.shift[h]; return c })
	case trace.Stack:
		return s.ws[s.hostOf(v.Pid)].WriteJSON(trace.RecStack, v)
	case trace.Process:
		h := s.hostOf(v.Pid)
		v.SeenNs += s.shift[h]
		return s.ws[h].WriteJSON(trace.RecProcess, v)
	case trace.Comm:
		h := s.hostOf(v.Pid)
		v.TsNs += uint64(s.shift[h])
		return s.ws[h].WriteJSON(trace.RecComm, v)
	case trace.Library:
		h := s.hostOf(v.Pid)
		v.AttachedNs += s.shift[h]
		return s.ws[h].WriteJSON(trace.RecLibrary, v)
	case trace.Mappings:
		h := s.hostOf(v.Pid)
		v.MonoNs += s.shift[h]
		return s.ws[h].WriteJSON(trace.RecMappings, v)
	case trace.GPU:
		return s.ws[s.gpuHost[uint32(v.Index)]].WriteJSON(trace.RecGPU, v)
	case trace.Lost:
		return s.ws[0].WriteJSON(trace.RecLost, v)
	}
	return nil
}

func (s *splitter) clock(h int, c trace.Clock) trace.Clock {
	c.MonoNs += s.shift[h]
	c.WallNs += s.wall[h]
	return c
}

// all writes a record to every host, as each host's recorder would.
func (s *splitter) all(t trace.RecordType, v func(h int) any) error {
	for h, w := range s.ws {
		if err := w.WriteJSON(t, v(h)); err != nil {
			return err
		}
	}
	return nil
}
