package correlate

import "github.com/linkprof/linkprof/trace"

// gpuOf is the sampled GPU a process runs on, -1 if none.
func (e *Engine) gpuOf(pid uint32) int {
	p := e.procs[pid]
	if p == nil || p.gpu < 0 {
		return -1
	}
	if _, ok := e.gpus[p.gpu]; !ok {
		return -1
	}
	return p.gpu
}

// rankOf is a call's rank and communicator size: from the communicator's
// init, else from the process's RANK/WORLD_SIZE.
func (e *Engine) rankOf(pid uint32, comm uint64) (int, int) {
	p := e.procs[pid]
	if p != nil && p.haveComm && p.lastComm == comm {
		return p.lastRank[0], p.lastRank[1]
	}
	r, n := e.lookupRank(pid, comm)
	if p != nil {
		p.lastComm, p.lastRank, p.haveComm = comm, [2]int{r, n}, true
	}
	return r, n
}

func (e *Engine) lookupRank(pid uint32, comm uint64) (int, int) {
	if c, ok := e.comms[commKey{pid, comm}]; ok && c.NRanks > 0 {
		return int(c.Rank), int(c.NRanks)
	}
	if p := e.procs[pid]; p != nil && p.p.WorldSize > 0 {
		return p.p.Rank, p.p.WorldSize
	}
	return -1, 1
}

// event handles one collective or group end, in time order.
func (e *Engine) event(ev *trace.Event) {
	e.seen(int64(ev.TsNs))
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
	c := e.newCall(ev)
	e.stats.Calls++
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

func (e *Engine) newCall(ev *trace.Event) *Call {
	rank, nranks := e.rankOf(ev.Pid, ev.Comm)
	c := e.allocCall()
	*c = Call{
		Pid: ev.Pid, Tid: ev.Tid, Kind: ev.Kind, DataType: ev.DataType, Count: ev.Count,
		Payload: ev.PayloadBytes(), Comm: ev.Comm, Stream: ev.Stream, StackID: ev.StackID,
		Rank: rank, NRanks: nranks, GPU: e.gpuOf(ev.Pid), EnqueueNs: int64(ev.TsNs),
	}
	w := RingWire(ev.Kind, c.Payload, rank, nranks, int(ev.Peer))
	c.Msg, c.Protocol = w.Msg, ProtocolFor(w.Msg)
	c.factor = e.calib.factor(classOf(c), c.Protocol.Factor())
	c.ExpTx, c.ExpRx = w.Tx*c.factor, w.Rx*c.factor
	return c
}

func classOf(c *Call) classKey {
	return classKey{kind: c.Kind, class: int8(SizeClass(c.Msg))}
}

// launch queues work on its stream's model, or emits it at once when it
// moves no bytes on a sampled GPU.
func (e *Engine) launch(calls []*Call, at int64) {
	l := e.allocLaunch()
	l.calls = append(l.calls, calls...)
	e.queue(l, at)
}

func (e *Engine) queue(l *launch, at int64) {
	calls := l.calls
	l.readyNs, l.class = at, classOf(calls[0])
	for _, c := range calls {
		c.LaunchNs = at
		l.exp[tx] += c.ExpTx
		l.exp[rx] += c.ExpRx
		if c.factor > 0 {
			l.base += (c.ExpTx + c.ExpRx) / c.factor
		}
		if classOf(c) != l.class {
			l.mixedClass = true
		}
	}
	for d := range l.exp {
		if l.exp[d] > 0 {
			l.left++
		}
	}
	gpu := calls[0].GPU
	if gpu < 0 || l.left == 0 {
		if gpu < 0 {
			e.stats.UnmappedCalls += uint64(len(calls))
		}
		e.emit(l)
		return
	}
	s := e.streamOf(calls[0].Pid, calls[0].Stream, gpu)
	s.q = append(s.q, l)
}

// streamOf finds or creates the model of a (process, stream).
func (e *Engine) streamOf(pid uint32, id uint64, gpu int) *stream {
	p := e.procs[pid]
	if p != nil && p.stream != nil && p.lastStream == id {
		return p.stream
	}
	key := streamKey{pid, id}
	s := e.streams[key]
	if s == nil {
		s = &stream{}
		e.streams[key] = s
		g := e.gpus[gpu]
		g.streams = append(g.streams, s)
	}
	if p != nil {
		p.lastStream, p.stream = id, s
	}
	return s
}
