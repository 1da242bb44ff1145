package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/nic"
	"github.com/linkprof/linkprof/trace"
)

// netRoute is the router's part of the network link (docs/attribution.md,
// "Network links"): which collectives cross the network and what share of
// their ring bytes the host's NICs carry, and the NICs' reads summed round
// by round into reads of the one network link.
type netRoute struct {
	on       bool // a NIC was sampled: the link exists
	nics     []NICSummary
	procs    map[uint32]procNet
	sizes    map[commKey]int // communicator sizes from their creation
	hostGPUs int             // GPUs sampled on the host
	ranks    map[int]int     // processes with a rank, by world size
	sink     NICSink         // nil: none
	cur      netRound
	// inherited stands for a process whose record is not in yet (a rank
	// forked a moment ago makes calls before the recorder writes it): what
	// the processes recorded so far agree on, as children inherit their
	// environment.
	inherited inheritedNet
}

// inheritedNet is the transport settings every process recorded so far
// shares (conflict: they differ, nothing is assumed).
type inheritedNet struct {
	p            procNet
	seen, worlds bool
	conflict     bool
	worldClash   bool
}

func (h *inheritedNet) add(p procNet) {
	if h.seen && (p.p2pOff != h.p.p2pOff || p.shmOff != h.p.shmOff) {
		h.conflict = true
	}
	if !h.seen {
		h.p.p2pOff, h.p.shmOff, h.seen = p.p2pOff, p.shmOff, true
	}
	if p.world <= 0 {
		return
	}
	if h.worlds && (p.world != h.p.world || p.localWorld != h.p.localWorld) {
		h.worldClash = true
	}
	if !h.worlds {
		h.p.world, h.p.localWorld, h.worlds = p.world, p.localWorld, true
	}
}

func (h *inheritedNet) get() procNet {
	var p procNet
	if !h.conflict {
		p.p2pOff, p.shmOff = h.p.p2pOff, h.p.shmOff
	}
	if !h.worldClash {
		p.world, p.localWorld = h.p.world, h.p.localWorld
	}
	return p
}

// procNet is what a process's environment says about its transports.
type procNet struct {
	p2pOff, shmOff    bool
	world, localWorld int
}

// netRound is the open round of NIC reads.
type netRound struct {
	open    bool
	round   uint64
	read    counterRead
	firstNs int64
	lastNs  int64
}

func newNetRoute() *netRoute {
	return &netRoute{procs: map[uint32]procNet{}, sizes: map[commKey]int{}, ranks: map[int]int{}}
}

// addProcess keeps a process's transport settings (the last record wins).
func (n *netRoute) addProcess(p trace.Process) {
	if old, ok := n.procs[p.Pid]; !ok || old.world <= 0 {
		if p.Rank >= 0 && p.WorldSize > 0 {
			n.ranks[p.WorldSize]++
		}
	}
	pn := procNet{p2pOff: nic.P2POff(p.NCCLEnv), shmOff: nic.SHMOff(p.NCCLEnv), world: p.WorldSize, localWorld: p.LocalWorldSize}
	n.procs[p.Pid] = pn
	n.inherited.add(pn)
}

// proc is a process's transport settings, those its recorded relatives
// share until its own record is in.
func (n *netRoute) proc(pid uint32) procNet {
	if p, ok := n.procs[pid]; ok {
		return p
	}
	return n.inherited.get()
}

// addNIC registers a sampled NIC; the first makes the link exist.
func (n *netRoute) addNIC(d trace.NIC) (first bool) {
	first = !n.on
	n.on = true
	for len(n.nics) <= d.Index {
		n.nics = append(n.nics, NICSummary{NIC: trace.NIC{Index: len(n.nics)}})
	}
	n.nics[d.Index].NIC = d
	return first
}

// peakBps is the NICs' speeds summed, 0 when none is known.
func (n *netRoute) peakBps() float64 {
	var sum float64
	for _, d := range n.nics {
		sum += d.SpeedBps
	}
	return sum
}

// decide says, for an item about to be routed, whether NVLink carries
// none of it (NCCL's P2P transport is off in its process) and what share
// of its ring bytes the network link carries (0: none).
func (n *netRoute) decide(it *item) (noNVLink bool, share float32) {
	ev := &it.ev
	if !ev.Kind.IsCollective() || it.phase == graphs.Capture {
		return false, 0
	}
	p := n.proc(ev.Pid)
	if !n.on {
		return p.p2pOff, 0
	}
	if p.p2pOff && p.shmOff {
		// Every hop between ranks uses the network transport: on one
		// host through lo, each byte once sent and once received.
		return true, 1
	}
	if local, ok := n.spansHosts(p, n.commSize(it, p), n.recorded(it)); ok {
		return p.p2pOff, 1 / float32(local)
	}
	return p.p2pOff, 0
}

// commSize is the item's communicator size: matched across ranks, from its
// creation, else the process's world.
func (n *netRoute) commSize(it *item, p procNet) int {
	if it.arrive != nil {
		return int(it.arrive.Comm.NRanks)
	}
	if s, ok := n.sizes[commKey{it.ev.Pid, it.ev.Comm}]; ok {
		return s
	}
	return p.world
}

// recorded is how many of the communicator's ranks this recording saw
// create it (0: not matched).
func (n *netRoute) recorded(it *item) int {
	if it.arrive == nil {
		return 0
	}
	return it.arrive.Comm.Recorded()
}

// spansHosts reports whether a communicator of nranks has ranks on other
// hosts, and how many it has here. A ring leaves and enters each host once
// per channel: the host's NICs carry one rank's ring bytes, which its local
// ranks share. With the whole job's local ranks recorded, a communicator
// spans hosts when fewer of its ranks were seen here than it has; else
// when it has more ranks than the host has local ranks (LOCAL_WORLD_SIZE,
// else the GPUs sampled).
func (n *netRoute) spansHosts(p procNet, nranks, recorded int) (local int, ok bool) {
	switch {
	case nranks < 2:
		return 0, false
	case p.localWorld > 0 && p.world > p.localWorld && recorded > 0 && n.ranks[p.world] >= p.localWorld:
		return recorded, recorded < nranks
	case p.localWorld > 0 && nranks > p.localWorld:
		if p.world > 0 {
			return max(1, nranks*p.localWorld/p.world), true
		}
		return p.localWorld, true
	case n.hostGPUs > 0 && nranks > n.hostGPUs:
		return n.hostGPUs, true
	}
	return 0, false
}

// sample adds one NIC read. A read of the next round ends the open round:
// the reads of one round lie together in the file. It returns the ended
// round as a read of the link.
func (n *netRoute) sample(s *trace.NICSample) (t int64, r counterRead, ended bool) {
	if n.cur.open && s.Round != n.cur.round {
		t, r, ended = n.end()
	}
	for len(n.nics) <= int(s.NIC) {
		n.nics = append(n.nics, NICSummary{NIC: trace.NIC{Index: len(n.nics)}})
	}
	at := s.MonoBeforeNs + (s.MonoAfterNs-s.MonoBeforeNs)/2
	d := &n.nics[s.NIC]
	if iv, ok := d.add(s, at); ok && n.sink != nil {
		n.sink.NICInterval(&d.NIC, iv.startNs, iv.endNs, iv.tx, iv.rx)
	}
	c := &n.cur
	if !c.open {
		*c = netRound{open: true, round: s.Round, firstNs: s.MonoBeforeNs, read: counterRead{ok: true}}
	}
	c.lastNs = s.MonoAfterNs
	c.read.ok = c.read.ok && s.OK()
	c.read.wrapped = c.read.wrapped || s.Flags&trace.SampleWrapped != 0
	c.read.tx += s.TxBytes
	c.read.rx += s.RxBytes
	return t, r, ended
}

// end closes the open round: the link's read at the middle of its reads.
func (n *netRoute) end() (t int64, r counterRead, ok bool) {
	c := &n.cur
	if !c.open {
		return 0, counterRead{}, false
	}
	c.open = false
	c.read.monoAfterNs = c.lastNs
	return c.firstNs + (c.lastNs-c.firstNs)/2, c.read, true
}
