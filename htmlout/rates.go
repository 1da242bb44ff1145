// Package htmlout writes report.html: one offline page (no network, the
// data embedded, drawn by inline script) with the NVLink rate of each GPU
// over time, its bytes coloured by the op they were attributed to and the
// bursts marked, bars per op, and the burst list.
package htmlout

import (
	"github.com/linkprof/linkprof/correlate"
)

// Layers besides the ops.
const (
	unattributedLayer = "unattributed"
	totalLayer        = "total" // measured TX, drawn as a line over the ops
)

// Rates is the correlate.Sink behind report.html's charts: per GPU, TX
// bytes in at most maxBuckets time buckets per layer, so its memory does
// not grow with the recording.
type Rates struct {
	gpus map[int]*series
}

// NewRates starts empty.
func NewRates() *Rates { return &Rates{gpus: map[int]*series{}} }

func (r *Rates) gpu(i int) *series {
	s := r.gpus[i]
	if s == nil {
		s = newSeries()
		r.gpus[i] = s
	}
	return s
}

// Call implements correlate.Sink: an executed call's attributed TX,
// spread over its modelled execution.
func (r *Rates) Call(c *correlate.Call) {
	if !c.Executed() || c.GPU < 0 || c.TxBytes <= 0 || c.StartNs <= 0 {
		return
	}
	r.gpu(c.GPU).add(correlate.OpName(c.Kind), c.TxBytes, c.StartNs, c.EndNs) // Bcast is Broadcast there
}

// Interval implements correlate.Sink: the measured TX and the part no
// collective explains.
func (r *Rates) Interval(iv *correlate.Interval) {
	s := r.gpu(iv.GPU)
	s.add(totalLayer, iv.TxBytes, iv.StartNs, iv.EndNs)
	s.add(unattributedLayer, iv.UnTx, iv.StartNs, iv.EndNs)
}

// Burst implements correlate.Sink; the page lists bursts from the report.
func (r *Rates) Burst(*correlate.Burst) {}

// Merge adds what another Rates (of other GPUs) saw; o is not used
// afterwards.
func (r *Rates) Merge(o *Rates) {
	for i, s := range o.gpus {
		if mine, ok := r.gpus[i]; ok {
			mine.merge(s)
			continue
		}
		r.gpus[i] = s
	}
}
