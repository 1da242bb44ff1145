package physim

import (
	"cmp"
	"slices"
	"strings"
)

// Truth is what really crossed the links of a simulated recording, and
// what the simulator wrote.
type Truth struct {
	Scenario  string
	Seed      uint64
	Ranks     int
	Protocols Protocols // the simulator's secret protocol table
	// Ops holds executed collectives by trace.Kind.Op(): eager calls and
	// replays of graphs whose capture the recording holds; a broadcast
	// torch issued (ncclBcast calling ncclBroadcast) counts once.
	Ops      map[string]*OpTruth
	Captured map[string]uint64 // calls issued into graphs during the recording (not executed)
	// Graphs are the replays of graphs captured before the recording, per
	// rank: their calls are in no trace, their bytes are only here.
	Graphs []*GraphTruth
	// Unexplained is traffic no collective carried (peer copies), per GPU.
	UnexplainedTx, UnexplainedRx []float64
	GPUs                         []GPUTruth
	Phases                       []string // by phase index
	// Late is the rank the straggler scenario delays by LateNs before each
	// round (-1 in other scenarios).
	Late   int
	LateNs int64
	// Windows are, per GPU, the stretch each phase kept its link active,
	// in start order.
	Windows []Window
	// HostEvents and HostPayload count the events written by kind name
	// (trace.Kind.String(): Bcast and Broadcast apart, capture-time calls
	// included): the trace must hold exactly these.
	HostEvents  map[string]uint64
	HostPayload map[string]uint64
	Samples     uint64
	StartNs     int64 // the recording's start (monotonic)
	EndNs       int64
}

// OpTruth is one op's executed calls and wire bytes, per GPU.
type OpTruth struct {
	Calls   uint64
	Payload uint64
	Tx, Rx  []float64
}

// TxSum and RxSum are the op's bytes over all GPUs.
func (o *OpTruth) TxSum() float64 { return sum(o.Tx) }
func (o *OpTruth) RxSum() float64 { return sum(o.Rx) }

// GraphTruth is one rank's launches of a hidden graph and the bytes they
// moved on its GPU.
type GraphTruth struct {
	Graph    int
	Rank     int
	Pid      uint32
	Exec     uint64
	Launches uint64
	Tx, Rx   float64
}

// GPUTruth is one GPU's traffic: what flowed, and what its counters said
// between the first and the last successful read (KiB steps, as bytes).
type GPUTruth struct {
	TxBytes, RxBytes               float64
	CounterTxBytes, CounterRxBytes float64
}

// Window is where one phase kept one GPU's link active.
type Window struct {
	GPU            int
	Phase          int
	Name           string
	StartNs, EndNs int64
	Ops            []OpShare // by bytes, most first
	Label          string    // the op carrying >= 90% of the bytes, else those >= 10% joined by "+"
}

// OpShare is what one op (or "unattributed", or GraphName) moved in a
// window, both directions.
type OpShare struct {
	Op    string
	Bytes float64
}

func newTruth(n int) *Truth {
	return &Truth{Ranks: n, Late: -1, Ops: map[string]*OpTruth{}, Captured: map[string]uint64{},
		UnexplainedTx: make([]float64, n), UnexplainedRx: make([]float64, n), GPUs: make([]GPUTruth, n),
		HostEvents: map[string]uint64{}, HostPayload: map[string]uint64{}}
}

func (t *Truth) op(name string) *OpTruth {
	o := t.Ops[name]
	if o == nil {
		o = &OpTruth{Tx: make([]float64, t.Ranks), Rx: make([]float64, t.Ranks)}
		t.Ops[name] = o
	}
	return o
}

func (t *Truth) graph(rank, g int) *GraphTruth {
	for _, gt := range t.Graphs {
		if gt.Rank == rank && gt.Graph == g {
			return gt
		}
	}
	gt := &GraphTruth{Graph: g, Rank: rank, Pid: Pid(rank), Exec: Exec(rank, g)}
	t.Graphs = append(t.Graphs, gt)
	return gt
}

// charge books every segment of the links: per op, graph or unexplained,
// and per phase window.
func (t *Truth) charge(links []*link) {
	for g, l := range links {
		win := map[int]*Window{}
		for _, s := range l.segs {
			t.GPUs[g].TxBytes += s.tx
			t.GPUs[g].RxBytes += s.rx
			name := t.chargeSeg(g, s)
			if s.tag.phase >= 0 {
				addToWindow(win, g, s, name, t.Phases[s.tag.phase])
			}
		}
		for _, w := range win {
			w.finish()
			t.Windows = append(t.Windows, *w)
		}
	}
	slices.SortFunc(t.Windows, func(a, b Window) int {
		return cmp.Or(cmp.Compare(a.GPU, b.GPU), cmp.Compare(a.StartNs, b.StartNs))
	})
}

// chargeSeg books one segment and names what carried it.
func (t *Truth) chargeSeg(g int, s seg) string {
	switch {
	case s.tag.graph >= 0:
		gt := t.graph(g, s.tag.graph)
		gt.Tx += s.tx
		gt.Rx += s.rx
		return GraphName(s.tag.graph)
	case s.tag.txOp == "":
		t.UnexplainedTx[g] += s.tx
		t.UnexplainedRx[g] += s.rx
		return "unattributed"
	}
	if s.tx > 0 {
		t.op(s.tag.txOp).Tx[g] += s.tx
	}
	if s.rx > 0 {
		t.op(s.tag.rxOp).Rx[g] += s.rx
	}
	if s.tag.txOp == s.tag.rxOp || s.rx == 0 {
		return s.tag.txOp
	}
	return s.tag.txOp + "+" + s.tag.rxOp // split below by addToWindow
}

func addToWindow(win map[int]*Window, g int, s seg, name, phase string) {
	w := win[s.tag.phase]
	if w == nil {
		w = &Window{GPU: g, Phase: s.tag.phase, Name: phase, StartNs: s.start, EndNs: s.end}
		win[s.tag.phase] = w
	}
	w.StartNs, w.EndNs = min(w.StartNs, s.start), max(w.EndNs, s.end)
	if a, b, ok := strings.Cut(name, "+"); ok {
		w.add(a, s.tx)
		w.add(b, s.rx)
		return
	}
	w.add(name, s.tx+s.rx)
}

func (w *Window) add(op string, b float64) {
	if b == 0 {
		return
	}
	for i := range w.Ops {
		if w.Ops[i].Op == op {
			w.Ops[i].Bytes += b
			return
		}
	}
	w.Ops = append(w.Ops, OpShare{Op: op, Bytes: b})
}

func (w *Window) finish() {
	slices.SortFunc(w.Ops, func(a, b OpShare) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.Op, b.Op))
	})
	var total float64
	for _, o := range w.Ops {
		total += o.Bytes
	}
	var names []string
	for _, o := range w.Ops {
		if o.Bytes >= 0.1*total {
			names = append(names, o.Op)
		}
	}
	if len(w.Ops) > 0 && w.Ops[0].Bytes >= 0.9*total {
		names = names[:1]
	}
	w.Label = strings.Join(names, "+")
}

func sum(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s
}
