package correlate

import (
	"math"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// column is one unknown of the fit: the wire factor of a class of calls
// (bytes on the wire per ring-algorithm byte), or the bytes one launch of
// a CUDA graph captured before the recording moves (graph > 0). There is
// no column for background traffic: a served model's steady decode
// traffic would look the same, and the background's share of a row is
// what trimming and the prior are for.
type column struct {
	kind   trace.Kind
	class  int16 // quarter-octave message size class (fitClass)
	fine   int16 // 1/fineSteps-octave message size class (fineClass), inside class
	group  int16 // a group of point-to-point calls (fitgroup.go): how many; class and fine 0
	nranks int16 // communicator size
	pid    uint32
	graph  int32
	link   Link // the link whose rows it is fitted from
}

func (c column) isGraph() bool { return c.graph > 0 }

// fitClass is a message's quarter-octave class: sizes in
// (2^((q-1)/4), 2^(q/4)]. Classes are finer than the report's power-of-two
// buckets because NCCL switches protocol at a size: a class that holds
// sizes on both sides of a switch has no one factor.
func fitClass(msg uint64) int16 {
	if msg <= 1 {
		return 0
	}
	return int16(math.Ceil(4 * math.Log2(float64(msg))))
}

// fineSteps is the classes per octave of fineClass: 0.27% apart, so two
// messages a token of a served model apart (8-16 KiB of 1-4 MiB) fall in
// two fine classes. Two prefill waves less than 1/32 octave apart (the
// step before) straddled NCCL's switch from LL to LL128 in one class
// (physim served seed 40 on 2 ranks: fitted 1.34 for 2.03 and 1.06, one
// wave 20% short of its bytes).
const fineSteps = 256

// fineClass is a message's 1/fineSteps-octave class: a class that holds
// sizes on both sides of a protocol switch is split into these
// (fitsplit.go).
func fineClass(msg uint64) int16 {
	if msg <= 1 {
		return 0
	}
	return int16(math.Ceil(fineSteps * math.Log2(float64(msg))))
}

// upper is the largest message of the column's class.
func (c column) upper() uint64 { return uint64(math.Round(math.Exp2(float64(c.class) / 4))) }

// prior is what the fit assumes with no data: the protocol table's factor
// for a class of calls, nothing for a graph (its contents are unknown).
func (c column) prior() float64 {
	if c.graph != 0 {
		return 0
	}
	return ProtocolOf(c.kind, c.upper()).Factor()
}

// entry is one column's coefficient in a row.
type entry struct {
	col int
	a   float64
}

// row is one observation: the link bytes of a stretch of one GPU's
// activity (b) against what each column's calls there would move at
// factor 1 (a).
type row struct {
	b       float64
	entries []entry
	sum     *launchSum // a graph's launch-only rows summed (launchsum.go)
	// gpu and seq place the row in its GPU's stretches (fitmerge.go):
	// seq counts the rows handed to the fitter for that GPU, from 1; gpu
	// -1 has no neighbours. joinsPrev: the row and the one before it are
	// two chunks of one segment (a chunk cut, not idle link, between).
	gpu       int32
	seq       uint32
	joinsPrev bool
}

// maxRows bounds the rows kept for the fit: beyond it a uniform sample
// (reservoir) stands for all, so memory does not grow with the trace.
const maxRows = 1 << 17

// rowNoise is added to a row's bytes when rows are weighted by their size:
// counters move in KiB, and tiny rows should not dominate the fit.
const rowNoise = 256 << 10

// fitter collects rows; columns are numbered in order of appearance.
type fitter struct {
	cols  []column
	index map[column]int
	rows  []row
	sums  map[int]*launchSum  // by graph column
	table map[column]tableSum // by point-to-point group column (fitgroup.go)
	order map[int32]uint32    // rows handed over per GPU (row.seq)
	last  map[int32]int       // per GPU, the index of its last row kept
	seen  uint64
	rng   uint64
}

func newFitter() *fitter {
	return &fitter{index: map[column]int{}, sums: map[int]*launchSum{}, table: map[column]tableSum{},
		order: map[int32]uint32{}, last: map[int32]int{}, rng: 0x9e3779b97f4a7c15}
}

func (f *fitter) col(c column) int {
	i, ok := f.index[c]
	if !ok {
		i = len(f.cols)
		f.cols = append(f.cols, c)
		f.index[c] = i
	}
	return i
}

// add keeps a row of no GPU's sequence (the entries slice is copied).
func (f *fitter) add(b float64, entries []entry) { f.addOn(-1, false, b, entries) }

// addOn keeps the next row of a GPU's stretches (the entries slice is
// copied); joinsPrev says it continues the segment of the row before.
func (f *fitter) addOn(gpu int, joinsPrev bool, b float64, entries []entry) {
	if len(entries) == 0 {
		return
	}
	g := int32(gpu)
	if col, ok := f.launchOnly(entries); ok {
		f.order[g]++
		f.addLaunchOnly(col, b, entries[0].a)
		return
	}
	if joinsPrev && b < rowNoise && f.joinLast(g, b, entries) {
		return
	}
	f.order[g]++
	f.last[g] = f.keepRow(row{b: b, entries: slices.Clone(entries), gpu: g, seq: f.order[g], joinsPrev: joinsPrev})
}

// joinLast adds a chunk that moved (almost) nothing to the chunk of its
// segment before it, if that is still the GPU's last row: its calls ran
// there (the model finished them late), and alone, a row of calls and no
// bytes pulls their factor toward zero with the weight of a small row
// (physim twocomms seed 74 on 2 ranks: six 16 KiB all-reduces in a chunk
// of 0 bytes, their class fitted 1.64 for the simulator's 1.98).
func (f *fitter) joinLast(g int32, b float64, entries []entry) bool {
	i, ok := f.last[g]
	if !ok || i < 0 || i >= len(f.rows) || f.rows[i].gpu != g || f.rows[i].seq != f.order[g] {
		return false
	}
	r := &f.rows[i]
	r.b += b
	for _, e := range entries {
		addEntry(&r.entries, e.col, e.a)
	}
	return true
}

// keepRow keeps a row, or a uniform sample of the rows beyond maxRows; it
// returns where the row went (-1: not kept).
func (f *fitter) keepRow(r row) int {
	f.seen++
	if len(f.rows) < maxRows {
		f.rows = append(f.rows, r)
		return len(f.rows) - 1
	}
	if j := f.rand(f.seen); j < maxRows {
		f.rows[j] = r
		return int(j)
	}
	return -1
}

// rand is a deterministic draw in [0, n): the same trace fits the same.
func (f *fitter) rand(n uint64) uint64 {
	f.rng ^= f.rng << 13
	f.rng ^= f.rng >> 7
	f.rng ^= f.rng << 17
	return f.rng % n
}

// merge adds another fitter's rows (of other GPUs).
func (f *fitter) merge(o *fitter) {
	remap := make([]int, len(o.cols))
	for i, c := range o.cols {
		remap[i] = f.col(c)
	}
	for _, r := range o.rows {
		for i := range r.entries {
			r.entries[i].col = remap[r.entries[i].col]
		}
		f.keepRow(r)
	}
	f.seen += o.seen - uint64(len(o.rows))
	for c, s := range o.table {
		t := f.table[c]
		f.table[c] = tableSum{t.ring + s.ring, t.wire + s.wire}
	}
	for col, s := range o.sums {
		c := remap[col]
		if f.sums[c] == nil {
			f.sums[c] = &launchSum{}
		}
		f.sums[c].merge(s)
	}
}

// Fitted is the outcome of the fit: a value per column.
type Fitted struct {
	values map[column]float64
	priors map[column]float64 // the protocol table's, of the columns in values
	rows   []FitRow
}

// modelled is what a learning pass after this fit models classes of
// calls with: the fitted factor where it is below the protocol table's,
// else the table's. A factor too low makes a call finish early in the
// model, which the next launch's host time bounds; one too high makes
// the model fall further behind the link with every call, its queue
// never drains and the rows' cuts stop (physim served seed 19 on 2
// ranks: decode fitted 2.22 for the simulator's 1.99, and modelled at
// that, 2.88 the pass after).
func (fd *Fitted) modelled() *Fitted {
	m := &Fitted{values: map[column]float64{}, priors: map[column]float64{}}
	for c, v := range fd.values {
		if p := fd.priors[c]; !c.isGraph() && v < p {
			m.values[c], m.priors[c] = v, p
		}
	}
	return m
}

// change is the largest relative change of a class of calls' factor from
// model's (nil: the protocol table's) to fd's.
func (fd *Fitted) change(model *Fitted) float64 {
	worst := 0.0
	diff := func(a, b *Fitted) {
		for c, v := range a.values {
			if was := b.factor(c, a.priors[c]); was > 0 {
				worst = max(worst, math.Abs(v/was-1))
			}
		}
	}
	diff(fd, model)
	if model != nil {
		diff(model, fd)
	}
	return worst
}

// factor is the fitted wire factor of a class, or def without one.
func (fd *Fitted) factor(c column, def float64) float64 {
	if fd != nil {
		if v, ok := fd.values[c]; ok {
			return v
		}
	}
	return def
}

// maxFactorRatio bounds a fitted wire factor around its prior: NCCL's
// protocols move 1 to about 2.1 bytes per payload byte, so a fit further
// off says the rows placed calls wrongly (a wave of collectives split
// from its bytes), not that the wire is so; the bound keeps such a fit
// from starving the calls of bytes.
const maxFactorRatio = 2.5

func clampFactor(p, v float64) float64 {
	if p <= 0 {
		return v
	}
	return min(max(v, p/maxFactorRatio), p*maxFactorRatio)
}

// Rows reports the fit, calls' classes first.
func (fd *Fitted) Rows() []FitRow {
	if fd == nil {
		return nil
	}
	return fd.rows
}

// trimRounds is how often rows that the fit explains badly (traffic no
// call explains, a call placed in the wrong stretch) are dropped and the
// fit redone; trimResidual is what "badly" means.
const (
	trimRounds   = 3
	trimResidual = 0.4
	rowSigma     = 0.05
	priorSigma   = 0.5
)

// solve fits every column by non-negative least squares over the rows,
// each row weighted by its size (relative error), with the protocol table
// as a prior worth about one row. Rows it explains worse than
// trimResidual are dropped and the fit redone.
func (f *fitter) solve() *Fitted {
	if len(f.cols) == 0 {
		return &Fitted{values: map[column]float64{}, priors: map[column]float64{}}
	}
	rows := f.rows
	first := f.summedRows()
	defer func() { f.rows = rows[:first] }()
	m := f.byClass()
	keep, x := f.fitRounds(m)
	if split := f.splitClasses(m, x); split != nil {
		m = split
		keep, x = f.fitRounds(m)
	}
	if merged := f.mergeTrimmed(keep, m, x, first); merged != nil {
		f.rows = merged
		keep, x = f.fitRounds(m)
	}
	return f.report(keep, m, x)
}

// fitRounds fits the unknowns of m over all rows, drops the rows it
// explains badly and fits again, then once more with the weights of the
// final fit (see weight).
func (f *fitter) fitRounds(m *unknowns) ([]bool, []float64) {
	keep := make([]bool, len(f.rows))
	for i := range keep {
		keep[i] = true
	}
	var x []float64
	for round := 0; ; round++ {
		x = f.nnls(keep, m, x)
		if round == trimRounds || !f.trim(keep, m, x) {
			break
		}
	}
	return keep, f.nnls(keep, m, x)
}

// weight makes a row's misfit relative to its size: the larger of its
// bytes and what the last fit (at first the priors) expects of it. By its
// bytes alone, a row that lost a call's bytes to the next would weigh more
// than one that gained them, and the fit would lean low; a row of calls
// that saw no bytes is no more certain than one that saw them.
func (f *fitter) weight(r *row, m *unknowns, x []float64) float64 {
	if r.sum != nil {
		return r.sum.weight()
	}
	var exp float64
	for _, e := range r.entries {
		u := m.of[e.col]
		v := m.prior[u]
		if x != nil {
			v = x[u]
		}
		exp += e.a * v
	}
	return 1 / (max(r.b, exp) + rowNoise)
}

// residual is a row's relative misfit under x.
func (f *fitter) residual(r *row, m *unknowns, x []float64) float64 {
	var pred float64
	for _, e := range r.entries {
		pred += e.a * x[m.of[e.col]]
	}
	return math.Abs(r.b-pred) / (max(r.b, pred) + rowNoise)
}

// trim drops rows worse than trimResidual, but never more than half of
// those kept. It reports whether anything changed.
func (f *fitter) trim(keep []bool, m *unknowns, x []float64) bool {
	var res []float64
	for i := range f.rows {
		if keep[i] {
			res = append(res, f.residual(&f.rows[i], m, x))
		}
	}
	if len(res) == 0 {
		return false
	}
	limit := trimResidual
	sorted := slices.Clone(res)
	slices.Sort(sorted)
	limit = max(limit, sorted[len(sorted)/2])
	changed := false
	for i := range f.rows {
		// A summed row is a mean already: trimming it would drop a graph's
		// evidence whole.
		if keep[i] && f.rows[i].sum == nil && f.residual(&f.rows[i], m, x) > limit {
			keep[i], changed = false, true
		}
	}
	return changed
}

// nnls solves the weighted normal equations with a ridge toward the
// priors: of columns the rows cannot tell apart (calls that always run
// together) the rows fix the sum, and the ridge moves each factor by a
// share that grows with its expected bytes. Negative solutions are
// pinned at zero and the rest solved again (active set).
func (f *fitter) nnls(keep []bool, m *unknowns, last []float64) []float64 {
	n := len(m.cols)
	g, h := f.normal(keep, m, last)
	free := make([]bool, n)
	for k := range free {
		free[k] = true
	}
	x := make([]float64, n)
	for range n + 1 {
		solveFree(g, h, free, x)
		neg := false
		for k := range x {
			if free[k] && x[k] < 0 {
				free[k], x[k], neg = false, 0, true
			}
		}
		if !neg {
			break
		}
	}
	return x
}

// normal builds the weighted normal equations G x = h of the kept rows,
// each row weighted by its size (so its misfit is relative), plus the
// prior: a row misfits by about rowSigma (calls near a chunk's edge, KiB
// counters), a factor is its prior within priorSigma. So a column is
// fitted from the data only as far as the rows can tell it apart from the
// columns it runs with; a graph's bytes have no prior.
func (f *fitter) normal(keep []bool, m *unknowns, last []float64) (g, h []float64) {
	n := len(m.cols)
	g, h = make([]float64, n*n), make([]float64, n)
	for i := range f.rows {
		if !keep[i] {
			continue
		}
		r := &f.rows[i]
		w := f.weight(r, m, last)
		for _, e := range r.entries {
			u := m.of[e.col]
			h[u] += w * e.a * w * r.b
			for _, o := range r.entries {
				g[u*n+m.of[o.col]] += w * e.a * w * o.a
			}
		}
	}
	for k, p := range m.prior {
		// Without a prior only a trace of ridge, relative to the column's
		// own scale (a graph's coefficients are launch counts), keeps the
		// equations solvable.
		lambda := 1e-9*g[k*n+k] + 1e-300
		if p > 0 {
			lambda = (rowSigma / priorSigma / p) * (rowSigma / priorSigma / p)
		}
		g[k*n+k] += lambda
		h[k] += lambda * p
	}
	return g, h
}

// solveFree solves G x = h over the free columns (the others stay as
// they are, zero) by Gaussian elimination with partial pivoting.
func solveFree(g, h []float64, free []bool, x []float64) {
	n := len(h)
	var idx []int
	for k := range n {
		if free[k] {
			idx = append(idx, k)
		}
	}
	m := len(idx)
	a := make([]float64, m*(m+1))
	for i, ki := range idx {
		for j, kj := range idx {
			a[i*(m+1)+j] = g[ki*n+kj]
		}
		a[i*(m+1)+m] = h[ki]
	}
	for col := range m {
		p := col
		for r := col + 1; r < m; r++ {
			if math.Abs(a[r*(m+1)+col]) > math.Abs(a[p*(m+1)+col]) {
				p = r
			}
		}
		for j := range m + 1 {
			a[col*(m+1)+j], a[p*(m+1)+j] = a[p*(m+1)+j], a[col*(m+1)+j]
		}
		piv := a[col*(m+1)+col]
		if piv == 0 {
			continue
		}
		for r := range m {
			if r == col {
				continue
			}
			fct := a[r*(m+1)+col] / piv
			for j := col; j <= m; j++ {
				a[r*(m+1)+j] -= fct * a[col*(m+1)+j]
			}
		}
	}
	for i, k := range idx {
		if piv := a[i*(m+1)+i]; piv != 0 {
			x[k] = a[i*(m+1)+m] / piv
		}
	}
}
