package correlate

import (
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// classKey is the unit of calibration: an op and a message size class.
type classKey struct {
	kind  trace.Kind
	class int8
}

// calWindow is how many recent observations a class's factor is the
// median of, so the fit follows a protocol change (NCCL retuning) while
// its memory stays bounded.
const calWindow = 32

// calMinObs is how many clean bursts a class needs before its fitted
// factor replaces the protocol default.
const calMinObs = 5

// classFit keeps recent observed factors of one class.
type classFit struct {
	def    float64
	recent [calWindow]float64
	n      int
	factor float64
}

// calibrator fits the wire factor (wire bytes per ring-algorithm byte) of
// each class from bursts that one class explains alone.
type calibrator struct {
	off bool
	m   map[classKey]*classFit
}

func newCalibrator(off bool) *calibrator {
	return &calibrator{off: off, m: map[classKey]*classFit{}}
}

// factor is the wire factor to model a call of class k with.
func (c *calibrator) factor(k classKey, def float64) float64 {
	if f := c.m[k]; f != nil && f.n >= calMinObs && !c.off {
		return f.factor
	}
	return def
}

// observe adds one clean burst: observed bytes over ring-algorithm bytes.
// Ratios far from the default (a burst cut by a sampling gap, traffic of
// something else) are kept out of the fit.
func (c *calibrator) observe(k classKey, ratio, def float64) {
	if ratio < def/2 || ratio > def*2 {
		return
	}
	f := c.m[k]
	if f == nil {
		f = &classFit{def: def}
		c.m[k] = f
	}
	f.recent[f.n%calWindow] = ratio
	f.n++
	f.factor = median(f.window())
}

func (f *classFit) window() []float64 { return f.recent[:min(f.n, calWindow)] }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// FitRow reports the calibration of one class.
type FitRow struct {
	Op           string  `json:"op"`
	SizeBucket   string  `json:"size_bucket"`
	Protocol     string  `json:"protocol"`
	Default      float64 `json:"default_factor"`
	Fitted       float64 `json:"fitted_factor"` // median of the recent observations
	Min          float64 `json:"min"`
	Max          float64 `json:"max"`
	Observations int     `json:"observations"`
	Applied      bool    `json:"applied"` // the fit replaced the default
}

// Fit lists every class with observations, by op kind then size.
func (c *calibrator) Fit() []FitRow {
	keys := make([]classKey, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b classKey) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return int(a.class) - int(b.class)
	})
	rows := make([]FitRow, 0, len(keys))
	for _, k := range keys {
		f := c.m[k]
		w := f.window()
		msg := uint64(1) << k.class
		rows = append(rows, FitRow{
			Op: k.kind.Op(), SizeBucket: SizeBucket(msg), Protocol: ProtocolOf(k.kind, msg).String(),
			Default: f.def, Fitted: f.factor, Min: slices.Min(w), Max: slices.Max(w),
			Observations: f.n, Applied: !c.off && f.n >= calMinObs,
		})
	}
	return rows
}
