package correlate

import "math"

// FitRow reports the fit of one column.
type FitRow struct {
	Op         string  `json:"op"` // "CUDAGraph" for a graph captured before the recording
	SizeBucket string  `json:"size_bucket,omitempty"`
	NRanks     int     `json:"nranks,omitempty"`
	Protocol   string  `json:"protocol,omitempty"` // the protocol table's guess
	Default    float64 `json:"default_factor"`
	Fitted     float64 `json:"fitted_factor"` // graphs: bytes per launch
	// Segments is how many stretches of activity the column appeared in
	// (the rows kept for the fit); Residual is their RMS relative misfit.
	Segments int     `json:"segments"`
	Residual float64 `json:"residual"`
	Applied  bool    `json:"applied"`
	Pid      uint32  `json:"pid,omitempty"`
	Graph    int     `json:"graph,omitempty"`
	// Link is "net" for a factor fitted on the network link (its rows are
	// the network link's); absent for NVLink.
	Link string `json:"link,omitempty"`
}

func (f *fitter) report(keep []bool, m *unknowns, x []float64) *Fitted {
	segs, res := f.misfits(keep, m, x)
	fd := &Fitted{values: map[column]float64{}, priors: map[column]float64{}}
	applied := make([]bool, len(m.cols))
	for _, u := range m.order() {
		c := m.cols[u]
		def := f.tablePrior(c)
		x[u] = clampFactor(def, x[u])
		// A fine class of a split class without rows of its own keeps the
		// class's fit, its prior.
		applied[u] = segs[u] > 0 || c.fine != 0
		fr := FitRow{Op: c.op(), Default: def, Fitted: x[u], Segments: segs[u], Residual: res[u], Applied: applied[u]}
		if c.link != NVLink {
			fr.Link = c.link.String()
		}
		switch {
		case c.isGraph():
			fr.Op, fr.Pid, fr.Graph = graphOp, c.pid, int(c.graph)
		case c.group > 0:
			fr.NRanks = int(c.nranks)
		default:
			fr.SizeBucket, fr.NRanks, fr.Protocol = FormatBytes(c.upperSize()), int(c.nranks), ProtocolOf(c.kind, c.upper()).String()
		}
		fd.rows = append(fd.rows, fr)
	}
	for k, c := range f.cols {
		if u := m.of[k]; applied[u] {
			fd.values[c], fd.priors[c] = x[u], f.tablePrior(m.cols[u])
		}
	}
	return fd
}

// misfits counts each unknown's kept rows (a summed row counts the
// stretches summed) and their RMS relative misfit under x.
func (f *fitter) misfits(keep []bool, m *unknowns, x []float64) (segs []int, res []float64) {
	n := len(m.cols)
	segs, res = make([]int, n), make([]float64, n)
	seen := make([]int, n) // an unknown counts once per row
	for i := range f.rows {
		if !keep[i] {
			continue
		}
		if s := f.rows[i].sum; s != nil {
			u := m.of[f.rows[i].entries[0].col]
			segs[u] += s.n
			res[u] += s.squares(x[u])
			continue
		}
		r := f.residual(&f.rows[i], m, x)
		for _, e := range f.rows[i].entries {
			if u := m.of[e.col]; seen[u] != i+1 {
				seen[u] = i + 1
				segs[u]++
				res[u] += r * r
			}
		}
	}
	for u := range res {
		if segs[u] > 0 {
			res[u] = math.Sqrt(res[u] / float64(segs[u]))
		}
	}
	return segs, res
}

// graphOp names the launches of CUDA graphs captured before the recording.
const graphOp = "CUDAGraph"
