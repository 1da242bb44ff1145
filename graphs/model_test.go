package graphs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// script builds event sequences for one process; tid 1 unless changed.
type script struct {
	pid, tid uint32
	ts       uint64
	events   []trace.Event
}

func newScript() *script { return &script{pid: 100, tid: 1} }

func (s *script) add(e trace.Event) *script {
	s.ts += 10
	e.TsNs, e.Pid = s.ts, s.pid
	if e.Tid == 0 {
		e.Tid = s.tid
	}
	s.events = append(s.events, e)
	return s
}

func (s *script) coll(k trace.Kind, count, stream uint64) *script {
	return s.add(trace.Event{Kind: k, Count: count, DataType: 9, Stream: stream, Comm: 0xc0})
}

func (s *script) custom(count uint64) *script {
	return s.add(trace.Event{Kind: trace.CustomAllReduce, Count: count, DataType: 9, Comm: 0xfa})
}

func (s *script) begin(stream uint64, flags uint16) *script {
	return s.add(trace.Event{Kind: trace.StreamBeginCapture, Stream: stream, Flags: flags})
}

func (s *script) end(stream, graph uint64, flags uint16) *script {
	return s.add(trace.Event{Kind: trace.StreamEndCapture, Stream: stream, Comm: graph, Flags: flags | trace.FlagReturn})
}

func (s *script) inst(graph, exec uint64, flags uint16) *script {
	return s.add(trace.Event{Kind: trace.GraphInstantiate, Comm: graph, Aux: exec, Flags: flags | trace.FlagReturn})
}

func (s *script) launch(exec, stream uint64, flags uint16) *script {
	return s.add(trace.Event{Kind: trace.GraphLaunch, Aux: exec, Stream: stream, Flags: flags})
}

const drv = trace.FlagDriver

// render shows calls as "phase op count stream graph launch".
func render(calls []Call) string {
	var b strings.Builder
	for _, c := range calls {
		id := 0
		if c.Graph != nil {
			id = c.Graph.ID
		}
		fmt.Fprintf(&b, "%s %s %d s%x g%d l%d\n", c.Phase, c.Event.Kind, c.Event.Count, c.Event.Stream, id, c.Launch)
	}
	return b.String()
}

func check(t *testing.T, calls []Call, want string) {
	t.Helper()
	want = strings.TrimLeft(want, "\n")
	if got := render(calls); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
}

func TestCaptureThenReplays(t *testing.T) {
	s := newScript().coll(trace.AllReduce, 1, 0xa).
		begin(0xa, 0).coll(trace.AllReduce, 2, 0xa).coll(trace.AllGather, 3, 0xa).coll(trace.AllReduce, 4, 0xb).
		end(0xa, 0x9000, 0).inst(0x9000, 0xe000, 0).
		launch(0xe000, 0xc, 0).coll(trace.AllReduce, 5, 0xa).launch(0xe000, 0xa, 0)
	calls, gs := Expand(s.events)
	check(t, calls, `
eager AllReduce 1 sa g0 l-1
graph-capture AllReduce 2 sa g1 l-1
graph-capture AllGather 3 sa g1 l-1
eager AllReduce 4 sb g0 l-1
graph-replay AllReduce 2 sc g1 l0
graph-replay AllGather 3 sc g1 l0
eager AllReduce 5 sa g0 l-1
graph-replay AllReduce 2 sa g1 l1
graph-replay AllGather 3 sa g1 l1
`)
	if len(gs) != 1 || gs[0].Launches != 2 || gs[0].Handle != 0x9000 || gs[0].Collectives() != 2 {
		t.Fatalf("graphs %+v", gs)
	}
	if calls[4].Event.TsNs != s.events[7].TsNs || calls[4].Event.Tid != 1 {
		t.Errorf("replay carries ts %d tid %d, want the launch's %d", calls[4].Event.TsNs, calls[4].Event.Tid, s.events[7].TsNs)
	}
}

// A runtime call and the driver call inside it are one call; a driver
// caller's back-to-back launches are each a call; so are runtime pairs in
// a tight loop.
func TestRuntimeAndNestedDriverCountOnce(t *testing.T) {
	s := newScript().begin(0xa, 0).begin(0xa, drv).coll(trace.AllReduce, 2, 0xa).
		end(0xa, 0x9000, drv).end(0xa, 0x9000, 0).inst(0x9000, 0xe000, drv).inst(0x9000, 0xe000, 0)
	for i := 0; i < 3; i++ {
		s.launch(0xe000, 0xa, 0).launch(0xe000, 0xa, drv)
	}
	for i := 0; i < 2; i++ {
		s.launch(0xe000, 0xa, drv)
	}
	_, gs := Expand(s.events)
	if len(gs) != 1 || gs[0].Launches != 5 || gs[0].Unknown || len(gs[0].Execs) != 1 {
		t.Fatalf("graphs %+v, want one graph launched 5 times", gs)
	}
}

// A destroyed graph's handles come back for the next graph: each launch
// replays what its own exec was instantiated from. An exec outlives its
// graph.
func TestHandlesReusedAfterDestroy(t *testing.T) {
	s := newScript().begin(0xa, 0).coll(trace.AllReduce, 1, 0xa).end(0xa, 0x9000, 0).inst(0x9000, 0xe000, 0).
		add(trace.Event{Kind: trace.GraphDestroy, Comm: 0x9000}).
		launch(0xe000, 0xa, 0). // the graph is gone, its exec is not
		add(trace.Event{Kind: trace.GraphExecDestroy, Aux: 0xe000}).
		begin(0xa, 0).coll(trace.Broadcast, 2, 0xa).end(0xa, 0x9000, 0).inst(0x9000, 0xe000, 0).
		launch(0xe000, 0xa, 0)
	calls, gs := Expand(s.events)
	check(t, calls, `
graph-capture AllReduce 1 sa g1 l-1
graph-replay AllReduce 1 sa g1 l0
graph-capture Broadcast 2 sa g2 l-1
graph-replay Broadcast 2 sa g2 l0
`)
	if len(gs) != 2 || !gs[0].Destroyed || gs[1].Destroyed || gs[0].Handle != gs[1].Handle {
		t.Errorf("graphs %+v %+v", gs[0], gs[1])
	}
}

// torch's NCCL stream joins the capture through an event; it leaves when
// the capture ends. An event recorded outside a capture joins nothing.
func TestStreamJoinedThroughEvent(t *testing.T) {
	rec := func(s *script, ev, stream uint64) *script {
		return s.add(trace.Event{Kind: trace.EventRecord, Aux: ev, Stream: stream})
	}
	wait := func(s *script, stream, ev uint64) *script {
		return s.add(trace.Event{Kind: trace.StreamWaitEvent, Aux: ev, Stream: stream})
	}
	s := newScript()
	rec(s, 0xe1, 0xa)
	wait(s, 0xd, 0xe1).coll(trace.AllReduce, 1, 0xd).begin(0xa, 0)
	wait(s, 0xd, 0xe1).coll(trace.AllReduce, 2, 0xd) // recorded before the capture: no join
	rec(s, 0xe1, 0xa)
	wait(s, 0xd, 0xe1).coll(trace.AllReduce, 3, 0xd).end(0xa, 0x9000, 0).coll(trace.AllReduce, 4, 0xd)
	calls, _ := Expand(s.events)
	check(t, calls, `
eager AllReduce 1 sd g0 l-1
eager AllReduce 2 sd g0 l-1
graph-capture AllReduce 3 sd g1 l-1
eager AllReduce 4 sd g0 l-1
`)
}

// Custom collectives carry no stream: captured when their thread has a
// capture open, eager on other threads; every kind outside NCCL alike
// (torch symmetric memory's among them), and replayed at each launch.
func TestCustomCollectiveFollowsThread(t *testing.T) {
	for _, k := range trace.Kinds() {
		if !k.IsCustomCollective() {
			continue
		}
		s := newScript().begin(0xa, 0).add(trace.Event{Kind: k, Count: 8})
		s.add(trace.Event{Kind: k, Count: 9, Tid: 2})
		s.end(0xa, 0x9000, 0).add(trace.Event{Kind: k, Count: 10}).inst(0x9000, 0xe000, 0).launch(0xe000, 0xb, 0)
		calls, _ := Expand(s.events)
		check(t, calls, strings.ReplaceAll(`
graph-capture K 8 s0 g1 l-1
eager K 9 s0 g0 l-1
eager K 10 s0 g0 l-1
graph-replay K 8 sb g1 l0
`, "K", k.String()))
	}
}

// The library paths are calls too: those without a stream argument
// (DeepEP here) follow their thread like custom all-reduce, NVSHMEM's follow
// the stream they name; both replay with the graph.
func TestLibraryPathCollectives(t *testing.T) {
	s := newScript().begin(0xa, 0)
	s.add(trace.Event{Kind: trace.DeepEPDispatch, Count: 5, DataType: 9, Comm: 0xb0})
	s.add(trace.Event{Kind: trace.NVSHMEMAllReduce, Count: 6, DataType: 7, Stream: 0xa})
	s.add(trace.Event{Kind: trace.NVSHMEMAlltoAll, Count: 7, DataType: 7, Stream: 0xd})
	s.add(trace.Event{Kind: trace.FlashInferAllReduce, Count: 8, DataType: 9, Tid: 2})
	s.end(0xa, 0x9000, 0).inst(0x9000, 0xe000, 0).launch(0xe000, 0xf, 0)
	calls, _ := Expand(s.events)
	check(t, calls, `
graph-capture DeepEPDispatch 5 s0 g1 l-1
graph-capture NVSHMEMAllReduce 6 sa g1 l-1
eager NVSHMEMAlltoAll 7 sd g0 l-1
eager FlashInferAllReduce 8 s0 g0 l-1
graph-replay DeepEPDispatch 5 sf g1 l0
graph-replay NVSHMEMAllReduce 6 sf g1 l0
`)
}

// What the recording never saw: a launch of an unknown exec counts as a
// launch of an unknown graph and expands to nothing; a failed capture makes
// no graph; handles of two processes are independent.
func TestUnknownFailedAndPerProcess(t *testing.T) {
	s := newScript().launch(0xe000, 0xa, 0).
		begin(0xa, 0).coll(trace.AllReduce, 1, 0xa).
		add(trace.Event{Kind: trace.StreamEndCapture, Stream: 0xa, Flags: trace.FlagReturn, Ret: 901}).
		coll(trace.AllReduce, 2, 0xa)
	s.pid = 200
	s.begin(0xa, 0).coll(trace.Send, 3, 0xa).end(0xa, 0x9000, 0).inst(0x9000, 0xe000, 0).launch(0xe000, 0xa, 0)
	calls, gs := Expand(s.events)
	check(t, calls, `
graph-capture AllReduce 1 sa g0 l-1
eager AllReduce 2 sa g0 l-1
graph-capture Send 3 sa g2 l-1
graph-replay Send 3 sa g2 l0
`)
	if len(gs) != 2 || !gs[0].Unknown || gs[0].Launches != 1 || gs[1].Pid != 200 || gs[1].Launches != 1 {
		t.Errorf("graphs %+v %+v", gs[0], gs[1])
	}
}

func TestSummaryJSON(t *testing.T) {
	s := newScript().begin(0xa, 0).coll(trace.AllReduce, 1024, 0xa).custom(0).end(0xa, 0x9000, 0).
		inst(0x9000, 0xe000, 0).launch(0xe000, 0xa, 0).launch(0xe000, 0xa, 0)
	_, gs := Expand(s.events)
	b, err := json.Marshal(gs[0].Summary())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":1,"pid":100,"handle":36864,"stream":10,"captured":[` +
		`{"op":"AllReduce","count":1024,"dtype":"bfloat16","payload_bytes":2048,"comm":192,"stream":10},` +
		`{"op":"CustomAllReduce","count":0,"dtype":"bfloat16","payload_bytes":0,"comm":250,"stream":0}],` +
		`"launches":2,"executed_calls":4,"payload_bytes":4096}`
	if string(b) != want {
		t.Errorf("summary\n %s\nwant\n %s", b, want)
	}
}
