package main

import (
	"fmt"
	"strings"

	"github.com/linkprof/linkprof/correlate"
)

// test says what an nccl-tests binary calls: its NCCL ops, the payload
// of a call for a size column of size (per rank for gathers and
// all-to-all: size over the ranks), and the calls of each op one
// iteration makes on a GPU. perSize false: calls of varying counts
// (alltoallv, hypercube) are checked in total only.
type test struct {
	ops     []string
	perRank bool
	perIter int
	perSize bool
}

var tests = map[string]test{
	"all_reduce":     {ops: []string{"AllReduce"}, perIter: 1, perSize: true},
	"all_gather":     {ops: []string{"AllGather"}, perRank: true, perIter: 1, perSize: true},
	"reduce_scatter": {ops: []string{"ReduceScatter"}, perRank: true, perIter: 1, perSize: true},
	"alltoall":       {ops: []string{"AlltoAll"}, perRank: true, perIter: 1, perSize: true},
	"broadcast":      {ops: []string{"Broadcast"}, perIter: 1, perSize: true},
	"reduce":         {ops: []string{"Reduce"}, perIter: 1, perSize: true},
	"gather":         {ops: []string{"Gather"}, perRank: true, perIter: 1, perSize: true},
	"scatter":        {ops: []string{"Scatter"}, perRank: true, perIter: 1, perSize: true},
	"sendrecv":       {ops: []string{"Send", "Recv"}, perIter: 1, perSize: true},
	"alltoallv":      {ops: []string{"Send", "Recv"}},
	"hypercube":      {ops: []string{"Send", "Recv"}},
}

// nccl-tests' run: -b 64K -e 64M -f 4 -n 20 -w 5 on 2 GPUs. Each
// benchmark size runs out-of-place and in-place, each with one call
// before the timed ones and one data check after (-c 1, the default);
// the warm-up runs every size from -b to -e doubling.
const (
	iters, warmup, ranks = 20, 5, 2
	minBytes, maxBytes   = 64 << 10, 64 << 20
)

func expectedIters(size uint64) int {
	n := 2 * (iters + 2)
	for s := uint64(minBytes); s <= maxBytes; s *= 2 {
		if s == size {
			n += warmup
		}
	}
	return n
}

// checkRun analyzes one recording and prints its rows; it returns its
// summary line.
func checkRun(rec, out, name, mode string) (string, error) {
	t, ok := tests[name]
	if !ok {
		return "", fmt.Errorf("unknown test %q", name)
	}
	rows, err := readTable(out)
	if err != nil || len(rows) == 0 {
		return "", fmt.Errorf("no table in %s (%v)", out, err)
	}
	a := newAgg()
	if _, err := correlate.Analyze(rec, correlate.Options{}, a); err != nil {
		return "", err
	}
	exact := true
	for _, r := range rows {
		if !t.perSize {
			continue
		}
		payload := r.size
		if t.perRank {
			payload /= ranks
		}
		want := ranks * t.perIter * expectedIters(r.size)
		var calls []string
		for _, op := range t.ops {
			s := a.bySig[sig{op, payload}]
			exact = exact && s.calls == want
			calls = append(calls, fmt.Sprintf("%s %d / %d", op, s.calls, want))
		}
		// The first op carries the TX (a receive sends nothing).
		tx := a.bySig[sig{t.ops[0], payload}]
		rate := "-"
		if gbps, ok := a.gbps(tx); ok {
			rate = fmt.Sprintf("%.1f", gbps)
		}
		fmt.Printf("| %s | %s | %d | %s | %s | %s | %.1f |\n", name, mode, r.size, strings.Join(calls, ", "),
			ratio(payload, r.size), rate, r.busbw)
	}
	var onOp, all float64
	for op, b := range a.txByOp {
		all += b
		for _, want := range t.ops {
			if op == want {
				onOp += b
			}
		}
	}
	all += a.unTx
	callsNote := "yes"
	if !t.perSize {
		callsNote = fmt.Sprintf("total %d calls", a.totalCalls(t.ops))
	} else if !exact {
		callsNote = "no"
	}
	return fmt.Sprintf("| %s | %s | %s | %.2f%% of %.0f MB (%s) |", name, mode, callsNote, 100*onOp/max(all, 1), all/1e6,
		strings.Join(t.ops, "+")), nil
}

func ratio(payload, size uint64) string { return fmt.Sprintf("%d/%d", payload, size) }
