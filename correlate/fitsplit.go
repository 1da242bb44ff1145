package correlate

import (
	"cmp"
	"math"
	"slices"
)

// NCCL switches protocol at a message size its tuning chose, which the
// model does not know; a quarter-octave class (fitClass) may hold sizes on
// both sides, and then no one factor fits it: its rows misfit by far more
// than the others' (a served model's prefill waves of varying token
// counts: 0.27 where the classes beside it have under 0.01). Such a class
// is split into its fine classes (fineClass), each fitted on its
// own with the class's fit as its prior, so a fine class whose calls the
// rows tell apart follows the data and one they do not stays at the
// class's factor.

// splitResidual is the RMS relative misfit of a class's rows above which
// the class is not one factor: rows misfit by about rowSigma, so twice
// that is more than a row's edges or the counters explain.
const splitResidual = 2 * rowSigma

// unknowns is what the fit solves for: each column of the rows (a fine
// class of calls, or a graph) maps to an unknown, its class's unless the
// class is split.
type unknowns struct {
	of    []int     // per column of the fitter: its unknown
	cols  []column  // per unknown: a class (fine 0), a split class's fine class, or a graph
	prior []float64 // per unknown
	index map[column]int
}

func (m *unknowns) add(c column, prior float64) int {
	u, ok := m.index[c]
	if !ok {
		u = len(m.cols)
		m.cols, m.prior = append(m.cols, c), append(m.prior, prior)
		m.index[c] = u
	}
	return u
}

// classOf is the quarter-octave class a column's calls belong to.
func classOf(c column) column {
	c.fine = 0
	return c
}

// byClass maps every column to its class, with the protocol table's prior.
func (f *fitter) byClass() *unknowns {
	m := &unknowns{of: make([]int, len(f.cols)), index: map[column]int{}}
	for k, c := range f.cols {
		m.of[k] = m.add(classOf(c), f.tablePrior(c))
	}
	return m
}

// splitClasses returns the unknowns with every class that x fits badly
// (splitResidual) and that holds more than one fine class split into its
// fine classes, their prior the class's fit; nil if none is. Badly over
// every row, trimmed or not: a class whose sizes on one side of a switch
// ran in a few rows only (one prefill wave LL, the rest LL128) had those
// rows trimmed as misfits, fitted the rest exactly and stayed whole, and
// that wave got half its bytes (physim served-graphs-before seed 45 on 2
// ranks: AllReduce -5.0%, the wave -47%).
func (f *fitter) splitClasses(m *unknowns, x []float64) *unknowns {
	every := make([]bool, len(f.rows))
	for i := range every {
		every[i] = true
	}
	_, res := f.misfits(every, m, x)
	fines := make([]int, len(m.cols))
	for k := range f.cols {
		fines[m.of[k]]++
	}
	split := func(u int) bool {
		return !m.cols[u].isGraph() && m.cols[u].group == 0 && fines[u] > 1 && res[u] > splitResidual
	}
	if !slices.ContainsFunc(m.of, split) {
		return nil
	}
	out := &unknowns{of: make([]int, len(f.cols)), index: map[column]int{}}
	for k, c := range f.cols {
		u := m.of[k]
		if split(u) {
			out.of[k] = out.add(c, clampFactor(f.tablePrior(c), x[u]))
		} else {
			out.of[k] = out.add(m.cols[u], m.prior[u])
		}
	}
	return out
}

// order lists the unknowns as the report does: graphs after calls; calls
// by op, ranks and size (the class's upper size, not a power of two).
func (m *unknowns) order() []int {
	order := make([]int, len(m.cols))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := m.cols[i], m.cols[j]
		return cmp.Or(cmp.Compare(a.graph, b.graph), cmp.Compare(a.kind.Op(), b.kind.Op()),
			cmp.Compare(a.nranks, b.nranks), cmp.Compare(a.class, b.class), cmp.Compare(a.fine, b.fine),
			cmp.Compare(a.pid, b.pid), cmp.Compare(a.link, b.link))
	})
	return order
}

// upperSize is the largest message of what the unknown stands for: its
// fine class where the class is split, else its class.
func (c column) upperSize() uint64 {
	if c.fine == 0 {
		return c.upper()
	}
	return uint64(math.Round(math.Exp2(float64(c.fine) / fineSteps)))
}
