package graphs

import (
	"slices"

	"github.com/linkprof/linkprof/trace"
)

type streamKey struct {
	pid    uint32
	stream uint64
}

type threadKey struct{ pid, tid uint32 }

type handleKey struct {
	pid    uint32
	handle uint64
}

// Model is the CUDA graph state of every recorded process. Not safe for
// concurrent use; feed it events in trace order.
type Model struct {
	graphs    []*Graph
	capturing map[streamKey]*Graph   // open captures, by origin stream
	joined    map[streamKey]*Graph   // other streams joined to an open capture
	recorded  map[handleKey]*Graph   // events last recorded on a capturing stream
	byThread  map[threadKey][]*Graph // open captures begun on a thread, oldest first
	byHandle  map[handleKey]*Graph   // the live graph of each handle
	execs     map[handleKey]*Graph   // the graph each live exec was instantiated from
	last      map[threadKey]trace.Event
	launched  *Graph // the graph the last event launched
}

// New returns an empty model.
func New() *Model {
	return &Model{capturing: map[streamKey]*Graph{}, joined: map[streamKey]*Graph{},
		recorded: map[handleKey]*Graph{}, byThread: map[threadKey][]*Graph{},
		byHandle: map[handleKey]*Graph{}, execs: map[handleKey]*Graph{}, last: map[threadKey]trace.Event{}}
}

// Expand runs a whole trace's events through a new model.
func Expand(events []trace.Event) ([]Call, []*Graph) {
	m := New()
	var calls []Call
	for _, e := range events {
		calls = append(calls, m.Add(e)...)
	}
	return calls, m.Graphs()
}

// Graphs returns every graph whose capture ended (or that was seen only
// launched), in order of ID. Captures still open are left out.
func (m *Model) Graphs() []*Graph { return m.graphs }

// Add updates the state with one event and returns the calls it stands
// for (see the package doc). The returned slice is the caller's.
func (m *Model) Add(e trace.Event) []Call { return m.AddTo(nil, e) }

// AddTo is Add appending to dst, so a caller that reuses its slice
// allocates nothing per event.
func (m *Model) AddTo(dst []Call, e trace.Event) []Call {
	m.launched = nil
	tk := threadKey{e.Pid, e.Tid}
	if m.nestedTwin(tk, e) {
		return dst
	}
	switch e.Kind {
	case trace.GroupStart, trace.GroupEnd, trace.CustomAllReduce:
		return m.issue(dst, e, m.threadCapture(tk))
	case trace.StreamBeginCapture:
		m.begin(e)
	case trace.StreamEndCapture:
		m.end(e)
	case trace.GraphInstantiate:
		m.instantiate(e)
	case trace.GraphLaunch:
		return m.launch(dst, e)
	case trace.GraphExecDestroy:
		delete(m.execs, handleKey{e.Pid, e.Aux})
	case trace.GraphDestroy:
		m.destroy(e)
	case trace.EventRecord:
		m.record(e)
	case trace.StreamWaitEvent:
		m.wait(e)
	default:
		switch {
		case e.Kind.IsCollective(), e.Kind.IsCustomCollective() && e.Stream != 0:
			return m.issue(dst, e, m.captureOf(e.Pid, e.Stream))
		case e.Kind.IsCustomCollective():
			// No stream argument: it runs on its thread's current stream.
			return m.issue(dst, e, m.threadCapture(tk))
		}
	}
	return dst
}

// Launched is the graph the last event given to Add launched (nil when it
// was no launch, or the twin of one already counted); its Launches
// includes that launch. A launch of a graph with nothing captured returns
// no calls, so this is how a caller sees it.
func (m *Model) Launched() *Graph { return m.launched }

// nestedTwin reports whether e is the second half of one runtime call
// seen twice: the runtime function and the driver function it called, on
// one thread, back to back, with the same handles. The pair is consumed, so
// a third such event starts a new call.
func (m *Model) nestedTwin(tk threadKey, e trace.Event) bool {
	if !e.Kind.IsGraph() {
		// Any other call on the thread ends a back-to-back pair; the map
		// stays empty, and this costs nothing, in processes without graphs.
		if len(m.last) > 0 {
			delete(m.last, tk)
		}
		return false
	}
	prev, ok := m.last[tk]
	twin := ok && prev.Kind == e.Kind &&
		(prev.Flags^e.Flags)&trace.FlagDriver != 0 &&
		(prev.Flags^e.Flags)&trace.FlagReturn == 0 &&
		prev.Stream == e.Stream && prev.Comm == e.Comm && prev.Aux == e.Aux
	if twin {
		delete(m.last, tk)
	} else {
		m.last[tk] = e
	}
	return twin
}

// issue returns a collective (or group framing) call: captured into g, or
// eager when g is nil.
func (m *Model) issue(dst []Call, e trace.Event, g *Graph) []Call {
	if g == nil {
		return append(dst, Call{Event: e, Phase: Eager, Launch: -1})
	}
	g.Captured = append(g.Captured, e)
	return append(dst, Call{Event: e, Phase: Capture, Graph: g, Launch: -1})
}

// threadCapture is the newest capture begun on the thread and still open:
// where calls that name no stream (custom collectives, group framing) go.
func (m *Model) threadCapture(tk threadKey) *Graph {
	open := m.byThread[tk]
	if len(open) == 0 {
		return nil
	}
	return open[len(open)-1]
}

// captureOf is the open capture a stream belongs to, as origin or joined.
func (m *Model) captureOf(pid uint32, stream uint64) *Graph {
	key := streamKey{pid, stream}
	if g := m.capturing[key]; g != nil {
		return g
	}
	return m.joined[key]
}

// record notes which capture, if any, an event was recorded in.
func (m *Model) record(e trace.Event) {
	hk := handleKey{e.Pid, e.Aux}
	if g := m.captureOf(e.Pid, e.Stream); g != nil {
		m.recorded[hk] = g
		return
	}
	delete(m.recorded, hk)
}

// wait joins the waiting stream to the capture the event was recorded in:
// CUDA makes it part of that capture until the capture ends.
func (m *Model) wait(e trace.Event) {
	g := m.recorded[handleKey{e.Pid, e.Aux}]
	if g == nil || !g.open || m.captureOf(e.Pid, e.Stream) != nil {
		return
	}
	m.joined[streamKey{e.Pid, e.Stream}] = g
	g.joinedStreams = append(g.joinedStreams, e.Stream)
}

func (m *Model) begin(e trace.Event) {
	key := streamKey{e.Pid, e.Stream}
	if m.captureOf(e.Pid, e.Stream) != nil {
		return // CUDA refuses a second capture of a capturing stream
	}
	g := &Graph{Pid: e.Pid, Stream: e.Stream, Tid: e.Tid, BeginNs: e.TsNs, open: true}
	m.capturing[key] = g
	tk := threadKey{e.Pid, e.Tid}
	m.byThread[tk] = append(m.byThread[tk], g)
}

func (m *Model) end(e trace.Event) {
	key := streamKey{e.Pid, e.Stream}
	g := m.capturing[key]
	if g != nil {
		delete(m.capturing, key)
		m.closeOnThread(g)
		for _, s := range g.joinedStreams {
			delete(m.joined, streamKey{e.Pid, s})
		}
		g.open, g.joinedStreams = false, nil
	}
	if e.Ret != 0 || e.Comm == 0 {
		return // the capture failed: CUDA discards it
	}
	if g == nil {
		// The begin came before the recording: what it captured is unknown.
		g = &Graph{Pid: e.Pid, Stream: e.Stream, Tid: e.Tid, Unknown: true}
	}
	g.Handle, g.EndNs = e.Comm, e.TsNs
	m.register(g)
	m.byHandle[handleKey{e.Pid, e.Comm}] = g
}

func (m *Model) closeOnThread(g *Graph) {
	tk := threadKey{g.Pid, g.Tid}
	open := slices.DeleteFunc(m.byThread[tk], func(o *Graph) bool { return o == g })
	if len(open) == 0 {
		delete(m.byThread, tk)
		return
	}
	m.byThread[tk] = open
}

func (m *Model) register(g *Graph) {
	g.ID = len(m.graphs) + 1
	m.graphs = append(m.graphs, g)
}

func (m *Model) instantiate(e trace.Event) {
	if e.Ret != 0 || e.Aux == 0 {
		return
	}
	hk := handleKey{e.Pid, e.Comm}
	g := m.byHandle[hk]
	if g == nil {
		g = &Graph{Pid: e.Pid, Handle: e.Comm, Unknown: true}
		m.register(g)
		m.byHandle[hk] = g
	}
	m.execs[handleKey{e.Pid, e.Aux}] = g
	if !slices.Contains(g.Execs, e.Aux) {
		g.Execs = append(g.Execs, e.Aux)
	}
}

// launch expands a launch into the graph's captured sequence, on the
// launch's stream and thread, at the launch's time.
func (m *Model) launch(dst []Call, e trace.Event) []Call {
	hk := handleKey{e.Pid, e.Aux}
	g := m.execs[hk]
	if g == nil {
		g = &Graph{Pid: e.Pid, Unknown: true, Execs: []uint64{e.Aux}}
		m.register(g)
		m.execs[hk] = g
	}
	n := g.Launches
	g.Launches++
	m.launched = g
	for _, c := range g.Captured {
		c.TsNs, c.Tid, c.Stream = e.TsNs, e.Tid, e.Stream
		dst = append(dst, Call{Event: c, Phase: Replay, Graph: g, Launch: n})
	}
	return dst
}

func (m *Model) destroy(e trace.Event) {
	hk := handleKey{e.Pid, e.Comm}
	if g := m.byHandle[hk]; g != nil {
		g.Destroyed = true
		delete(m.byHandle, hk)
	}
}
