package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/linkprof/linkprof/graphs"
)

// maxGraphRows bounds the text report's graph table; report.json has all.
const maxGraphRows = 20

// writeHints names, below the op table, the paths outside NCCL calls that
// could explain unattributed traffic. It writes past the table's tabwriter
// (flushed first): the lines are prose, not columns.
func writeHints(w io.Writer, tw *tabwriter.Writer, r *Report, linkTx uint64) {
	if len(r.Unattributed.Hints) == 0 {
		return
	}
	tw.Flush()
	fmt.Fprintf(w, "%s of link TX is unattributed; paths outside NCCL calls that could explain it:\n", pct(r.Unattributed.TxBytes, linkTx))
	for _, h := range r.Unattributed.Hints {
		seen := "not probed"
		if h.Probed {
			seen = fmt.Sprintf("probed, %d calls recorded", h.CallsSeen)
		}
		fmt.Fprintf(w, "  - %s (%s; %s): %s\n    route through NCCL: %s\n", h.Path, h.Framework, seen, h.Explains, h.ToNCCL)
	}
	fmt.Fprintln(w)
}

// writeGraphs summarizes the CUDA graphs: what each captured and how often
// it was launched.
func writeGraphs(w io.Writer, tw *tabwriter.Writer, r *Report) {
	a := r.Analysis
	if len(r.Graphs) == 0 && a.CapturedCalls == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("CUDA graphs: %d, %d launches, %d collectives replayed (in ops), %d capture-time calls (not executions)\n",
		len(r.Graphs), a.GraphLaunches, a.ReplayedCalls, a.CapturedCalls)
	p("graph\tpid\tstream\tlaunches\tcalls\tpayload\tcaptured\t\n")
	for i, g := range r.Graphs {
		if i == maxGraphRows {
			p("... %d more graphs in report.json\n", len(r.Graphs)-i)
			break
		}
		p("%d\t%d\t%#x\t%d\t%d\t%s\t%s\t\n", g.ID, g.Pid, g.Stream, g.Launches, g.ExecutedCalls, bytesStr(g.PayloadBytes), capturedStr(g.Unknown, g.Captured))
	}
	p("\n")
}

// capturedStr is a graph's collectives, runs of one op folded: "32 x AllReduce".
func capturedStr(unknown bool, cs []graphs.CapturedCall) string {
	if unknown {
		return "unknown (captured before the recording)"
	}
	if len(cs) == 0 {
		return "no collectives"
	}
	var parts []string
	for i := 0; i < len(cs); {
		j := i
		for j < len(cs) && cs[j].Op == cs[i].Op {
			j++
		}
		part := cs[i].Op
		if j-i > 1 {
			part = fmt.Sprintf("%d x %s", j-i, cs[i].Op)
		}
		parts = append(parts, part)
		i = j
	}
	return strings.Join(parts, ", ")
}
