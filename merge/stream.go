package merge

import (
	"fmt"
	"io"
	"math"

	"github.com/linkprof/linkprof/trace"
)

type itemKind uint8

const (
	itemEvent itemKind = iota
	itemSample
	itemLinkSample
	itemNICSample
	itemMeta
	itemLost
)

// item is one qualified record, or one event or sample of a batch, keyed
// by its time on the reference's clock.
type item struct {
	key  int64
	kind itemKind
	ev   trace.Event
	s    trace.Sample
	ls   trace.LinkSample
	ns   trace.NICSample
	typ  trace.RecordType
	meta any
	lost uint64
}

// stream reads one host's trace in file order, qualified. Keys never go
// back (a metadata record, or an event a little out of order, takes the
// key of what came before it), so merging streams by key keeps each
// host's order.
type stream struct {
	h       *host
	f       *trace.File
	items   []item
	next    int
	mark    int64
	unknown map[trace.RecordType]int // records of types the merge has no rule for
}

func openStream(h *host) (*stream, error) {
	f, err := trace.Open(h.rec.dir)
	if err != nil {
		return nil, err
	}
	return &stream{h: h, f: f, mark: math.MinInt64, unknown: map[trace.RecordType]int{}}, nil
}

// current is the next item to merge; fill must have returned true.
func (s *stream) current() *item { return &s.items[s.next] }

// fill makes an item current, reading records as needed; false at the end.
func (s *stream) fill() (bool, error) {
	for s.next >= len(s.items) {
		s.items, s.next = s.items[:0], 0
		rec, err := s.f.Next()
		if err == io.EOF {
			return false, nil
		}
		if err == nil {
			err = s.record(rec)
		}
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", s.h.rec.dir, err)
		}
	}
	return true, nil
}

func (s *stream) add(it item, t int64) {
	s.mark = max(s.mark, t)
	it.key = s.mark
	s.items = append(s.items, it)
}

func (s *stream) record(rec trace.Record) error {
	h := s.h
	switch rec.Type {
	case trace.RecEvents:
		return rec.Events(func(e trace.Event) {
			h.event(&e)
			s.add(item{kind: itemEvent, ev: e}, int64(e.TsNs))
		})
	case trace.RecSamples:
		return rec.Samples(func(x trace.Sample) {
			h.sample(&x)
			s.add(item{kind: itemSample, s: x}, x.MonoBeforeNs)
		})
	case trace.RecLinkSamples:
		return rec.LinkSamples(func(x trace.LinkSample) {
			h.linkSample(&x)
			s.add(item{kind: itemLinkSample, ls: x}, x.MonoBeforeNs)
		})
	case trace.RecNICSamples:
		return rec.NICSamples(func(x trace.NICSample) {
			h.nicSample(&x)
			s.add(item{kind: itemNICSample, ns: x}, x.MonoBeforeNs)
		})
	}
	v, ok, err := rec.Meta()
	if err != nil {
		return err
	}
	if !ok {
		s.unknown[rec.Type]++
		return nil
	}
	if l, isLost := v.(trace.Lost); isLost {
		s.add(item{kind: itemLost, lost: l.Count}, h.mono(l.MonoNs))
		return nil
	}
	t, out, keep, known := h.meta(v)
	switch {
	case !known:
		s.unknown[rec.Type]++
	case keep:
		s.add(item{kind: itemMeta, typ: t, meta: out}, math.MinInt64)
	}
	return nil
}

// streams is a heap of streams by their current item's key, then host.
type streams []*stream

func (q streams) Len() int { return len(q) }
func (q streams) Less(i, j int) bool {
	a, b := q[i].current().key, q[j].current().key
	return a < b || a == b && q[i].h.idx < q[j].h.idx
}
func (q streams) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *streams) Push(x any)   { *q = append(*q, x.(*stream)) }
func (q *streams) Pop() any {
	old := *q
	s := old[len(old)-1]
	*q = old[:len(old)-1]
	return s
}
