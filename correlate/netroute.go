package correlate

import (
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/nic"
	"github.com/linkprof/linkprof/trace"
)

// netRoute is the router's part of the network links (docs/attribution.md,
// "Network links"): which collectives cross the network and what share of
// their ring bytes a host's NICs carry, and each host's NIC reads summed
// round by round into reads of its one network link. A trace holds one
// host, or several when merged (trace/host.go): host h's link is the
// engines' state netState+h, its pids and NICs carry h in their high bits.
type netRoute struct {
	nics     []NICSummary   // in order of first appearance
	pos      map[uint32]int // NIC index -> nics
	links    map[int]*hostLink
	merged   bool // the trace is a merge of several hosts' recordings
	procs    map[uint32]procNet
	sizes    map[commKey]int // communicator sizes from their creation
	hostGPUs int             // GPUs sampled (one host's when not merged)
	ranks    map[[2]int]int  // processes with a rank, by host and world size
	sink     NICSink         // nil: none
	// inherited stands for a process whose record is not in yet (a rank
	// forked a moment ago makes calls before the recorder writes it): what
	// the processes recorded so far agree on, as children inherit their
	// environment.
	inherited inheritedNet
}

// hostLink is one host's network link: its NICs' speeds and open round.
type hostLink struct {
	peakBps float64
	cur     netRound
}

// procNet is what a process's environment says about its transports.
type procNet struct {
	p2pOff, shmOff    bool
	world, localWorld int
}

// netRound is the open round of a host's NIC reads.
type netRound struct {
	open    bool
	round   uint64
	read    counterRead
	firstNs int64
	lastNs  int64
}

func newNetRoute() *netRoute {
	return &netRoute{pos: map[uint32]int{}, links: map[int]*hostLink{}, procs: map[uint32]procNet{},
		sizes: map[commKey]int{}, ranks: map[[2]int]int{}}
}

// netStateOf is the engines' state of a host's network link.
func netStateOf(host int) int { return netState + host }

// addProcess keeps a process's transport settings (the last record wins).
func (n *netRoute) addProcess(p trace.Process) {
	if old, ok := n.procs[p.Pid]; !ok || old.world <= 0 {
		if p.Rank >= 0 && p.WorldSize > 0 {
			host, _ := trace.SplitPid(p.Pid)
			n.ranks[[2]int{host, p.WorldSize}]++
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

// addNIC registers a sampled NIC and returns its host's link state and
// the link's peak so far (its NICs' speeds summed).
func (n *netRoute) addNIC(d trace.NIC) (state int, peakBps float64) {
	host, _ := trace.SplitNIC(uint32(d.Index))
	l := n.links[host]
	if l == nil {
		l = &hostLink{}
		n.links[host] = l
	}
	l.peakBps += d.SpeedBps
	n.summary(uint32(d.Index)).NIC = d
	return netStateOf(host), l.peakBps
}

// summary is a NIC's summary, made at its first record or sample.
func (n *netRoute) summary(idx uint32) *NICSummary {
	i, ok := n.pos[idx]
	if !ok {
		i = len(n.nics)
		n.pos[idx] = i
		n.nics = append(n.nics, NICSummary{NIC: trace.NIC{Index: int(idx)}})
	}
	return &n.nics[i]
}

// decide says, for an item about to be routed, whether NVLink carries
// none of it (NCCL's P2P transport is off in its process), what share of
// its ring bytes its host's network link carries (0: none) and that
// link's state.
func (n *netRoute) decide(it *item) (noNVLink bool, share float32, state int) {
	ev := &it.ev
	if !ev.Kind.IsCollective() || it.phase == graphs.Capture {
		return false, 0, -1
	}
	p := n.proc(ev.Pid)
	host, _ := trace.SplitPid(ev.Pid)
	state = netStateOf(host)
	if n.links[host] == nil {
		return p.p2pOff, 0, -1
	}
	if p.p2pOff && p.shmOff {
		// Every hop between ranks uses the network transport: on one
		// host through lo, each byte once sent and once received.
		return true, 1, state
	}
	all, here := recorded(it, host)
	if local, ok := n.spansHosts(p, host, n.commSize(it, p), all, here); ok {
		return p.p2pOff, 1 / float32(local), state
	}
	return p.p2pOff, 0, -1
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

// recorded is how many of the item's communicator's ranks this recording
// saw create it, all hosts and on host (0: not matched).
func recorded(it *item, host int) (all, here int) {
	if it.arrive == nil {
		return 0, 0
	}
	for _, m := range it.arrive.Comm.Members {
		if h, _ := trace.SplitPid(m.Pid); h == host {
			here++
		}
	}
	return it.arrive.Comm.Recorded(), here
}

// spansHosts reports whether a communicator of nranks, all of whose ranks
// were recorded creating it (here of them on host), has ranks on other
// hosts than host, and how many it has on host. A ring leaves and enters
// each host once per channel: the host's NICs carry one rank's ring bytes,
// which its local ranks share. A merged trace sees the other hosts' ranks;
// one host's sees them only as missing: with the whole job's local ranks
// recorded, a communicator spans hosts when fewer of its ranks were seen
// here than it has; otherwise when it has more ranks than the host has
// local ranks (LOCAL_WORLD_SIZE, else the GPUs sampled).
func (n *netRoute) spansHosts(p procNet, host, nranks, all, here int) (local int, ok bool) {
	switch {
	case nranks < 2:
		return 0, false
	case n.merged && all > here && here > 0:
		return here, true
	case p.localWorld > 0 && p.world > p.localWorld && here > 0 && n.ranks[[2]int{host, p.world}] >= p.localWorld:
		return here, here < nranks
	case p.localWorld > 0 && nranks > p.localWorld:
		if p.world > 0 {
			return max(1, nranks*p.localWorld/p.world), true
		}
		return p.localWorld, true
	case !n.merged && n.hostGPUs > 0 && nranks > n.hostGPUs:
		return n.hostGPUs, true
	}
	return 0, false
}

// sample adds one NIC read. A read of its host's next round ends that
// host's open round: a host's reads of one round lie together in the file.
// It returns the ended round as a read of the host's link.
func (n *netRoute) sample(s *trace.NICSample) (state int, t int64, r counterRead, ended bool) {
	host, _ := trace.SplitNIC(s.NIC)
	l := n.links[host]
	if l == nil { // samples without a NIC record
		l = &hostLink{}
		n.links[host] = l
	}
	if l.cur.open && s.Round != l.cur.round {
		t, r, ended = l.end()
	}
	at := s.MonoBeforeNs + (s.MonoAfterNs-s.MonoBeforeNs)/2
	d := n.summary(s.NIC)
	if iv, ok := d.add(s, at); ok && n.sink != nil {
		n.sink.NICInterval(&d.NIC, iv.startNs, iv.endNs, iv.tx, iv.rx)
	}
	c := &l.cur
	if !c.open {
		*c = netRound{open: true, round: s.Round, firstNs: s.MonoBeforeNs, read: counterRead{ok: true}}
	}
	c.lastNs = s.MonoAfterNs
	c.read.ok = c.read.ok && s.OK()
	c.read.wrapped = c.read.wrapped || s.Flags&trace.SampleWrapped != 0
	c.read.tx += s.TxBytes
	c.read.rx += s.RxBytes
	return netStateOf(host), t, r, ended
}

// end closes the open round: the link's read at the middle of its reads.
func (l *hostLink) end() (t int64, r counterRead, ok bool) {
	c := &l.cur
	if !c.open {
		return 0, counterRead{}, false
	}
	c.open = false
	c.read.monoAfterNs = c.lastNs
	return c.firstNs + (c.lastNs-c.firstNs)/2, c.read, true
}

// endAll closes every host's open round, calling fn with each.
func (n *netRoute) endAll(fn func(state int, t int64, r counterRead)) {
	for host, l := range n.links {
		if t, r, ok := l.end(); ok {
			fn(netStateOf(host), t, r)
		}
	}
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
