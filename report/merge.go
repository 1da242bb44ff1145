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
	a.mergePaths(o)
	a.unTx += o.unTx
	a.unRx += o.unRx
	a.net.merge(&o.net)
	b, ob := &a.bursts, &o.bursts
	b.count += ob.count
	b.durations.merge(&ob.durations)
	b.gaps.merge(&ob.gaps)
	b.peak = max(b.peak, ob.peak)
	for l, n := range ob.labels {
		b.labels[l] += n
	}
	b.unTx += ob.unTx
	// Cut to maxListedBursts in Build, after sorting: cut here, the first
	// shard's GPUs would keep bursts from the whole recording and the
	// others lose theirs after an early point.
	b.list = append(b.list, ob.list...)
	b.omitted += ob.omitted
}
