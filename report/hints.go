package report

import (
	"github.com/linkprof/linkprof/internal/paths"
	"github.com/linkprof/linkprof/trace"
)

// hintShare is the unattributed share of link TX above which the report
// names the paths that could explain it.
const hintShare = 0.01

// hints names the known paths outside NCCL calls (paths.Known) that
// could explain unattributed traffic, when there is enough of it.
func hints(r *Report) []Hint {
	out := []Hint{}
	linkTx := r.Unattributed.TxBytes
	seen := callsByPath(r.Ops)
	for _, o := range r.Ops {
		linkTx += o.TxBytes
	}
	if linkTx == 0 || float64(r.Unattributed.TxBytes) < hintShare*float64(linkTx) {
		return out
	}
	var unknownLaunches uint64
	for _, g := range r.Graphs {
		if g.Unknown {
			unknownLaunches += uint64(g.Launches)
		}
	}
	for _, p := range paths.Known {
		h := Hint{Path: p.Name, Framework: p.Framework, Explains: p.Explains, ToNCCL: p.ToNCCL, Probed: p.Probed}
		switch {
		case p.Name == graphReplayPath:
			// Replays of recorded graphs are expanded and attributed; only
			// graphs captured before the recording began are blind spots.
			if unknownLaunches == 0 {
				continue
			}
			h.CallsSeen = unknownLaunches
			h.Explains = "launches of CUDA graphs captured before the recording began: what they replay is unknown " +
				"(record from the server's start to see the captures)"
		case p.Probed:
			h.CallsSeen = seen[p.Kinds]
		}
		out = append(out, h)
	}
	return out
}

// callsByPath sums the ops' calls by the path their kind takes
// (trace.Kind.Path).
func callsByPath(ops []Op) map[string]uint64 {
	kindOf := map[string]trace.Kind{}
	for _, k := range trace.Kinds() {
		kindOf[k.Op()] = k
	}
	out := map[string]uint64{}
	for _, o := range ops {
		if k, ok := kindOf[o.Op]; ok {
			out[k.Path()] += o.Calls
		}
	}
	return out
}

// graphReplayPath is the entry of paths.Known for CUDA graph replays.
const graphReplayPath = "CUDA graph replay"
