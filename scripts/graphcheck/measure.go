package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/profiler/extra"
	"github.com/linkprof/linkprof/trace"
)

// measured is what the trace says one process did.
type measured struct {
	calls, captured int
	payload         uint64
	graphs          []string // graphKey of each graph
}

// measure expands the trace's events per process.
func measure(events []trace.Event) map[uint32]*measured {
	calls, gs := graphs.Expand(events)
	out := map[uint32]*measured{}
	get := func(pid uint32) *measured {
		if out[pid] == nil {
			out[pid] = &measured{}
		}
		return out[pid]
	}
	for _, c := range calls {
		if c.Event.Kind != trace.AllReduce {
			continue
		}
		m := get(c.Event.Pid)
		switch {
		case c.Executed():
			m.calls++
			m.payload += c.Event.PayloadBytes()
		case c.Phase == graphs.Capture:
			m.captured++
		}
	}
	for _, g := range gs {
		if n := g.Collectives(); n > 0 {
			first := g.Captured[0]
			get(g.Pid).graphs = append(get(g.Pid).graphs, graphKey(n, first.Kind.Op(), first.Count, g.Launches))
		}
	}
	return out
}

// graphKey describes a graph of n collectives like its first.
func graphKey(n int, op string, count uint64, launches int) string {
	return fmt.Sprintf("%d x %s(%d) launched %d", n, op, count, launches)
}

func compare(w io.Writer, who string, calls int, payload uint64, captured int, m *measured) int {
	bad := 0
	for _, row := range []struct {
		what      string
		want, got uint64
	}{
		{"AllReduce calls executed", uint64(calls), uint64(m.calls)},
		{"AllReduce payload bytes executed", payload, m.payload},
		{"AllReduce calls at capture time", uint64(captured), uint64(m.captured)},
	} {
		mark := "ok"
		if row.want != row.got {
			mark, bad = "MISMATCH", bad+1
		}
		fmt.Fprintf(w, "%-22s %-34s issued %-12d recorded %-12d %s\n", who, row.what, row.want, row.got, mark)
	}
	return bad
}

func compareGraphs(w io.Writer, rank int, want, got []string) int {
	slices.Sort(want)
	slices.Sort(got)
	if slices.Equal(want, got) {
		fmt.Fprintf(w, "rank %d graphs: %s ok\n", rank, strings.Join(got, "; "))
		return 0
	}
	fmt.Fprintf(w, "rank %d graphs MISMATCH\n  issued   %s\n  recorded %s\n", rank, strings.Join(want, "; "), strings.Join(got, "; "))
	return 1
}

func compareOffset(w io.Writer, rank, measuredOffset int) int {
	if measuredOffset == extra.TorchNumelOffset {
		fmt.Fprintf(w, "rank %d TensorImpl numel offset %d ok\n", rank, measuredOffset)
		return 0
	}
	fmt.Fprintf(w, "rank %d TensorImpl numel offset: torch has %d, extra.TorchNumelOffset is %d: MISMATCH\n",
		rank, measuredOffset, extra.TorchNumelOffset)
	return 1
}
