package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteCompare writes a side-by-side table of two reports: per op calls,
// payload and link bytes, the unattributed share, and bursts.
func WriteCompare(w io.Writer, nameA, nameB string, a, b *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("A: %s (%s)\nB: %s (%s)\n\n", nameA, dur(a.DurationNs), nameB, dur(b.DurationNs))
	p("op\tcalls A\tcalls B\tpayload A\tpayload B\ttx A\ttx B\ttx B/A\t\n")
	for _, o := range PairOps(a, b) {
		oa, ob := o.A, o.B
		p("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", oa.Op, oa.Calls, ob.Calls, bytesStr(oa.PayloadBytes), bytesStr(ob.PayloadBytes),
			bytesStr(oa.TxBytes), bytesStr(ob.TxBytes), ratio(ob.TxBytes, oa.TxBytes))
	}
	p("unattributed\t\t\t\t\t%s\t%s\t%s\t\n\n", bytesStr(a.Unattributed.TxBytes), bytesStr(b.Unattributed.TxBytes), ratio(b.Unattributed.TxBytes, a.Unattributed.TxBytes))
	ba, bb := a.Bursts, b.Bursts
	p("bursts\tA\tB\t\n")
	p("count\t%d\t%d\t\n", ba.Count, bb.Count)
	p("duration p50\t%s\t%s\t\n", dur(ba.DurationP50Ns), dur(bb.DurationP50Ns))
	p("duration p99\t%s\t%s\t\n", dur(ba.DurationP99Ns), dur(bb.DurationP99Ns))
	p("peak\t%s/s\t%s/s\t\n", bytesStr(uint64(ba.PeakBytesPerS)), bytesStr(uint64(bb.PeakBytesPerS)))
	p("idle gap p50\t%s\t%s\t\n", dur(ba.IdleGapP50Ns), dur(bb.IdleGapP50Ns))
	p("idle gap p99\t%s\t%s\t\n", dur(ba.IdleGapP99Ns), dur(bb.IdleGapP99Ns))
	p("duty cycle\t%.1f%%\t%.1f%%\t\n", 100*ba.DutyCycle, 100*bb.DutyCycle)
	return tw.Flush()
}

// OpPair is one op in two reports (zero where a report lacks it).
type OpPair struct{ A, B Op }

// PairOps pairs the ops of a and b by name, in a's order and then b's
// (an op only one report has, CUDAGraph say, is still compared), leaving
// out those neither called.
func PairOps(a, b *Report) []OpPair {
	var out []OpPair
	seen := map[string]bool{}
	add := func(op string) {
		if seen[op] {
			return
		}
		seen[op] = true
		if p := (OpPair{opNamed(a, op), opNamed(b, op)}); p.A.Calls > 0 || p.B.Calls > 0 {
			out = append(out, p)
		}
	}
	for _, o := range a.Ops {
		add(o.Op)
	}
	for _, o := range b.Ops {
		add(o.Op)
	}
	return out
}

func opNamed(r *Report, op string) Op {
	for _, o := range r.Ops {
		if o.Op == op {
			return o
		}
	}
	return Op{Op: op}
}

func ratio(b, a uint64) string {
	if a == 0 {
		if b == 0 {
			return "-"
		}
		return "new"
	}
	return fmt.Sprintf("%.2fx", float64(b)/float64(a))
}
