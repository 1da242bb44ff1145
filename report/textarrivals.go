package report

import (
	"fmt"
	"strings"
)

// writeStalls comes first in report.txt: a stuck collective is the news.
func writeStalls(p func(string, ...any), rep *Report) {
	ss := rep.Stalls
	if len(ss) == 0 {
		return
	}
	p("STALLS: %d collective(s) stopped making progress (found live while recording)\n", len(ss))
	for _, s := range ss {
		p("  #%d %s at +%s, lasted %s (%s): comm %s seq %d %s %s x%d (%s)\n", s.ID, s.Kind, dur(s.DetectedNs), dur(s.DurationNs),
			s.End, s.Comm, s.Seq, s.Op, s.DataType, s.Count, bytesStr(s.PayloadBytes))
		for _, r := range s.Arrived {
			p("    arrived: %s at +%s\n", stallRankStr(r, rep), dur(r.ArrivedNs))
		}
		for _, r := range s.Missing {
			p("    MISSING: %s\n", stallRankStr(r, rep))
		}
		if s.LinksFlatNs >= 0 {
			p("    links flat for %s when detected\n", dur(s.LinksFlatNs))
		} else {
			p("    links not sampled\n")
		}
	}
	p("\n")
}

func stallRankStr(r StallRank, rep *Report) string {
	s := fmt.Sprintf("rank %d (pid %s, gpu %s)", r.Rank, rep.PidName(r.Pid), gpuStr(r.GPU))
	if r.LastSeq < 0 {
		return s + ", no collective on this communicator yet"
	}
	return fmt.Sprintf("%s, last collective seq %d %s, %s before detection", s, r.LastSeq, r.LastOp, dur(r.LastAgoNs))
}

func gpuStr(g int) string {
	if g < 0 {
		return "?"
	}
	return fmt.Sprint(g)
}

// writeArrivals is the who-waits-for-whom table.
func writeArrivals(p func(string, ...any), rep *Report) {
	a := rep.Arrivals
	if len(a.Comms) == 0 && len(a.Notes) == 0 {
		return
	}
	p("\narrivals: each rank's wait for the last rank to enter each collective (matched by communicator and sequence number)\n")
	for _, n := range a.Notes {
		p("  NOTE: %s\n", n)
	}
	for _, c := range a.Comms {
		p("comm %s: %d of %d ranks recorded, %d collectives matched, %d unmatched, skew (last - first) p50 %s p99 %s\n", c.Comm, c.RanksRecorded, c.NRanks,
			c.Collectives, c.Unmatched, dur(c.SkewP50Ns), dur(c.SkewP99Ns))
		if len(c.Ranks) == 0 {
			continue
		}
		p("  rank\tpid\tgpu\tlast\tlast share\twait p50\twait p99\twait max\twait total\t\n")
		for _, r := range c.Ranks {
			p("  %d\t%s\t%s\t%d\t%.1f%%\t%s\t%s\t%s\t%s\t\n", r.Rank, rep.PidName(r.Pid), rep.GPUName(r.GPU), r.Last, 100*r.LastFraction,
				dur(r.WaitP50Ns), dur(r.WaitP99Ns), dur(r.WaitMaxNs), dur(r.WaitTotalNs))
		}
		if l := lastMost(c); l != "" {
			p("  %s\n", l)
		}
	}
}

// lastMost names the rank the others waited for most, when one stands out.
func lastMost(c CommArrivals) string {
	best := -1
	for i, r := range c.Ranks {
		if best < 0 || r.Last > c.Ranks[best].Last {
			best = i
		}
	}
	if best < 0 || c.Collectives == 0 || c.Ranks[best].LastFraction < 0.5 || len(c.Ranks) < 2 {
		return ""
	}
	var waited []string
	var total int64
	for _, r := range c.Ranks {
		if r.Rank != c.Ranks[best].Rank {
			waited = append(waited, fmt.Sprint(r.Rank))
			total += r.WaitTotalNs
		}
	}
	return fmt.Sprintf("-> rank %d was last in %.0f%% of collectives; ranks %s waited %s for it in all",
		c.Ranks[best].Rank, 100*c.Ranks[best].LastFraction, strings.Join(waited, ","), dur(total))
}
