package main

import "github.com/linkprof/linkprof/correlate"

type sig struct {
	op      string
	payload uint64
}

type sigStats struct {
	calls int
	tx    float64
	gpuNs int64
}

// gbps is the link TX over the modelled GPU time of the calls: the rate
// the link ran at while they ran, per GPU.
func (s sigStats) gbps() float64 {
	if s.gpuNs == 0 {
		return 0
	}
	return s.tx / float64(s.gpuNs)
}

// agg is a correlate.Sink that sums executed calls per op and payload.
type agg struct {
	bySig  map[sig]sigStats
	txByOp map[string]float64
	unTx   float64
}

func newAgg() *agg { return &agg{bySig: map[sig]sigStats{}, txByOp: map[string]float64{}} }

func (a *agg) Call(c *correlate.Call) {
	if !c.Executed() {
		return
	}
	op := correlate.OpName(c.Kind)
	k := sig{op, c.Payload}
	s := a.bySig[k]
	s.calls++
	s.tx += c.TxBytes
	s.gpuNs += c.GPUTimeNs()
	a.bySig[k] = s
	a.txByOp[op] += c.TxBytes
}

func (a *agg) Interval(iv *correlate.Interval) { a.unTx += iv.UnTx }
func (a *agg) Burst(*correlate.Burst)          {}

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
