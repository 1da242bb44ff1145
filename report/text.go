package report

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/linkprof/linkprof/internal/units"
)

// WriteText writes the human report. Every table names its byte columns
// (nvlink tx, nvlink rx), every duration is units.Duration's, and a
// figure the analysis models rather than measures says so.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("linkprof report: %s recorded, %d events, %d lost", dur(r.DurationNs), r.Analysis.Events, r.LostEvents)
	if r.Simulated {
		p(" (simulated link)")
	}
	if r.Truncated {
		p(" (trace cut short: the recorder did not finish)")
	}
	p("\n\n")
	writeHosts(p, r)
	linkTx, attrTx := r.Unattributed.TxBytes, uint64(0)
	for _, o := range r.Ops {
		linkTx += o.TxBytes
		attrTx += o.TxBytes
	}
	writeStalls(p, r)
	p("NVLink TX %s, attributed %s (%s), unattributed %s\n\n", bytesStr(linkTx), bytesStr(attrTx), pct(attrTx, linkTx), bytesStr(r.Unattributed.TxBytes))
	writeOps(p, r, linkTx)
	writeLinks(p, r)
	writeNotes(tw, r)
	writeHints(w, tw, r, linkTx)
	writePaths(p, r)
	writeGraphs(w, tw, r)
	writeBursts(p, r.Bursts)
	writeGPUs(p, r)
	writeRanks(p, r)
	writeTop(p, r.TopCollectives)
	writeSizes(p, r.MessageSizes)
	writeArrivals(p, r)
	writeFit(p, r.Calibration)
	return tw.Flush()
}

// writeOps is the op table. GPU time is modelled (docs/attribution.md,
// section 4) and summed over ranks in report.json, so it can pass the
// recording's length; here it is per rank and a share of the recording.
func writeOps(p func(string, ...any), r *Report, linkTx uint64) {
	ranks := r.NCCLRanks()
	p("op\tcalls\tincomplete\tpayload\tnvlink tx\tnvlink rx\tshare of tx\tgpu time/rank\tof wall\t\n")
	for _, o := range r.Ops {
		if o.Calls > 0 {
			perRank, share := rankTime(o.GPUTimeNs, ranks, r.DurationNs)
			p("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Op, o.Calls, o.Incomplete, bytesStr(o.PayloadBytes), bytesStr(o.TxBytes),
				bytesStr(o.RxBytes), pct(o.TxBytes, linkTx), perRank, share)
		}
	}
	p("unattributed\t\t\t\t%s\t%s\t%s\t\t\t\n", bytesStr(r.Unattributed.TxBytes), bytesStr(r.Unattributed.RxBytes), pct(r.Unattributed.TxBytes, linkTx))
	p("gpu time: modelled GPU execution (not measured), mean over the %d ranks that called NCCL; of wall: its share of the %s recorded\n", ranks, dur(r.DurationNs))
	p("incomplete: calls whose expected link bytes were not all seen\n\n")
}

// NCCLRanks counts the processes that made collective calls (report.txt's
// and report.html's ranks).
func (r *Report) NCCLRanks() int {
	n := 0
	for _, pr := range r.Processes {
		if pr.Calls > 0 {
			n++
		}
	}
	return n
}

// rankTime is modelled GPU time summed over ranks as the mean per rank
// and that mean's share of the recording.
func rankTime(sumNs int64, ranks int, wallNs int64) (perRank, share string) {
	if ranks == 0 {
		return "-", "-"
	}
	mean := sumNs / int64(ranks)
	return dur(mean), pct(uint64(max(mean, 0)), uint64(max(wallNs, 0)))
}

// writeBursts is the burst statistics, the bursts per label and the first
// bursts (report.json lists them all).
func writeBursts(p func(string, ...any), b Bursts) {
	p("bursts: %d, duration p50 %s p99 %s, peak %s/s, idle gap p50 %s p99 %s, duty cycle %.1f%%\n",
		b.Count, dur(b.DurationP50Ns), dur(b.DurationP99Ns), bytesStr(uint64(b.PeakBytesPerS)), dur(b.IdleGapP50Ns), dur(b.IdleGapP99Ns), 100*b.DutyCycle)
	p("  (a burst: %s)\n", b.Rule)
	labels := make([]string, 0, len(b.Labels))
	for l := range b.Labels {
		labels = append(labels, l)
	}
	slices.SortFunc(labels, func(x, y string) int { return int(b.Labels[y]) - int(b.Labels[x]) })
	for _, l := range labels {
		p("  %s\t%d\t\n", l, b.Labels[l])
	}
	writeBurstList(p, b)
}

// listedInText is how many bursts report.txt lists (report.json has all).
const listedInText = 20

func writeBurstList(p func(string, ...any), b Bursts) {
	if len(b.List) == 0 {
		return
	}
	p("\n  gpu\tstart\tduration\tnvlink tx\tpeak (tx or rx)\tlabel\ttop collective\t\n")
	for _, r := range b.List[:min(len(b.List), listedInText)] {
		top := "-"
		if t := r.Top; t != nil {
			top = fmt.Sprintf("%s %s x%d (%d calls)", t.Op, t.DataType, t.Count, t.Calls)
		}
		p("  %d\t+%s\t%s\t%s\t%s/s\t%s\t%s\t\n", r.GPU, dur(r.StartNs), dur(r.DurationNs), bytesStr(r.TxBytes), bytesStr(uint64(r.PeakBytesPerS)), r.Label, top)
	}
	if more := uint64(len(b.List)-min(len(b.List), listedInText)) + b.Omitted; more > 0 {
		p("  ... %d more in report.json\n", more)
	}
}

func bytesStr(b uint64) string { return units.Bytes(b) }

func pct(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func dur(ns int64) string { return units.Duration(ns) }

// writeNotes shows the recorder's warnings and the analysis's notes first:
// they say what the numbers below may lack (a GPU that disappeared, one not
// sampled, a communicator whose size was guessed).
func writeNotes(tw io.Writer, r *Report) {
	shown := r.ShownNotes()
	for _, n := range shown {
		if n.Level == "warn" {
			fmt.Fprintf(tw, "WARNING at +%s: %s\n", dur(n.AtNs), n.Text)
		} else {
			fmt.Fprintf(tw, "NOTE: %s\n", n.Text)
		}
	}
	if len(shown) > 0 {
		fmt.Fprintln(tw)
	}
}

// ShownNotes are the notes report.txt and report.html lead with: the
// recorder's warnings and the analysis's notes.
func (r *Report) ShownNotes() []Note {
	out := []Note{}
	for _, n := range r.Notes {
		if n.Level == "warn" || n.Source == "analysis" {
			out = append(out, n)
		}
	}
	return out
}
