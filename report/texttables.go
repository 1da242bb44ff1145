package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/linkprof/linkprof/correlate"
)

func writeGPUs(p func(string, ...any), r *Report) {
	gs := r.GPUs
	p("\ngpu\tsamples\tHz\tnvlink tx\tnvlink rx\tmean tx\tpeak (tx or rx)\tbusy\tunattributed tx\tbursts\tduty\t\n")
	for _, g := range gs {
		p("%s\t%d\t%.0f\t%s\t%s\t%s/s\t%s/s\t%.1f%%\t%s\t%d\t%.1f%%\t\n", r.GPUName(g.Index), g.Samples, g.SampleHz, bytesStr(g.TxBytes), bytesStr(g.RxBytes),
			bytesStr(uint64(g.MeanTxBytesPerS)), bytesStr(uint64(g.PeakBytesPerS)), 100*g.BusyFraction, bytesStr(g.Unattributed.TxBytes), g.Bursts, 100*g.DutyCycle)
	}
}

// writeRanks is the per-process table, ranks in order and processes of
// unknown rank (a launcher that made no NCCL call) last, shown as "-".
func writeRanks(p func(string, ...any), r *Report) {
	procs := slices.Clone(r.Processes)
	slices.SortStableFunc(procs, func(x, y Process) int { return cmp.Compare(unknownLast(x.Rank), unknownLast(y.Rank)) })
	p("\nrank\tpid\tprocess\tgpu\tcalls\tpayload\tnvlink tx\tnvlink rx\tgpu time\tof wall\t\n")
	unknown := false
	for _, pr := range procs {
		unknown = unknown || pr.Rank < 0 || pr.GPU < 0
		p("%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", orDash(pr.Rank), r.PidName(pr.Pid), pr.Comm, r.GPUName(pr.GPU), pr.Calls, bytesStr(pr.PayloadBytes),
			bytesStr(pr.TxBytes), bytesStr(pr.RxBytes), dur(pr.GPUTimeNs), pct(uint64(max(pr.GPUTimeNs, 0)), uint64(max(r.DurationNs, 0))))
	}
	p("gpu time: modelled, as in the op table\n")
	if unknown {
		p("-: not known (a process that made no NCCL call, such as a launcher, has no rank; one on no sampled GPU has no gpu)\n")
	}
}

// unknownLast orders rank -1 after every known rank.
func unknownLast(rank int) int {
	if rank < 0 {
		return int(^uint(0) >> 1)
	}
	return rank
}

func orDash(v int) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprint(v)
}

// writeTop lists the heaviest signatures by link bytes, TX and RX summed
// for the order and shown apart, as in the other tables.
func writeTop(p func(string, ...any), ts []Top) {
	p("\ntop collectives by link bytes (nvlink tx + rx)\n")
	p("op\tdtype\tcount\tranks\tprotocol\tcalls\tnvlink tx\tnvlink rx\t\n")
	for _, t := range ts {
		p("%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t\n", t.Op, t.DataType, t.Count, t.NRanks, t.Protocol, t.Calls, bytesStr(t.TxBytes), bytesStr(t.RxBytes))
	}
}

func writeSizes(p func(string, ...any), ss []SizeBin) {
	p("\nmessage size\tcalls\tpayload\tnvlink tx\tnvlink rx\t\n")
	for _, s := range ss {
		p("<= %s\t%d\t%s\t%s\t%s\t\n", correlate.FormatBytes(s.UpperBytes), s.Calls, bytesStr(s.PayloadBytes), bytesStr(s.TxBytes), bytesStr(s.RxBytes))
	}
}

func writeFit(p func(string, ...any), fit []correlate.FitRow) {
	if len(fit) == 0 {
		p("\nwire factors: nothing to fit (no calls with link bytes, or --no-calibrate); protocol table used\n")
		return
	}
	p("\nwire factors: link bytes per ring-algorithm byte, fitted over segments (CUDAGraph: bytes per launch)\n")
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
		p("%s\t%s\t%d\t%s\t%.3f\t%s\t%d\t%.3f\t\n", fitOp(f.Op, f.Link), f.SizeBucket, f.NRanks, f.Protocol, f.Default, fitted, f.Segments, f.Residual)
	}
}
