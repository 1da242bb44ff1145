package profiler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/trace"
)

// Kinds of stall (trace.Stall.Kind).
const (
	stallMissing    = "missing-ranks"
	stallNoProgress = "no-progress"
)

// start reports a missing-ranks stall once (under w.mu).
func (w *stallWatch) start(k stallKey, kind string, calls []arrivals.Call, since, flat, now int64) {
	if w.stalls[k] != nil {
		return
	}
	w.nextID++
	ev := calls[0].Ev
	rec := trace.Stall{ID: w.nextID, Kind: kind, MonoNs: now, SinceNs: since, Comm: k.comm.Name(), NRanks: int(k.comm.NRanks),
		Seq: k.seq, Op: ev.Kind.Op(), DataType: ev.DataType.String(), Count: ev.Count, PayloadBytes: ev.PayloadBytes(),
		LinksFlatNs: flat, Arrived: []trace.StallRank{}, Missing: []trace.StallRank{}}
	in := map[*arrivals.Member]int64{}
	for _, c := range calls {
		in[c.Member] = int64(c.Ev.TsNs)
	}
	for _, m := range k.comm.Members {
		r := w.stallRank(m)
		if at, ok := in[m]; ok {
			r.ArrivedNs = at
			rec.Arrived = append(rec.Arrived, r)
		} else {
			rec.Missing = append(rec.Missing, r)
		}
	}
	w.stalls[k] = &liveStall{rec: rec, seq: k.seq}
	w.reports = append(w.reports, rec)
}

func (w *stallWatch) startNoProgress(c *arrivals.Comm, nc *closedColl, flat, now int64) {
	k := stallKey{c, nc.seq}
	if w.stalls[k] != nil {
		return
	}
	w.start(k, stallNoProgress, nc.calls, nc.lastNs, flat, now)
	w.stalls[k].lastNs = nc.lastNs
}

// stallRank describes a rank by its last collective on the communicator.
func (w *stallWatch) stallRank(m *arrivals.Member) trace.StallRank {
	r := trace.StallRank{Rank: int(m.Rank), Pid: m.Pid, GPU: w.place.CallGPU(m.Pid, m.Handle), LastSeq: -1}
	if m.Next > 0 {
		r.LastSeq, r.LastOp, r.LastNs = int64(m.Next-1), m.Last.Kind.Op(), int64(m.Last.TsNs)
	}
	return r
}

// end closes a stall (under w.mu).
func (w *stallWatch) end(k stallKey, at int64, how string) {
	st := w.stalls[k]
	if st == nil {
		return
	}
	delete(w.stalls, k)
	st.rec.EndNs, st.rec.End = at, how
	w.reports = append(w.reports, st.rec)
}

// stop ends every stall still open when the recording stops.
func (w *stallWatch) stop(now int64) []trace.Stall {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range w.stalls {
		w.end(k, now, "recording-stopped")
	}
	out := w.reports
	w.reports = nil
	return out
}

// status is the status line's account of the oldest open stall, "" when
// none.
func (w *stallWatch) status(now int64) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var open []*liveStall
	for _, st := range w.stalls {
		open = append(open, st)
	}
	if len(open) == 0 {
		return ""
	}
	slices.SortFunc(open, func(a, b *liveStall) int { return cmp.Compare(a.rec.SinceNs, b.rec.SinceNs) })
	s := describeStall(&open[0].rec, now)
	if len(open) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(open)-1)
	}
	return s
}

// describeStall says in one line what is stuck and on whom.
func describeStall(s *trace.Stall, now int64) string {
	head := fmt.Sprintf("STALL %s: comm %s seq %d %s %s", ago(now-s.SinceNs), s.Comm, s.Seq, s.Op, units.Bytes(s.PayloadBytes))
	if s.Kind == stallNoProgress {
		return head + fmt.Sprintf(": all %d ranks in, links flat", len(s.Arrived))
	}
	var miss []string
	for _, r := range s.Missing {
		last := "none"
		if r.LastSeq >= 0 {
			last = fmt.Sprintf("seq %d %s %s ago", r.LastSeq, r.LastOp, ago(now-r.LastNs))
		}
		miss = append(miss, fmt.Sprintf("rank %d (pid %d, last %s)", r.Rank, r.Pid, last))
	}
	var in []string
	for _, r := range s.Arrived {
		in = append(in, fmt.Sprint(r.Rank))
	}
	return head + ": waiting for " + strings.Join(miss, ", ") + "; arrived " + strings.Join(in, ",")
}

func ago(ns int64) string { return time.Duration(ns).Truncate(100 * time.Millisecond).String() }
