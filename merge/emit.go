package merge

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// merger writes the hosts' items in key order.
type merger struct {
	w     *trace.Writer
	lost  []uint64 // each host's latest cumulative count
	raw   []byte   // event encoding buffer
	links []byte   // per-link samples, batched here (the writer batches only events and samples)
}

func (m *merger) run(hosts []*host) error {
	var q streams
	for _, h := range hosts {
		s, err := openStream(h)
		if err != nil {
			return err
		}
		defer s.f.Close()
		ok, err := s.fill()
		if err != nil {
			return err
		}
		if ok {
			q = append(q, s)
		}
		defer func() { m.unknownNote(s) }()
	}
	heap.Init(&q)
	for len(q) > 0 {
		s := q[0]
		if err := m.emit(s.h, s.current()); err != nil {
			return err
		}
		s.next++
		ok, err := s.fill()
		switch {
		case err != nil:
			return err
		case ok:
			heap.Fix(&q, 0)
		default:
			heap.Pop(&q)
		}
	}
	return m.flushLinks()
}

func (m *merger) emit(h *host, it *item) error {
	switch it.kind {
	case itemEvent:
		m.raw = trace.AppendEvent(m.raw[:0], it.ev)
		return m.w.WriteEvents(m.raw)
	case itemSample:
		return m.w.WriteSamples(it.s)
	case itemNICSample:
		// A host's round stays together in the file: its samples come in
		// its order, another host's between them belong to another link.
		return m.w.WriteNICSamples(it.ns)
	case itemLinkSample:
		m.links = trace.AppendLinkSample(m.links, it.ls)
		if len(m.links) >= 64<<10 {
			return m.flushLinks()
		}
		return nil
	case itemLost:
		m.lost[h.idx] = it.lost
		var sum uint64
		for _, n := range m.lost {
			sum += n
		}
		return m.w.WriteJSON(trace.RecLost, trace.Lost{MonoNs: it.key, Count: sum})
	}
	if err := m.flushLinks(); err != nil {
		return err
	}
	return m.w.WriteJSON(it.typ, it.meta)
}

func (m *merger) flushLinks() error {
	if len(m.links) == 0 {
		return nil
	}
	err := m.w.WriteRaw(trace.RecLinkSamples, m.links)
	m.links = m.links[:0]
	return err
}

// unknownNote says which records a host had that the merge has no rule
// for (a newer linkprof's), and so left out: never silently.
func (m *merger) unknownNote(s *stream) {
	if len(s.unknown) == 0 {
		return
	}
	var parts []string
	for t, n := range s.unknown {
		parts = append(parts, fmt.Sprintf("%d of type %d", n, t))
	}
	slices.Sort(parts)
	m.w.WriteJSON(trace.RecNote, trace.Note{Level: "warn", Text: fmt.Sprintf(
		"host %s: records the merge has no rule for were left out (%s): merge with the linkprof that recorded them",
		s.h.info.Name, strings.Join(parts, ", "))})
}

// mergedStart opens the merged trace: the reference's start, moved to the
// earliest host's start, and the hosts.
func mergedStart(hosts []*host, args []string) trace.Start {
	ref := hosts[0].rec.start
	st := trace.Start{Tool: ref.Tool, Kernel: ref.Kernel, Args: args, Workload: ref.Workload}
	first, names := int64(0), make([]string, len(hosts))
	for i, h := range hosts {
		st.Simulated = st.Simulated || h.rec.start.Simulated
		if t := h.mono(h.rec.start.Clock.MonoNs); t != 0 && (first == 0 || t < first) {
			first = t
		}
		names[i] = h.info.Name
		st.Hosts = append(st.Hosts, *h.info)
	}
	st.Host = strings.Join(names, ",")
	st.Clock = refPair(hosts[0], "start", first, ref.Clock)
	return st
}

// mergedStop closes the merged trace when every host stopped cleanly: at
// the last host's stop, with the hosts' counts summed.
func mergedStop(hosts []*host) *trace.Stop {
	stop := &trace.Stop{}
	var last int64
	var reasons, errs []string
	for _, h := range hosts {
		s := h.rec.stop
		if s == nil {
			return nil
		}
		last = max(last, h.mono(s.Clock.MonoNs))
		stop.Events += s.Events
		stop.Lost += s.Lost
		if !slices.Contains(reasons, s.Reason) {
			reasons = append(reasons, s.Reason)
		}
		if s.Error != "" {
			errs = append(errs, h.info.Name+": "+s.Error)
		}
	}
	stop.Reason, stop.Error = strings.Join(reasons, ","), strings.Join(errs, "; ")
	stop.Clock = refPair(hosts[0], "stop", last, hosts[0].rec.stop.Clock)
	return stop
}

// refPair is a clock pair at reference time mono on the reference's own
// line between its clocks (so it adds nothing the pairs do not say); def
// when the reference has no pairs.
func refPair(ref *host, source string, mono int64, def trace.Clock) trace.Clock {
	wall, ok := ref.rec.clocks.MonoToWall(mono)
	if mono == 0 || !ok {
		return def
	}
	return trace.Clock{Source: source, MonoNs: mono, WallNs: wall, UncertaintyNs: def.UncertaintyNs}
}
