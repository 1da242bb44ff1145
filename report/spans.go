package report

import (
	"slices"
	"sort"
)

// keptSpans bounds the spans a spanUnion keeps apart (16 bytes each).
const keptSpans = 64

// span is one call's modelled execution on its GPU, [start, end).
type span struct{ start, end int64 }

// spanUnion measures the union of time spans that arrive about in the
// order they end (an engine hands calls over as they finish): the time at
// least one of them covered, overlaps counted once. It keeps the latest
// keptSpans disjoint spans and folds older ones into a total, so memory is
// bounded whatever the recording's length. The one approximation: a span
// that reaches back before every kept span (one call of a row outliving 64
// of that row's other calls on its GPU) counts that part in full, even if
// it overlaps a span already folded.
type spanUnion struct {
	kept   []span // disjoint, in start order
	folded int64  // length of the spans folded out of kept
}

func (u *spanUnion) add(start, end int64) {
	if end <= start {
		return
	}
	// The first kept span that ends at or after start: it and those after
	// it that start by end merge with the new one.
	i := sort.Search(len(u.kept), func(i int) bool { return u.kept[i].end >= start })
	j := i
	for ; j < len(u.kept) && u.kept[j].start <= end; j++ {
		start, end = min(start, u.kept[j].start), max(end, u.kept[j].end)
	}
	u.kept = slices.Replace(u.kept, i, j, span{start, end})
	if len(u.kept) > keptSpans {
		u.folded += u.kept[0].end - u.kept[0].start
		u.kept = slices.Delete(u.kept, 0, 1)
	}
}

// merge adds another union's spans (of the same row and GPU).
func (u *spanUnion) merge(o *spanUnion) {
	u.folded += o.folded
	for _, s := range o.kept {
		u.add(s.start, s.end)
	}
}

// total is the length of the union.
func (u *spanUnion) total() int64 {
	t := u.folded
	for _, s := range u.kept {
		t += s.end - s.start
	}
	return t
}
