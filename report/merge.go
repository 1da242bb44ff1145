package report

// Merge adds what another aggregator (of other GPUs) saw; o is not used
// afterwards.
func (a *Aggregator) Merge(o *Aggregator) {
	for k := range a.ops {
		a.ops[k].merge(&o.ops[k])
		a.incomplete[k] += o.incomplete[k]
	}
	for k, t := range o.sigs {
		get(a.sigs, k).merge(t)
	}
	a.unTx += o.unTx
	a.unRx += o.unRx
	b, ob := &a.bursts, &o.bursts
	b.count += ob.count
	b.durations.merge(&ob.durations)
	b.gaps.merge(&ob.gaps)
	b.peak = max(b.peak, ob.peak)
	for l, n := range ob.labels {
		b.labels[l] += n
	}
	b.unTx += ob.unTx
	b.list = append(b.list, ob.list...)
	b.omitted += ob.omitted
	if extra := len(b.list) - maxListedBursts; extra > 0 {
		b.list, b.omitted = b.list[:maxListedBursts], b.omitted+uint64(extra)
	}
}
