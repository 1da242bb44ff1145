package report

import (
	"slices"
	"sort"
)

// keptSpans is how many spans a spanUnion keeps apart at least (16 bytes
// each; at most twice as many).
const keptSpans = 64

// span is one call's modelled execution on its GPU, [start, end).
type span struct{ start, end int64 }

// spanUnion measures the union of time spans that arrive about in the
// order they end (an engine hands calls over as they finish): the time at
// least one of them covered, overlaps counted once. It keeps the latest
// keptSpans (to twice that) disjoint spans and folds older ones into a
// total, so memory is bounded whatever the recording's length. The one
// approximation: a span that reaches back before every kept span (one call
// of a row outliving at least 64 of that row's other calls on its GPU)
// counts that part in full, even if it overlaps a span already folded.
type spanUnion struct {
	kept   []span // disjoint, in start order
	folded int64  // length of the spans folded out of kept
}

func (u *spanUnion) add(start, end int64) {
	if end <= start {
		return
	}
	if n := len(u.kept); n == 0 || start > u.kept[n-1].end { // the usual case: past the latest
		u.kept = append(u.kept, span{start, end})
		u.fold()
		return
	} else if start >= u.kept[n-1].start {
		u.kept[n-1].end = max(u.kept[n-1].end, end)
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
	u.fold()
}

// fold keeps the latest keptSpans spans apart once twice that many are
// kept (folding in batches keeps an append cheap).
func (u *spanUnion) fold() {
	if len(u.kept) <= 2*keptSpans {
		return
	}
	old := len(u.kept) - keptSpans
	for _, s := range u.kept[:old] {
		u.folded += s.end - s.start
	}
	u.kept = u.kept[:copy(u.kept, u.kept[old:])]
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
