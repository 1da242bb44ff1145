package main

import "sort"

const (
	// busyFloor is the counter rate (bytes/ns = GB/s) above which an
	// interval counts as busy: far above the idle links' chatter (a few
	// MB/s), far below any collective's rate.
	busyFloor = 1.0
	// resolvedNs is the longest interval whose rate means something: NVML
	// samples every ~1 ms but stalls for 10-50 ms at times (nccl-tests'
	// data checks), and a 20 ms interval holding one 0.3 ms burst says
	// nothing about the burst's rate.
	resolvedNs = 3_000_000
	// minBusy is the fewest such intervals a rate is given from: with
	// fewer, the size's calls ran inside one or two samples, mixed with
	// the sizes before and after it.
	minBusy = 4
)

// gbps is the "achieved link bandwidth" of a signature: the
// counters' TX over the time of the busy, resolved intervals its calls'
// modelled GPU times overlap, per GPU. The time and the bytes both come
// from the counters, not from the model, at NVML's resolution: an
// interval where the burst began or ended counts whole, so bursts
// shorter than a few samples read slower than they ran (see
// docs/validation.md). ok is false with fewer than minBusy intervals.
func (a *agg) gbps(s sigStats) (rate float64, ok bool) {
	var ns int64
	var tx float64
	count := 0
	for gpu, spans := range s.spans {
		n, b, c := a.busyIn(gpu, merge(spans))
		ns, tx, count = ns+n, tx+b, count+c
	}
	if count < minBusy {
		return 0, false
	}
	return tx / float64(ns), true
}

// busyIn sums the duration and TX of one GPU's busy, resolved intervals
// that overlap the windows, and counts them.
func (a *agg) busyIn(gpu int, windows []span) (ns int64, tx float64, count int) {
	ivs, txs := a.intervals[gpu], a.ivTx[gpu]
	for i, iv := range ivs {
		d := iv.end - iv.start
		if d <= 0 || d > resolvedNs || txs[i]/float64(d) < busyFloor || !overlaps(iv, windows) {
			continue
		}
		ns, tx, count = ns+d, tx+txs[i], count+1
	}
	return ns, tx, count
}

func overlaps(iv span, windows []span) bool {
	i := sort.Search(len(windows), func(i int) bool { return windows[i].end > iv.start })
	return i < len(windows) && windows[i].start < iv.end
}

// merge sorts spans and joins the overlapping ones.
func merge(spans []span) []span {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && s.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}
