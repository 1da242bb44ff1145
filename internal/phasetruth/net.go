package phasetruth

import "github.com/linkprof/linkprof/trace"

// NetRead is one round of the NIC sampler, its NICs' TX summed: the host's
// network link as the recording's own samples say, without linkprof's
// model.
type NetRead struct {
	WallS float64 // wall-clock seconds, through the recording's start clock pair
	TxB   uint64
	OK    bool // every NIC of the round read, none wrapped
}

// NetReads sums a trace's NIC samples round by round, in file order.
func NetReads(tr *trace.Trace) []NetRead {
	off := tr.Start.Clock.WallNs - tr.Start.Clock.MonoNs
	var out []NetRead
	for i := 0; i < len(tr.NICSamples); {
		round := tr.NICSamples[i].Round
		r := NetRead{OK: true}
		var t int64
		for ; i < len(tr.NICSamples) && tr.NICSamples[i].Round == round; i++ {
			s := &tr.NICSamples[i]
			r.TxB += s.TxBytes
			r.OK = r.OK && s.OK() && s.Flags&trace.SampleWrapped == 0
			t = s.MonoAfterNs
		}
		r.WallS = float64(t+off) / 1e9
		out = append(out, r)
	}
	return out
}

// NetTxDuring is the network link's TX from its last good read before a
// wall-clock span to its last good read before the span's end plus
// finishS (0 without reads on both sides).
func NetTxDuring(reads []NetRead, startWall, endWall float64) float64 {
	var before, last *NetRead
	for i := range reads {
		r := &reads[i]
		if !r.OK {
			continue
		}
		if r.WallS < startWall-0.02 {
			before = r
		}
		if r.WallS <= endWall+finishS {
			last = r
		}
	}
	if before == nil || last == nil || last.TxB < before.TxB {
		return 0
	}
	return float64(last.TxB - before.TxB)
}

// MeasureNet is Measure on the network link: each phase's Moved is the
// host's network TX during it (every local rank's sends, each byte once).
func (ps *Phases) MeasureNet(tr *trace.Trace) map[string]float64 {
	reads := NetReads(tr)
	return ps.measure(func(p *Phase) float64 { return NetTxDuring(reads, p.StartWall, p.EndWall) })
}
