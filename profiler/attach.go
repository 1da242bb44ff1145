package profiler

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/linkprof/linkprof/bpf"
)

// ProbeOptions configure the BPF side.
type ProbeOptions struct {
	RingBytes   uint32 // ring buffer size, a power of two >= 4096
	WakeupBytes uint64 // wake the reader once this much is queued
	Stacks      bool   // capture user stacks at each probe
}

// Defaults sized for bursts of ~100k events between reader polls.
const (
	DefaultRingBytes   = 16 << 20
	DefaultWakeupBytes = 1 << 20
)

// libKey identifies a library file: probes live on inodes, not paths.
type libKey struct{ dev, inode uint64 }

// Probes owns the loaded BPF objects and every link attached from them.
type Probes struct {
	objs bpf.NcclObjects

	mu       sync.Mutex
	attached map[libKey][]link.Link
	fork     link.Link
}

// LoadProbes loads the BPF programs and maps. It needs CAP_BPF and
// CAP_PERFMON (or root).
func LoadProbes(opts ProbeOptions) (*Probes, error) {
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("raising memlock limit: %w", err)
	}
	spec, err := bpf.LoadNccl()
	if err != nil {
		return nil, fmt.Errorf("reading BPF objects: %w", err)
	}
	if opts.RingBytes != 0 {
		spec.Maps["events"].MaxEntries = opts.RingBytes
	}
	if err := spec.Variables["wakeup_bytes"].Set(wakeupOrDefault(opts)); err != nil {
		return nil, fmt.Errorf("setting wakeup threshold: %w", err)
	}
	if err := spec.Variables["capture_stacks"].Set(boolByte(opts.Stacks)); err != nil {
		return nil, fmt.Errorf("setting stack capture: %w", err)
	}
	p := &Probes{attached: map[libKey][]link.Link{}}
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading BPF objects: %+v", ve)
		}
		return nil, fmt.Errorf("loading BPF objects: %w", err)
	}
	return p, nil
}

func wakeupOrDefault(o ProbeOptions) uint64 {
	if o.WakeupBytes == 0 {
		return DefaultWakeupBytes
	}
	return o.WakeupBytes
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// FollowForks makes children of followed processes targets from birth.
func (p *Probes) FollowForks() error {
	l, err := link.AttachTracing(link.TracingOptions{Program: p.objs.FollowFork, AttachType: ebpf.AttachTraceRawTp})
	if err != nil {
		return fmt.Errorf("attaching fork tracepoint: %w", err)
	}
	p.fork = l
	return nil
}

// AddTarget starts recording pid; with follow, its future children too.
func (p *Probes) AddTarget(pid uint32, follow bool) error {
	one := uint8(1)
	if err := p.objs.Targets.Update(pid, one, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("adding target %d: %w", pid, err)
	}
	if follow {
		if err := p.objs.FollowChildren.Update(pid, one, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("following children of %d: %w", pid, err)
		}
	}
	return nil
}

// RemoveTarget stops recording pid (it exited, or was only a launcher).
func (p *Probes) RemoveTarget(pid uint32) {
	_ = p.objs.Targets.Delete(pid)
	_ = p.objs.FollowChildren.Delete(pid)
}

// Targets lists the processes being recorded, including children the fork
// tracepoint added.
func (p *Probes) Targets() []uint32 {
	var pids []uint32
	var pid uint32
	var v uint8
	it := p.objs.Targets.Iterate()
	for it.Next(&pid, &v) {
		pids = append(pids, pid)
	}
	return pids
}

// Lost sums the events the ring buffer had no room for, over all CPUs.
func (p *Probes) Lost() (uint64, error) {
	var perCPU []uint64
	if err := p.objs.Lost.Lookup(uint32(0), &perCPU); err != nil {
		return 0, fmt.Errorf("reading lost counter: %w", err)
	}
	var n uint64
	for _, v := range perCPU {
		n += v
	}
	return n, nil
}

// Attached reports whether a library file already has probes.
func (p *Probes) Attached(dev, inode uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.attached[libKey{dev, inode}]
	return ok
}

// AttachNCCL puts the NCCL probes on a library file, once per inode, for
// every process that maps it (the targets map filters). It returns the
// symbols probed and the wanted ones the library lacks (older NCCL).
func (p *Probes) AttachNCCL(hostPath string, dev, inode uint64, lib *LibraryInfo) (probed, missing []string, err error) {
	return p.attach(hostPath, libKey{dev, inode}, lib, ncclProbes)
}

// AttachLoader probes the dynamic loader's link-map hook.
func (p *Probes) AttachLoader(hostPath string, dev, inode uint64, lib *LibraryInfo) error {
	_, missing, err := p.attach(hostPath, libKey{dev, inode}, lib, []probeSpec{loaderProbe})
	if err == nil && len(missing) > 0 {
		err = fmt.Errorf("loader %s has no %s", hostPath, loaderProbe.symbol)
	}
	return err
}

func (p *Probes) attach(hostPath string, key libKey, lib *LibraryInfo, specs []probeSpec) (probed, missing []string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.attached[key]; ok {
		return nil, nil, nil
	}
	ex, err := link.OpenExecutable(hostPath)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", hostPath, err)
	}
	var links []link.Link
	for _, s := range specs {
		sym, ok := resolveSymbol(lib, s.symbol)
		if !ok {
			if !s.ret {
				slog.Debug("symbol not in library, skipped", "symbol", s.symbol, "library", hostPath)
				missing = append(missing, s.symbol)
			}
			continue
		}
		l, err := p.attachOne(ex, sym, s)
		if err != nil {
			closeAll(links)
			return nil, nil, fmt.Errorf("probing %s in %s: %w", sym, hostPath, err)
		}
		links = append(links, l)
		if !s.ret {
			probed = append(probed, sym)
		}
	}
	p.attached[key] = links
	return probed, missing, nil
}

func (p *Probes) attachOne(ex *link.Executable, sym string, s probeSpec) (link.Link, error) {
	prog := p.program(s.program)
	if prog == nil {
		return nil, fmt.Errorf("no BPF program %s", s.program)
	}
	opts := &link.UprobeOptions{Cookie: uint64(s.kind)}
	if s.ret {
		return ex.Uretprobe(sym, prog, opts)
	}
	return ex.Uprobe(sym, prog, opts)
}

func (p *Probes) program(name string) *ebpf.Program {
	o := &p.objs.NcclPrograms
	return map[string]*ebpf.Program{
		"coll_redop":       o.CollRedop,
		"coll_root":        o.CollRoot,
		"coll_reduce":      o.CollReduce,
		"coll_plain":       o.CollPlain,
		"coll_onebuf":      o.CollOnebuf,
		"group_start":      o.GroupStart,
		"group_end":        o.GroupEnd,
		"comm_init_rank":   o.CommInitRank,
		"comm_init_all":    o.CommInitAll,
		"comm_split":       o.CommSplit,
		"comm_init_return": o.CommInitReturn,
		"comm_destroy":     o.CommDestroy,
		"library_load":     o.LibraryLoad,
	}[name]
}

// Detach removes the probes of one library file (it was unloaded).
func (p *Probes) Detach(dev, inode uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := libKey{dev, inode}
	closeAll(p.attached[key])
	delete(p.attached, key)
}

// EventsMap is the ring buffer the probes write to.
func (p *Probes) EventsMap() *ebpf.Map { return p.objs.Events }

// StacksMap holds captured user stacks.
func (p *Probes) StacksMap() *ebpf.Map { return p.objs.Stacks }

// Close detaches every probe and frees the BPF objects.
func (p *Probes) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, links := range p.attached {
		closeAll(links)
		delete(p.attached, k)
	}
	if p.fork != nil {
		p.fork.Close()
	}
	return p.objs.Close()
}

func closeAll(links []link.Link) {
	for _, l := range links {
		l.Close()
	}
}
