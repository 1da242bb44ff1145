package report

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/units"
)

// WriteText writes the human report.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("linkprof report: %s recorded, %d events, %d lost", time.Duration(r.DurationNs).Round(time.Millisecond), r.Analysis.Events, r.LostEvents)
	if r.Simulated {
		p(" (simulated link)")
	}
	if r.Truncated {
		p(" (trace cut short: the recorder did not finish)")
	}
	p("\n\n")
	linkTx, attrTx := r.Unattributed.TxBytes, uint64(0)
	for _, o := range r.Ops {
		linkTx += o.TxBytes
		attrTx += o.TxBytes
	}
	writeStalls(p, r.Stalls)
	p("NVLink TX %s, attributed %s (%s), unattributed %s\n\n", bytesStr(linkTx), bytesStr(attrTx), pct(attrTx, linkTx), bytesStr(r.Unattributed.TxBytes))
	p("op\tcalls\tpayload\tnvlink tx\tnvlink rx\tshare of tx\tgpu time\t\n")
	for _, o := range r.Ops {
		if o.Calls > 0 {
			p("%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", o.Op, o.Calls, bytesStr(o.PayloadBytes), bytesStr(o.TxBytes), bytesStr(o.RxBytes), pct(o.TxBytes, linkTx), dur(o.GPUTimeNs))
		}
	}
	p("unattributed\t\t\t%s\t%s\t%s\t\t\n\n", bytesStr(r.Unattributed.TxBytes), bytesStr(r.Unattributed.RxBytes), pct(r.Unattributed.TxBytes, linkTx))
	writeNotes(tw, r)
	writeHints(w, tw, r, linkTx)
	writeGraphs(w, tw, r)
	b := r.Bursts
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
	p("\ngpu\tsamples\tHz\ttx\trx\tmean tx\tpeak\tbusy\tunattributed tx\tbursts\tduty\t\n")
	for _, g := range r.GPUs {
		p("%d\t%d\t%.0f\t%s\t%s\t%s/s\t%s/s\t%.1f%%\t%s\t%d\t%.1f%%\t\n", g.Index, g.Samples, g.SampleHz, bytesStr(g.TxBytes), bytesStr(g.RxBytes),
			bytesStr(uint64(g.MeanTxBytesPerS)), bytesStr(uint64(g.PeakBytesPerS)), 100*g.BusyFraction, bytesStr(g.Unattributed.TxBytes), g.Bursts, 100*g.DutyCycle)
	}
	p("\nrank\tpid\tprocess\tgpu\tcalls\tpayload\tnvlink tx\t\n")
	for _, pr := range r.Processes {
		p("%d\t%d\t%s\t%d\t%d\t%s\t%s\t\n", pr.Rank, pr.Pid, pr.Comm, pr.GPU, pr.Calls, bytesStr(pr.PayloadBytes), bytesStr(pr.TxBytes))
	}
	p("\ntop collectives by link bytes\t\t\t\t\t\t\t\n")
	p("op\tdtype\tcount\tranks\tprotocol\tcalls\tnvlink tx+rx\t\n")
	for _, t := range r.TopCollectives {
		p("%s\t%s\t%d\t%d\t%s\t%d\t%s\t\n", t.Op, t.DataType, t.Count, t.NRanks, t.Protocol, t.Calls, bytesStr(t.TxBytes+t.RxBytes))
	}
	p("\nmessage size\tcalls\tpayload\tnvlink tx\t\n")
	for _, s := range r.MessageSizes {
		p("<= %s\t%d\t%s\t%s\t\n", correlate.FormatBytes(s.UpperBytes), s.Calls, bytesStr(s.PayloadBytes), bytesStr(s.TxBytes))
	}
	writeArrivals(p, r.Arrivals)
	writeFit(p, r.Calibration)
	return tw.Flush()
}

// listedInText is how many bursts report.txt lists (report.json has all).
const listedInText = 20

func writeBurstList(p func(string, ...any), b Bursts) {
	if len(b.List) == 0 {
		return
	}
	p("\n  gpu\tstart\tduration\ttx\tpeak\tlabel\ttop collective\t\n")
	for _, r := range b.List[:min(len(b.List), listedInText)] {
		top := "-"
		if t := r.Top; t != nil {
			top = fmt.Sprintf("%s %s x%d (%d calls)", t.Op, t.DataType, t.Count, t.Calls)
		}
		p("  %d\t+%s\t%s\t%s\t%s/s\t%s\t%s\t\n", r.GPU, dur(r.StartNs), dur(r.DurationNs), bytesStr(r.TxBytes), bytesStr(uint64(r.PeakBytesPerS)), r.Label, top)
	}
	if more := uint64(len(b.List)-min(len(b.List), listedInText)) + b.Omitted; more > 0 {
		p("  ... %d more in report.json\t\t\t\t\t\t\t\n", more)
	}
}

func writeFit(p func(string, ...any), fit []correlate.FitRow) {
	if len(fit) == 0 {
		p("\nwire factors: nothing to fit (no calls with link bytes, or --no-calibrate); protocol table used\n")
		return
	}
	p("\nwire factors: link bytes per ring-algorithm byte, fitted over segments (CUDAGraph: bytes per launch)\t\t\t\t\t\t\t\t\n")
	p("op\tsize\tranks\tprotocol guess\tdefault\tfitted\tsegments\tresidual\t\n")
	for _, f := range fit {
		if f.Graph != 0 {
			p("%s %d (pid %d)\t\t\t\t\t%s\t%d\t%.3f\t\n", f.Op, f.Graph, f.Pid, bytesStr(uint64(f.Fitted)), f.Segments, f.Residual)
			continue
		}
		fitted := fmt.Sprintf("%.3f", f.Fitted)
		if !f.Applied {
			fitted = "- (no segment)"
		}
		p("%s\t%s\t%d\t%s\t%.3f\t%s\t%d\t%.3f\t\n", f.Op, f.SizeBucket, f.NRanks, f.Protocol, f.Default, fitted, f.Segments, f.Residual)
	}
}

func bytesStr(b uint64) string { return units.Bytes(b) }

func pct(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func dur(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

// writeNotes shows the recorder's warnings and the analysis's notes first:
// they say what the numbers below may lack (a GPU that disappeared, one not
// sampled, a communicator whose size was guessed).
func writeNotes(tw io.Writer, r *Report) {
	shown := false
	for _, n := range r.Notes {
		switch {
		case n.Level == "warn":
			fmt.Fprintf(tw, "WARNING at +%s: %s\n", time.Duration(n.AtNs).Round(time.Millisecond), n.Text)
		case n.Source == "analysis":
			fmt.Fprintf(tw, "NOTE: %s\n", n.Text)
		default:
			continue
		}
		shown = true
	}
	if shown {
		fmt.Fprintln(tw)
	}
}
