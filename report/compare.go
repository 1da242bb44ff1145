package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/linkprof/linkprof/trace"
)

// WriteCompare writes a side-by-side table of two reports: per op calls,
// payload and link bytes, the unattributed share, bytes per link kind and
// each op's network TX when either sampled NICs, the paths each size took
// when either took one outside NCCL, and bursts.
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
	writeCompareLinks(p, a, b)
	writeComparePaths(p, a, b)
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

// PathPair is one path row (collective, communicator size, size bucket,
// path, op) in two reports; the side without it is zero but for the key.
type PathPair struct{ A, B PathRow }

// PairPaths pairs the path rows of a and b by collective, nranks, size
// bucket, path and op, in the path table's order.
func PairPaths(a, b *Report) []PathPair {
	type key struct {
		collective, path, op string
		nranks               int
		min                  uint64
	}
	keyOf := func(r PathRow) key { return key{r.Collective, r.Path, r.Op, r.NRanks, r.MinBytes} }
	index := map[key]int{}
	var out []PathPair
	for _, r := range a.Paths {
		index[keyOf(r)] = len(out)
		out = append(out, PathPair{A: r, B: emptyPathRow(r)})
	}
	for _, r := range b.Paths {
		if i, ok := index[keyOf(r)]; ok {
			out[i].B = r
			continue
		}
		out = append(out, PathPair{A: emptyPathRow(r), B: r})
	}
	first, kind := firstKinds(), opKinds()
	slices.SortStableFunc(out, func(x, y PathPair) int {
		return cmp.Or(cmp.Compare(first[x.A.Collective], first[y.A.Collective]), cmp.Compare(x.A.NRanks, y.A.NRanks),
			cmp.Compare(x.A.MinBytes, y.A.MinBytes), cmp.Compare(kind[x.A.Op], kind[y.A.Op]))
	})
	return out
}

// emptyPathRow is r's key without its figures.
func emptyPathRow(r PathRow) PathRow {
	return PathRow{Collective: r.Collective, Path: r.Path, Op: r.Op, NRanks: r.NRanks, SizeBucket: r.SizeBucket,
		MinBytes: r.MinBytes, MaxBytes: r.MaxBytes}
}

// outsideNCCL reports whether comparing a and b's paths says more than
// their op table: either took a path other than NCCL.
func outsideNCCL(a, b *Report) bool {
	for _, r := range slices.Concat(a.Paths, b.Paths) {
		if r.Path != trace.AllReduce.Path() {
			return true
		}
	}
	return false
}

// writeComparePaths is the path table of both reports side by side: the
// share of each size's calls each path took and the payload rate it ran
// at.
func writeComparePaths(p func(string, ...any), a, b *Report) {
	if !outsideNCCL(a, b) {
		return
	}
	p("paths: the share of each size's calls each path took, and the payload rate it ran at\n")
	p("collective\tranks\tsize\tpath\top\tcalls A\tcalls B\tof size A\tof size B\tpayload GB/s A\tpayload GB/s B\t\n")
	for _, pp := range PairPaths(a, b) {
		ra, rb := pp.A, pp.B
		p("%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", ra.Collective, ra.NRanks, ra.SizeBucket, ra.Path, ra.Op, ra.Calls, rb.Calls,
			fraction(ra.ShareOfSize), fraction(rb.ShareOfSize), gbps(ra.PayloadBytesPerS, ra.BusyNs), gbps(rb.PayloadBytesPerS, rb.BusyNs))
	}
	p("\n")
}
