package main

import (
	"io"
	"os"

	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

const compareUsage = "compare DIR_A DIR_B [--json]"

func init() {
	register(command{name: "compare", summary: "compare two recordings side by side: per op and per link bytes, and bursts", run: runCompare})
}

func runCompare(args []string) error {
	fs := newFlags("compare")
	asJSON := fs.Bool("json", false, "print the comparison as JSON (per op both sides and B/A, path rows, unattributed, bursts)")
	if err := parseFlags(fs, compareUsage, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("compare: give two recording folders (usage: linkprof %s)", compareUsage)
	}
	a, err := pipeline.ForDir(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := pipeline.ForDir(fs.Arg(1))
	if err != nil {
		return err
	}
	if *asJSON {
		return compareJSON(os.Stdout, fs.Arg(0), fs.Arg(1), a, b)
	}
	return report.WriteCompare(os.Stdout, fs.Arg(0), fs.Arg(1), a, b)
}

// sides is one quantity in recordings A and B.
type sides[T any] struct {
	A T `json:"a"`
	B T `json:"b"`
}

// comparedOp is one op of compare --json: its traffic in A and B, and
// B's TX over A's (absent when A sent nothing).
type comparedOp struct {
	Op      string                `json:"op"`
	Traffic sides[report.Traffic] `json:"traffic"`
	TxRatio *float64              `json:"tx_ratio,omitempty"`
}

// comparison is compare --json: the same rows as the table, in bytes and
// nanoseconds.
type comparison struct {
	Dirs       sides[string] `json:"dirs"`
	DurationNs sides[int64]  `json:"duration_ns"`
	Ops        []comparedOp  `json:"ops"`
	// Paths are the path rows of both (report.PairPaths): the side
	// without one has its key and zeros.
	Paths        []sides[report.PathRow] `json:"paths"`
	Unattributed sides[report.Link]      `json:"unattributed"`
	Bursts       sides[report.Bursts]    `json:"bursts"`
	// Links are the bytes per link kind (report.json links) when either
	// recording sampled NICs; each op's network bytes are in its traffic.
	Links []sides[report.LinkTotal] `json:"links,omitempty"`
}

func compareJSON(w io.Writer, nameA, nameB string, a, b *report.Report) error {
	c := comparison{Dirs: sides[string]{nameA, nameB}, DurationNs: sides[int64]{a.DurationNs, b.DurationNs},
		Unattributed: sides[report.Link]{a.Unattributed.Link, b.Unattributed.Link}, Bursts: sides[report.Bursts]{a.Bursts, b.Bursts}}
	for _, o := range report.PairOps(a, b) {
		oa, ob := o.A, o.B
		op := comparedOp{Op: oa.Op, Traffic: sides[report.Traffic]{oa.Traffic, ob.Traffic}}
		if oa.TxBytes > 0 {
			r := float64(ob.TxBytes) / float64(oa.TxBytes)
			op.TxRatio = &r
		}
		c.Ops = append(c.Ops, op)
	}
	for _, l := range report.PairLinks(a, b) {
		c.Links = append(c.Links, sides[report.LinkTotal]{l.A, l.B})
	}
	c.Paths = []sides[report.PathRow]{}
	for _, pp := range report.PairPaths(a, b) {
		c.Paths = append(c.Paths, sides[report.PathRow]{pp.A, pp.B})
	}
	return writeJSON(w, c)
}
