package main

import "github.com/linkprof/linkprof/correlate"

type sig struct {
	op      string
	payload uint64
}

type sigStats struct {
	calls int
	tx    float64
	spans map[int][]span // per GPU: the calls' modelled GPU times
}

type span struct{ start, end int64 }

// agg is a correlate.Sink that sums executed calls per op and payload
// and keeps every GPU's counter intervals for the busy time.
type agg struct {
	bySig     map[sig]sigStats
	txByOp    map[string]float64
	unTx      float64
	intervals map[int][]span
	ivTx      map[int][]float64
}

func newAgg() *agg {
	return &agg{bySig: map[sig]sigStats{}, txByOp: map[string]float64{},
		intervals: map[int][]span{}, ivTx: map[int][]float64{}}
}

func (a *agg) Call(c *correlate.Call) {
	if !c.Executed() {
		return
	}
	op := correlate.OpName(c.Kind)
	k := sig{op, c.Payload}
	s := a.bySig[k]
	s.calls++
	s.tx += c.TxBytes
	if c.GPU >= 0 && c.EndNs > c.StartNs {
		if s.spans == nil {
			s.spans = map[int][]span{}
		}
		s.spans[c.GPU] = append(s.spans[c.GPU], span{c.StartNs, c.EndNs})
	}
	a.bySig[k] = s
	a.txByOp[op] += c.TxBytes
}

func (a *agg) Interval(iv *correlate.Interval) {
	a.unTx += iv.UnTx
	a.intervals[iv.GPU] = append(a.intervals[iv.GPU], span{iv.StartNs, iv.EndNs})
	a.ivTx[iv.GPU] = append(a.ivTx[iv.GPU], iv.TxBytes)
}
func (a *agg) Burst(*correlate.Burst) {}

func (a *agg) totalCalls(ops []string) int {
	n := 0
	for k, s := range a.bySig {
		for _, op := range ops {
			if k.op == op {
				n += s.calls
			}
		}
	}
	return n
}
