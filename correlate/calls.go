package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/trace"
)

// sampled is gpu when it is sampled, else -1.
func (e *Engine) sampled(gpu int) int {
	if _, ok := e.gpus[gpu]; !ok {
		return -1
	}
	return gpu
}

// rankOf is a call's rank and communicator size: from the communicator's
// init, else from the process's RANK/WORLD_SIZE, else guessed (guessed).
func (e *Engine) rankOf(pid uint32, comm uint64) (rank, nranks int, guessed bool) {
	p := e.procs[pid]
	if p != nil && p.haveComm && p.lastComm == comm {
		return p.lastRank[0], p.lastRank[1], p.lastGuess
	}
	rank, nranks, guessed = e.lookupRank(pid, comm)
	if p != nil {
		p.lastComm, p.lastRank, p.lastGuess, p.haveComm = comm, [2]int{rank, nranks}, guessed, true
	}
	return rank, nranks, guessed
}

func (e *Engine) lookupRank(pid uint32, comm uint64) (rank, nranks int, guessed bool) {
	if c, ok := e.comms[commKey{pid, comm}]; ok && c.NRanks > 0 {
		return int(c.Rank), int(c.NRanks), false
	}
	if p := e.procs[pid]; p != nil && p.p.WorldSize > 0 {
		return p.p.Rank, p.p.WorldSize, false
	}
	if r, n, ok := e.widestComm(pid); ok {
		return r, n, false
	}
	if r, n, ok := e.gpuPeers(pid); ok {
		return r, n, true
	}
	return -1, 1, false
}

// gpuPeers guesses a communicator nothing recorded describes (linkprof
// attached after it was created, and the environment names no rank): one
// rank per GPU among the NCCL processes whose GPU is known, as in a
// tensor-parallel group on one node; the process's rank is its GPU's place
// among them. Pipeline or data parallel groups beside it make the guess too
// large; the report says how many calls it covers (Stats.GuessedCalls).
func (e *Engine) gpuPeers(pid uint32) (rank, nranks int, ok bool) {
	p := e.procs[pid]
	if p == nil || p.gpu < 0 {
		return -1, 0, false
	}
	gpus := map[int]bool{}
	for _, q := range e.procs {
		if q.gpu >= 0 && q.p.NCCLPath != "" {
			gpus[q.gpu] = true
		}
	}
	for g := range gpus {
		if g < p.gpu {
			rank++
		}
	}
	return rank, len(gpus), len(gpus) > 1
}

// widestComm is the process's NCCL communicator with the most ranks: the
// best guess for a custom collective, whose handle is its own object (the
// tensor-parallel group it serves has an NCCL communicator too).
func (e *Engine) widestComm(pid uint32) (rank, nranks int, ok bool) {
	var best trace.Comm
	for k, c := range e.comms {
		if k.pid != pid || c.NRanks < 2 {
			continue
		}
		if !ok || c.NRanks > best.NRanks || c.NRanks == best.NRanks && c.Handle < best.Handle {
			best, ok = c, true
		}
	}
	return int(best.Rank), int(best.NRanks), ok
}

// event handles one item in time order: a collective, a group end or a
// graph launch.
func (e *Engine) event(it *item) {
	ev := &it.ev
	e.seen(int64(ev.TsNs))
	switch {
	case ev.Kind == trace.GraphLaunch:
		e.stats.GraphLaunches++
		e.graphLaunch(it)
		if it.unknown {
			e.launch1(e.unknownLaunch(it))
		}
		return
	case it.phase == graphs.Capture:
		if ev.Kind != trace.GroupEnd {
			e.captured(it)
		}
		return
	}
	key := groupKey{ev.Pid, ev.Tid}
	if ev.Kind == trace.GroupEnd {
		if ev.GroupDepth <= 1 {
			if calls := e.groups[key]; len(calls) > 0 {
				delete(e.groups, key)
				e.launch(calls, int64(ev.TsNs))
			}
		}
		return
	}
	c := e.newCall(it)
	c.arrive = it.arrive
	if !it.net { // a network share is the same collective again
		e.stats.Calls++
		if it.phase == graphs.Replay {
			e.stats.ReplayedCalls++
		}
	}
	if ev.GroupDepth > 0 {
		c.Grouped = true
		e.groups[key] = append(e.groups[key], c)
		return
	}
	e.launch1(c)
}

// launch1 launches a single call, reusing a launch's call slice.
func (e *Engine) launch1(c *Call) {
	l := e.allocLaunch()
	l.calls = append(l.calls, c)
	e.queue(l, c.EnqueueNs)
}

func (e *Engine) newCall(it *item) *Call {
	ev := &it.ev
	rankOf := e.rankOf
	if ev.Flags&trace.FlagCommName != 0 {
		rankOf = e.namedRank
	}
	rank, nranks, guessed := rankOf(ev.Pid, ev.Comm)
	if guessed && !it.net { // a network share is the same collective again (event)
		e.stats.GuessedCalls++
		e.stats.GuessedRanks = max(e.stats.GuessedRanks, nranks)
	}
	c := e.allocCall()
	*c = Call{
		Pid: ev.Pid, Tid: ev.Tid, Kind: ev.Kind, DataType: ev.DataType, Count: ev.Count,
		Payload: ev.PayloadBytes(), Comm: ev.Comm, Stream: ev.Stream, StackID: ev.StackID, Caller: callerOf(ev),
		Rank: rank, NRanks: nranks, GPU: e.sampled(it.gpu), EnqueueNs: int64(ev.TsNs),
		Phase: it.phase, Graph: int(it.graph), Launch: int(it.launch),
	}
	c.state = c.GPU
	w := RingWire(ev.Kind, c.Payload, rank, nranks, int(ev.Peer))
	c.Msg, c.Protocol = w.Msg, ProtocolOf(ev.Kind, w.Msg)
	c.baseTx, c.baseRx = w.Tx, w.Rx
	switch {
	case it.net:
		// Its share on the network link; the call is placed by its rank's GPU.
		c.Link, c.state, c.GPU = Net, e.sampled(it.gpu), e.sampled(it.rankGPU)
		c.baseTx, c.baseRx = c.baseTx*float64(it.share), c.baseRx*float64(it.share)
	case it.noNVLink:
		c.baseTx, c.baseRx = 0, 0 // NCCL's P2P transport is off: nothing on NVLink
	}
	e.setFactor(c, c.Protocol.Factor())
	return c
}

// setFactor applies the fitted factor of the call's column (def without
// one) to its ring bytes; a learning pass, the factor it models with
// (learn), none for a graph's launch.
func (e *Engine) setFactor(c *Call, def float64) {
	c.Factor = def
	switch {
	case e.known != nil:
		c.Factor = e.known.fit.factor(c.column(), def)
	case e.learn != nil && e.learn.model != nil && c.Kind != trace.GraphLaunch:
		c.Factor = e.learn.model.factor(c.column(), def)
	}
	c.ExpTx, c.ExpRx = c.baseTx*c.Factor, c.baseRx*c.Factor
}

// unknownLaunch is a launch of a graph captured before the recording, as
// one call whose bytes are the fitted bytes per launch of that graph (in
// the first pass nothing: it only counts in the fit's rows).
func (e *Engine) unknownLaunch(it *item) *Call {
	ev := &it.ev
	rank, nranks, _ := e.rankOf(ev.Pid, 0)
	c := e.allocCall()
	*c = Call{
		Pid: ev.Pid, Tid: ev.Tid, Kind: trace.GraphLaunch, DataType: -1, Count: 1, Stream: ev.Stream, StackID: -1,
		Rank: rank, NRanks: nranks, GPU: e.sampled(it.gpu), EnqueueNs: int64(ev.TsNs),
		Phase: graphs.Replay, Graph: int(it.graph), Launch: int(it.launch), baseTx: 0.5, baseRx: 0.5,
	}
	c.state = c.GPU
	e.setFactor(c, 0)
	return c
}

// column is the unknown of the fit the call's bytes depend on.
func (c *Call) column() column {
	if c.Kind == trace.GraphLaunch {
		return column{kind: c.Kind, pid: c.Pid, graph: int32(c.Graph)}
	}
	if c.groupCalls > 0 {
		col := groupColumn(c.groupCalls, c.NRanks)
		col.link = c.Link
		return col
	}
	return column{kind: c.Kind, class: fitClass(c.Msg), fine: fineClass(c.Msg), nranks: int16(c.NRanks), link: c.Link}
}

// base is the call's coefficient in the fit's rows.
func (c *Call) base() float64 { return c.baseTx + c.baseRx }

// launch queues work on its stream's model, or emits it at once when it
// moves no bytes on a sampled GPU.
//
// A group's calls run as one launch per (link, stream): one thread may
// group calls on communicators of several GPUs (nccl-tests -g 2), and a
// group's network shares run on the network link.
func (e *Engine) launch(calls []*Call, at int64) {
	for len(calls) > 0 {
		l := e.allocLaunch()
		first := calls[0]
		rest := calls[:0]
		for _, c := range calls {
			if c.state == first.state && c.Stream == first.Stream {
				l.calls = append(l.calls, c)
			} else {
				rest = append(rest, c)
			}
		}
		e.groupPointToPoint(l.calls)
		e.queue(l, at)
		calls = rest
	}
}

func (e *Engine) queue(l *launch, at int64) {
	calls := l.calls
	l.readyNs, l.hostNs = at, at
	for _, c := range calls {
		c.LaunchNs = at
		l.exp[tx] += c.ExpTx
		l.exp[rx] += c.ExpRx
		if c.arrive != nil {
			l.waits = append(l.waits, c.arrive)
		}
	}
	for d := range l.exp {
		if l.exp[d] > 0 {
			l.left++
		}
	}
	gpu := calls[0].state
	if gpu < 0 {
		if calls[0].Link == NVLink {
			e.stats.UnmappedCalls += uint64(len(calls))
		}
		e.emit(nil, l)
		return
	}
	g := e.gpus[gpu]
	if l.left == 0 {
		if e.learn != nil {
			e.learn.launchedUnknown(g, l, e.streamOf(calls[0].Pid, calls[0].Stream, gpu))
		}
		e.emit(g, l)
		return
	}
	s := e.streamOf(calls[0].Pid, calls[0].Stream, gpu)
	if e.learn != nil {
		e.learn.queued(g, l, s)
	}
	if len(s.q)-s.head >= maxPendingPerStream {
		old := s.front()
		s.drop()
		e.retire(g, old)
	}
	s.q = append(s.q, l)
}

// streamOf finds or creates the model of a (process, stream).
func (e *Engine) streamOf(pid uint32, id uint64, gpu int) *stream {
	p := e.procs[pid]
	key := streamKey{pid, id, gpu}
	if p != nil && p.stream != nil && p.lastStream == key {
		return p.stream
	}
	s := e.streams[key]
	if s == nil {
		s = &stream{}
		e.streams[key] = s
		g := e.gpus[gpu]
		g.streams = append(g.streams, s)
	}
	if p != nil {
		p.lastStream, p.stream = key, s
	}
	return s
}

// captured emits a collective issued into a CUDA graph: it runs only when
// the graph is launched (as a replay), so it is no execution and moves no
// bytes; sinks see it once, Phase graphs.Capture, for its call site.
func (e *Engine) captured(it *item) {
	if !it.ev.Kind.IsCollective() && !it.ev.Kind.IsCustomCollective() {
		return
	}
	e.stats.CapturedCalls++
	c := e.newCall(it)
	c.ExpTx, c.ExpRx, c.LaunchNs = 0, 0, c.EnqueueNs
	e.sink.Call(c)
	*c = Call{}
	e.freeCalls = append(e.freeCalls, c)
}

// graphLaunch tells sinks that show launches (LaunchSink) about one.
func (e *Engine) graphLaunch(it *item) {
	ls, ok := e.sink.(LaunchSink)
	if !ok {
		return
	}
	ev := &it.ev
	rank := -1
	if p := e.procs[ev.Pid]; p != nil {
		rank = p.p.Rank
		if p.haveComm {
			rank = p.lastRank[0]
		}
	}
	ls.GraphLaunch(&GraphLaunch{Pid: ev.Pid, Tid: ev.Tid, Stream: ev.Stream, Exec: ev.Aux, TsNs: int64(ev.TsNs),
		Rank: rank, Graph: int(it.graph), Launch: int(it.launch), Collectives: int(it.calls)})
}

// callerOf is the return address the probe kept in aux for a call whose
// stack was captured: a frame-pointer walk from the function's first
// instruction skips the direct caller (docs/trace-format.md).
func callerOf(ev *trace.Event) uint64 {
	if ev.StackID < 0 || !(ev.Kind.IsCollective() || ev.Kind.IsCustomCollective()) {
		return 0
	}
	return ev.Aux
}
