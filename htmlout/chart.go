package htmlout

import (
	"math"
	"slices"

	"github.com/linkprof/linkprof/report"
)

// chart is one GPU's rate over time: bucket i covers
// [start_ns + i*width_ns, start_ns + (i+1)*width_ns).
type chart struct {
	GPU     int         `json:"gpu"`
	Name    string      `json:"name"`
	StartNs int64       `json:"start_ns"`
	WidthNs int64       `json:"width_ns"`
	Layers  []layer     `json:"layers"` // stacked, ops first, unattributed last
	Total   []uint64    `json:"total"`  // measured TX per bucket
	Bursts  []burstSpan `json:"bursts"`
}

type layer struct {
	Name  string   `json:"name"`
	Bytes []uint64 `json:"bytes"`
}

// view is the time the charts show: where any GPU's link moved bytes,
// with a margin (a served model idles for minutes before its first
// request; the page shows where the traffic is and says so).
type view struct {
	StartNs int64 `json:"start_ns"`
	EndNs   int64 `json:"end_ns"`
}

// shownBuckets is about a chart's width in pixels: finer buckets would
// draw below a pixel and vanish.
const shownBuckets = 1000

// charts coarsens every GPU's series to the view and crops it there.
func charts(rep *report.Report, rates *Rates, origin int64) (view, []chart) {
	lo, hi, ok := active(rates)
	if !ok {
		return view{}, []chart{}
	}
	pad := max((hi-lo)/50, 1)
	lo, hi = lo-pad, hi+pad
	names := map[int]string{}
	for _, g := range rep.GPUs {
		names[g.Index] = g.Name
	}
	idx := make([]int, 0, len(rates.gpus))
	for i := range rates.gpus {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := []chart{}
	for _, i := range idx {
		s := rates.gpus[i]
		for s.width < (hi-lo)/shownBuckets {
			s.coarsen()
		}
		first := max(floorDiv(lo, s.width)-s.lo, 0)
		last := min(floorDiv(hi-1, s.width)-s.lo, int64(s.n)-1)
		c := chart{GPU: i, Name: names[i], StartNs: (s.lo+first)*s.width - origin, WidthNs: s.width, Layers: []layer{},
			Total: whole(s.layers[totalLayer], first, last)}
		for _, name := range layerOrder(rep) {
			if r, ok := s.layers[name]; ok {
				c.Layers = append(c.Layers, layer{Name: name, Bytes: whole(r, first, last)})
			}
		}
		c.Bursts = spans(rep.Bursts.List, i, s.width)
		out = append(out, c)
	}
	return view{StartNs: lo - origin, EndNs: hi - origin}, out
}

// active is the span of every GPU's buckets that hold bytes.
func active(rates *Rates) (lo, hi int64, ok bool) {
	lo, hi = math.MaxInt64, math.MinInt64
	for _, s := range rates.gpus {
		for _, r := range s.layers {
			for i, v := range r {
				if v > 0 {
					t := (s.lo + int64(i)) * s.width
					lo, hi = min(lo, t), max(hi, t+s.width)
				}
			}
		}
	}
	return lo, hi, lo < hi
}

// layerOrder stacks the ops in the report's order, unattributed on top.
func layerOrder(rep *report.Report) []string {
	var out []string
	for _, o := range rep.Ops {
		out = append(out, o.Op)
	}
	return append(out, unattributedLayer)
}

// whole is buckets first..last in whole bytes (the page's JSON stays
// short); a layer never made is zeros.
func whole(r []float64, first, last int64) []uint64 {
	out := make([]uint64, max(last-first+1, 0))
	for i := range out {
		if k := first + int64(i); k < int64(len(r)) {
			out[i] = uint64(math.Round(max(r[k], 0)))
		}
	}
	return out
}
