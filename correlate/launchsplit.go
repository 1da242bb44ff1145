package correlate

import "slices"

// A launch of a graph captured before the recording has unknown bytes, so
// the first pass cannot model when they run: it counts the launch in the
// row of the fit open at its launch time. A row cut soon after a launch
// would then hold the launch but few of its bytes, and the next row its
// bytes without it. Where the cut follows known work (a prefill wave), the
// first launch after it is such a launch every time, and the row of
// launches alone after it, summed into the graph's row (launchsum.go),
// carries bytes no launch in it accounts for: the graph's bytes per launch
// come out high (physim served-graphs-before). So a launch's count is split
// at a cut by time: the launch runs from its launch time until its stream
// next starts work (its next launch or call, which the stream runs after
// it), its bytes spread over that window (a decode step spreads its
// collectives over its layers), and each row counts the part of the
// window it holds. A row whose launch's window is still open is held until
// the stream's next work, the next cut or the segment's end closes it.

// launchWindow is one launch of unknown bytes on a stream, from its
// launch time to when its stream next started work.
type launchWindow struct {
	stream     *stream
	col        int
	a          float64 // the launch's coefficient in its row
	start, end int64   // end 0: the stream has started nothing since
	chunk      uint64  // the chunk it counted in; 0: not placed yet
}

// share is the part of the window before t.
func (w *launchWindow) share(t int64) float64 {
	if w.end <= w.start {
		return 1
	}
	return min(1, max(0, float64(t-w.start)/float64(w.end-w.start)))
}

// heldRow is a closed row waiting for the windows that run past its end.
type heldRow struct {
	b         float64
	entries   []entry
	cutNs     int64
	open      []*launchWindow
	joinsPrev bool // as row.joinsPrev
}

// window starts the window of a launch of unknown bytes on s at t.
func (lg *learnGPU) window(s *stream, col int, a float64, t int64) *launchWindow {
	w := &launchWindow{stream: s, col: col, a: a, start: t}
	for i, o := range lg.last {
		if o.stream == s {
			lg.last[i] = w
			return w
		}
	}
	lg.last = append(lg.last, w)
	return w
}

// placed records that w counted in the open chunk, or, waiting, that it
// runs when the link next moves bytes (startWaiting). It replaces its
// stream's window before it, which ended at its launch (nextWork).
func (lg *learnGPU) placed(w *launchWindow, waiting bool) {
	list := &lg.inChunk
	if waiting {
		lg.inChunk = dropStream(lg.inChunk, w.stream)
		list = &lg.waitingW
	} else {
		w.chunk = lg.chunkSeq
	}
	*list = append(dropStream(*list, w.stream), w)
}

// startWaiting places the windows of launches that waited for the link:
// they start with its active interval starting at t.
func (lg *learnGPU) startWaiting(t int64) {
	for _, w := range lg.waitingW {
		w.start = max(w.start, t)
		lg.placed(w, false)
	}
	lg.waitingW = lg.waitingW[:0]
}

// dropStream removes s's window from list.
func dropStream(list []*launchWindow, s *stream) []*launchWindow {
	return slices.DeleteFunc(list, func(w *launchWindow) bool { return w.stream == s })
}

// nextWork closes the window of the last launch of unknown bytes on s:
// its stream started other work at t.
func (ln *learner) nextWork(lg *learnGPU, s *stream, t int64) {
	for _, w := range lg.last {
		if w.stream != s || w.end != 0 || t <= w.start {
			continue
		}
		w.end = t
		if h := lg.held; h != nil {
			ln.settle(lg, h, w)
		}
	}
}

// splitAtCut takes from the closing chunk the part of each launch whose
// window runs past the cut at t: a closed window's goes to carry (for the
// next chunk); open windows are returned, to hold the row.
func (ln *learner) splitAtCut(lg *learnGPU, t int64, carry []entry) ([]entry, []*launchWindow) {
	var open []*launchWindow
	for _, w := range lg.inChunk {
		switch {
		case w.chunk != lg.chunkSeq || w.end != 0 && w.end <= t:
		case w.end != 0:
			amt := w.a * (1 - w.share(t))
			addEntry(&lg.entries, w.col, -amt)
			carry = append(carry, entry{col: w.col, a: amt})
		default:
			open = append(open, w)
		}
	}
	lg.inChunk = lg.inChunk[:0]
	return carry, open
}

// settle moves the part of w after the held row's cut into the open
// chunk, and adds the row to the fit once no window holds it.
func (ln *learner) settle(lg *learnGPU, h *heldRow, w *launchWindow) {
	i := -1
	for j, o := range h.open {
		if o == w {
			i = j
		}
	}
	if i < 0 {
		return
	}
	h.open = append(h.open[:i], h.open[i+1:]...)
	amt := w.a * (1 - w.share(h.cutNs))
	addEntry(&h.entries, w.col, -amt)
	addEntry(&lg.entries, w.col, amt)
	if len(h.open) == 0 {
		ln.fit.addOn(lg.gpu, h.joinsPrev, h.b, h.entries)
		lg.held = nil
	}
}

// release closes the windows still holding a row at t: the next cut, or
// the link's last bytes when the segment ends.
func (ln *learner) release(lg *learnGPU, t int64) {
	h := lg.held
	if h == nil {
		return
	}
	for len(h.open) > 0 {
		w := h.open[0]
		if w.end == 0 {
			w.end = max(t, w.start)
		}
		ln.settle(lg, h, w)
	}
}

// addEntry adds a to column col of a row's entries.
func addEntry(list *[]entry, col int, a float64) {
	for i := range *list {
		if (*list)[i].col == col {
			(*list)[i].a += a
			return
		}
	}
	*list = append(*list, entry{col: col, a: a})
}
