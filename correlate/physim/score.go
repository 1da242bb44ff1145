package physim

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Attributed is one op's link bytes over all GPUs as an analysis
// attributed them (report.json ops[].nvlink_tx_bytes, _rx_bytes).
type Attributed struct {
	Op      string
	TxBytes uint64
	RxBytes uint64
}

// OpScore compares one op with the truth. Err is (got - truth) / truth;
// for an op the truth gives no bytes in a direction (Recv's TX), it is
// got over all of that direction's traffic.
type OpScore struct {
	Op             string
	TruthTx, GotTx float64
	TruthRx, GotRx float64
	ErrTx, ErrRx   float64
}

// OpsScore is the per-op comparison of one recording.
type OpsScore struct {
	Ops     []OpScore // by op name
	TruthTx float64   // all link TX over all GPUs
	// UnattributedShare is the TX the analysis left unattributed over all
	// TX; TruthUnexplainedShare what no recorded collective carried (peer
	// copies and replays of hidden graphs).
	UnattributedShare     float64
	TruthUnexplainedShare float64
	GraphTx               map[string]float64 // hidden graphs' TX by GraphName
}

// Worst is the op with the largest |ErrTx|.
func (s OpsScore) Worst() OpScore {
	var w OpScore
	for _, o := range s.Ops {
		if abs(o.ErrTx) > abs(w.ErrTx) {
			w = o
		}
	}
	return w
}

// HiddenGraphOp is the op name under which an analysis reports the
// replays of graphs captured before the recording.
const HiddenGraphOp = "CUDAGraph"

// ScoreOps compares attributed bytes per op with the truth.
func ScoreOps(t *Truth, got []Attributed, unattributedTx uint64) OpsScore {
	s := OpsScore{GraphTx: map[string]float64{}}
	var truthRx, unexplained float64
	for _, g := range t.GPUs {
		s.TruthTx += g.TxBytes
		truthRx += g.RxBytes
	}
	unexplained = sum(t.UnexplainedTx)
	byOp := map[string]*OpScore{}
	for name, o := range t.Ops {
		byOp[name] = &OpScore{Op: name, TruthTx: o.TxSum(), TruthRx: o.RxSum()}
	}
	// Replays of graphs captured before the recording are the report's
	// "CUDAGraph" row: bytes per launch it has to learn.
	for _, g := range t.Graphs {
		s.GraphTx[GraphName(g.Graph)] += g.Tx
		o := byOp[HiddenGraphOp]
		if o == nil {
			o = &OpScore{Op: HiddenGraphOp}
			byOp[HiddenGraphOp] = o
		}
		o.TruthTx += g.Tx
		o.TruthRx += g.Rx
	}
	for _, a := range got {
		o := byOp[a.Op]
		if o == nil {
			o = &OpScore{Op: a.Op}
			byOp[a.Op] = o
		}
		o.GotTx += float64(a.TxBytes)
		o.GotRx += float64(a.RxBytes)
	}
	for _, name := range slices.Sorted(maps.Keys(byOp)) {
		o := byOp[name]
		if o.TruthTx+o.TruthRx+o.GotTx+o.GotRx == 0 {
			continue // an op kind the analysis lists with nothing in it
		}
		o.ErrTx, o.ErrRx = relErr(o.GotTx, o.TruthTx, s.TruthTx), relErr(o.GotRx, o.TruthRx, truthRx)
		s.Ops = append(s.Ops, *o)
	}
	if s.TruthTx > 0 {
		s.UnattributedShare = float64(unattributedTx) / s.TruthTx
		s.TruthUnexplainedShare = unexplained / s.TruthTx
	}
	return s
}

func relErr(got, truth, all float64) float64 {
	switch {
	case truth > 0:
		return (got - truth) / truth
	case all > 0:
		return got / all
	}
	return 0
}

// Detected is one burst an analysis found.
type Detected struct {
	GPU            int
	StartNs, EndNs int64
	Label          string             // ops joined by "+", or "unattributed"
	Ops            map[string]float64 // attributed bytes (TX + RX) by op
}

// Pair is a truth window and the burst matched to it.
type Pair struct {
	Window   Window
	Detected Detected
	Agree    bool // same set of ops in both labels
}

// BurstScore is how detected bursts match the truth's windows.
type BurstScore struct {
	Truth, Detected int
	Pairs           []Pair
	LabelsAgree     int
	Missed          []Window   // no burst matched
	Extra           []Detected // matched no window
	Split           int        // windows overlapped by more than one burst
	Merged          int        // bursts overlapping more than one window
}

// OneToOne reports whether every window has exactly its own burst.
func (b BurstScore) OneToOne() bool {
	return len(b.Pairs) == b.Truth && b.Truth == b.Detected && b.Split == 0 && b.Merged == 0
}

// MatchBursts pairs windows and bursts of the same GPU one to one, most
// overlap first. slackNs widens every interval before comparing: sampled
// bursts are only as sharp as the sample period.
func MatchBursts(windows []Window, got []Detected, slackNs int64) BurstScore {
	b := BurstScore{Truth: len(windows), Detected: len(got)}
	type cand struct {
		w, d    int
		overlap int64
	}
	var cands []cand
	wHits, dHits := make([]int, len(windows)), make([]int, len(got))
	for i, w := range windows {
		for j, d := range got {
			if o := overlap(w, d, slackNs); d.GPU == w.GPU && o > 0 {
				cands = append(cands, cand{i, j, o})
				wHits[i]++
				dHits[j]++
			}
		}
	}
	slices.SortStableFunc(cands, func(x, y cand) int { return cmp.Compare(y.overlap, x.overlap) })
	wUsed, dUsed := make([]bool, len(windows)), make([]bool, len(got))
	for _, c := range cands {
		if wUsed[c.w] || dUsed[c.d] {
			continue
		}
		wUsed[c.w], dUsed[c.d] = true, true
		p := Pair{Window: windows[c.w], Detected: got[c.d], Agree: sameOps(windows[c.w].Label, got[c.d].Label)}
		b.Pairs = append(b.Pairs, p)
		if p.Agree {
			b.LabelsAgree++
		}
	}
	for i, w := range windows {
		if !wUsed[i] {
			b.Missed = append(b.Missed, w)
		}
		if wHits[i] > 1 {
			b.Split++
		}
	}
	for j, d := range got {
		if !dUsed[j] {
			b.Extra = append(b.Extra, d)
		}
		if dHits[j] > 1 {
			b.Merged++
		}
	}
	return b
}

// PhaseBytes is what the pair's burst attributed to the ops its phase
// ran, against what the phase moved (both directions): where two ops
// always run together their split may be wrong, their sum must not.
// Unexplained traffic and graphs captured before the recording (named
// differently by truth and report) are left out.
func (p Pair) PhaseBytes() (got, truth float64) {
	for _, o := range p.Window.Ops {
		if o.Op == "unattributed" || strings.HasPrefix(o.Op, "graph ") {
			continue
		}
		got += p.Detected.Ops[o.Op]
		truth += o.Bytes
	}
	return got, truth
}

func overlap(w Window, d Detected, slack int64) int64 {
	return min(w.EndNs, d.EndNs) + slack - max(w.StartNs, d.StartNs)
}

// sameOps compares two labels as sets of op names.
func sameOps(a, b string) bool {
	x, y := strings.Split(a, "+"), strings.Split(b, "+")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
