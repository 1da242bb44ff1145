package correlate

import "github.com/linkprof/linkprof/trace"

// The sends and receives of one ncclGroupStart/End (torch's all_to_all
// with uneven splits: a send and a receive per peer, of sizes that change
// from call to call) run as one kernel, and their size classes run
// together in every row of the fit in about the same proportions: the rows
// fix the group's bytes, not each class's factor, and the protocol table
// split them (where NCCL sent the group's chunks with another protocol
// than the table's, each launch expected bytes by its own mix of sizes,
// and the phase's bytes went to the wrong launch: physim phasemix Send
// -3.9%, twocomms +5.0%). So the point-to-point calls of such groups
// share one column per shape (communicator size and calls in the group),
// whatever their sizes: the rows tell its factor, and every launch
// expects its ring bytes times it. Its prior is the table's factor of its
// calls, weighted by their ring bytes.

// p2pGroupOp names a group of point-to-point calls in the fit's report.
const p2pGroupOp = "Send+Recv"

// groupColumn is the column of the calls of a point-to-point group of n
// calls on a communicator of nranks.
func groupColumn(n, nranks int) column {
	return column{kind: trace.Send, nranks: int16(nranks), group: int16(min(n, 1<<15-1))}
}

// groupPointToPoint gives the calls of one launch that are all sends and
// receives, two or more, the group's column and its factor.
func (e *Engine) groupPointToPoint(calls []*Call) {
	if len(calls) < 2 {
		return
	}
	for _, c := range calls {
		if c.Kind != trace.Send && c.Kind != trace.Recv {
			return
		}
	}
	for _, c := range calls {
		c.groupCalls = len(calls)
		e.setFactor(c, c.Protocol.Factor())
	}
}

// op is the report's name of a column's calls.
func (c column) op() string {
	if c.group > 0 {
		return p2pGroupOp
	}
	return c.kind.Op()
}

// tableSum is a group column's ring bytes and their table factors' sum.
type tableSum struct{ ring, wire float64 }

// expect notes a call's ring bytes a and its table factor in its column.
func (f *fitter) expect(c column, a, factor float64) {
	if c.group == 0 {
		return
	}
	s := f.table[c]
	s.ring += a
	s.wire += a * factor
	f.table[c] = s
}

// tablePrior is what the protocol table says of a column: of a group,
// its calls' factors weighted by their ring bytes.
func (f *fitter) tablePrior(c column) float64 {
	if c.group == 0 {
		return c.prior()
	}
	if s := f.table[c]; s.ring > 0 {
		return s.wire / s.ring
	}
	return Simple.Factor()
}
