package correlate

import "slices"

// A row the fit explains badly is often half of a cut in the wrong place:
// the model, ahead of the link (a factor it underestimates), counted a
// wave's last calls in the row before a dip inside the wave and their
// bytes fell in the row after it. Trimmed, the row after took its bytes
// out of the fit, and the row before, kept, pulled its class's factor low
// (physim served seed 26 on 8 ranks: a 4 MiB class fitted 1.044 for the
// simulator's 1.070, its waves 2.3% short). Two chunks of one segment
// that follow each other are one observation when summed, whatever the
// cut between them: the trimmed row joins the neighbour it fits best with,
// where the sum fits within trimResidual, and the fit is redone. Never
// across a segment's end: no bytes cross idle link, and a row trimmed
// there misfits for another reason.

// mergeTrimmed returns the rows with each trimmed row summed into the kept
// chunk of its segment before or after it, or nil when no row was
// merged. Rows from first on (launch sums) are kept as they are.
func (f *fitter) mergeTrimmed(keep []bool, m *unknowns, x []float64, first int) []row {
	at := map[[2]int64]int{} // (gpu, seq) -> row
	for i, r := range f.rows[:first] {
		if r.gpu >= 0 {
			at[[2]int64{int64(r.gpu), int64(r.seq)}] = i
		}
	}
	into := map[int][]int{} // kept row -> trimmed rows joining it
	for i, r := range f.rows[:first] {
		if keep[i] || r.gpu < 0 {
			continue
		}
		best, bestRes := -1, trimResidual
		for _, d := range []int64{-1, 1} {
			j, ok := at[[2]int64{int64(r.gpu), int64(r.seq) + d}]
			if !ok || !keep[j] || d < 0 && !r.joinsPrev || d > 0 && !f.rows[j].joinsPrev {
				continue // idle link between: no bytes crossed
			}
			sum := sumRows(&f.rows[j], &r)
			if res := f.residual(&sum, m, x); res < bestRes {
				best, bestRes = j, res
			}
		}
		if best >= 0 {
			into[best] = append(into[best], i)
		}
	}
	if len(into) == 0 {
		return nil
	}
	joined := map[int]bool{}
	for _, is := range into {
		for _, i := range is {
			joined[i] = true
		}
	}
	out := make([]row, 0, len(f.rows))
	for i, r := range f.rows {
		switch {
		case joined[i]:
			continue
		case len(into[i]) > 0:
			for _, o := range into[i] {
				r = sumRows(&r, &f.rows[o])
			}
		}
		out = append(out, r)
	}
	return out
}

// sumRows is two rows as one: their bytes and each column's calls added
// (new slices: the rows are not changed).
func sumRows(a, b *row) row {
	s := row{b: a.b + b.b, entries: slices.Clone(a.entries), gpu: a.gpu, seq: a.seq, joinsPrev: a.joinsPrev}
	for _, e := range b.entries {
		addEntry(&s.entries, e.col, e.a)
	}
	return s
}
