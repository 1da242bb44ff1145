package graphs

import "github.com/linkprof/linkprof/trace"

// Phase says how a collective call relates to CUDA graphs; its String is
// the pprof label value and the timeline category.
type Phase uint8

const (
	Eager   Phase = iota // issued and executed by a host call
	Capture              // issued while its stream was captured: recorded, not executed
	Replay               // executed by a graph launch, no host call
)

func (p Phase) String() string {
	switch p {
	case Eager:
		return "eager"
	case Capture:
		return "graph-capture"
	case Replay:
		return "graph-replay"
	}
	return "unknown"
}

// Call is one collective (or group framing) event as the model sees it.
type Call struct {
	Event trace.Event
	Phase Phase
	// Graph is the graph captured into or replayed (nil for Eager).
	Graph *Graph
	// Launch numbers the graph's launches from 0 (Replay); -1 otherwise.
	Launch int
}

// Executed reports whether the call is a collective that ran: eager or
// replayed, not captured, and not group framing.
func (c Call) Executed() bool {
	return c.Phase != Capture && (c.Event.Kind.IsCollective() || c.Event.Kind.IsCustomCollective())
}

// Graph is one captured CUDA graph: one capture, whatever its handle's
// later reuse.
type Graph struct {
	ID      int    // 1, 2, ... in order of capture end (or first sight)
	Pid     uint32 // the process it lives in
	Handle  uint64 // cudaGraph_t / CUgraph
	Stream  uint64 // the stream captured (the origin stream)
	Tid     uint32 // the thread that began the capture
	BeginNs uint64 // 0 if the begin was not recorded
	EndNs   uint64
	// Captured is what the graph replays: collectives and group framing,
	// in capture order.
	Captured []trace.Event
	Execs    []uint64 // exec handles instantiated from it
	Launches int
	// Unknown marks a graph known only from an exec launched (its capture
	// and instantiation came before the recording).
	Unknown   bool
	Destroyed bool

	open          bool     // capturing now
	joinedStreams []uint64 // streams joined to the open capture
}

// Collectives counts the collectives (not group framing) one replay runs.
func (g *Graph) Collectives() int {
	n := 0
	for _, e := range g.Captured {
		if e.Kind.IsCollective() || e.Kind.IsCustomCollective() {
			n++
		}
	}
	return n
}

// CapturedCall is one collective in a graph summary.
type CapturedCall struct {
	Op           string `json:"op"`
	Count        uint64 `json:"count"`
	DataType     string `json:"dtype"`
	PayloadBytes uint64 `json:"payload_bytes"`
	Comm         uint64 `json:"comm"`
	Stream       uint64 `json:"stream"`
}

// Summary is one entry of report.json's `graphs`.
type Summary struct {
	ID       int            `json:"id"`
	Pid      uint32         `json:"pid"`
	Handle   uint64         `json:"handle"`
	Stream   uint64         `json:"stream"`
	Captured []CapturedCall `json:"captured"`
	Launches int            `json:"launches"`
	// ExecutedCalls is launches x captured collectives.
	ExecutedCalls int `json:"executed_calls"`
	// PayloadBytes is launches x the captured collectives' payload.
	PayloadBytes uint64 `json:"payload_bytes"`
	Unknown      bool   `json:"unknown,omitempty"`
	Destroyed    bool   `json:"destroyed,omitempty"`
}

// Summary describes the graph for report.json.
func (g *Graph) Summary() Summary {
	s := Summary{ID: g.ID, Pid: g.Pid, Handle: g.Handle, Stream: g.Stream, Launches: g.Launches,
		Unknown: g.Unknown, Destroyed: g.Destroyed, Captured: []CapturedCall{}}
	var payload uint64
	for _, e := range g.Captured {
		if !e.Kind.IsCollective() && !e.Kind.IsCustomCollective() {
			continue
		}
		s.Captured = append(s.Captured, CapturedCall{Op: e.Kind.Op(), Count: e.Count, DataType: e.DataType.String(),
			PayloadBytes: e.PayloadBytes(), Comm: e.Comm, Stream: e.Stream})
		payload += e.PayloadBytes()
	}
	s.ExecutedCalls = g.Launches * len(s.Captured)
	s.PayloadBytes = uint64(g.Launches) * payload
	return s
}
