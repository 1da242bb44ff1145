package profiler

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/linkprof/linkprof/bpf"
)

// ProbeOptions configure the BPF side.
type ProbeOptions struct {
	RingBytes   uint32 // ring buffer size, a power of two from a page to MaxRingBytes; 0: DefaultRingBytes
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

	multi    bool // uprobe_multi links (kernel 6.6+)
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
	ring, err := ringBytes(opts.RingBytes)
	if err != nil {
		return nil, err
	}
	spec.Maps["events"].MaxEntries = ring
	if err := spec.Variables["wakeup_bytes"].Set(wakeupOrDefault(opts)); err != nil {
		return nil, fmt.Errorf("setting wakeup threshold: %w", err)
	}
	if err := spec.Variables["capture_stacks"].Set(boolByte(opts.Stacks)); err != nil {
		return nil, fmt.Errorf("setting stack capture: %w", err)
	}
	p := &Probes{attached: map[libKey][]link.Link{}, multi: features.HaveBPFLinkUprobeMulti() == nil}
	if p.multi {
		spec.Programs[bpf.NcclProgNcclEntry].AttachType = ebpf.AttachTraceUprobeMulti
		spec.Programs[bpf.NcclProgNcclReturn].AttachType = ebpf.AttachTraceUprobeMulti
	}
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading BPF objects: %+v", ve)
		}
		return nil, fmt.Errorf("loading BPF objects (ring buffer of %d bytes): %w", ring, err)
	}
	if err := checkRingSize(p.objs.Events, ring); err != nil {
		p.objs.Close()
		return nil, err
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
	entry, ret, probed, missing := planProbes(lib, specs, hostPath)
	links, err := p.attachSets(ex, entry, ret)
	if err != nil {
		return nil, nil, fmt.Errorf("probing %s: %w", hostPath, err)
	}
	p.attached[key] = links
	return probed, missing, nil
}

// planProbes decides which symbols of a library get which probe: one name
// per address (NCCL's ncclX/pncclX, the driver's _ptsz twins), the wanted
// symbols an older library lacks reported as missing.
func planProbes(lib *LibraryInfo, specs []probeSpec, path string) (entry, ret probeSet, probed, missing []string) {
	seen := map[probeAt]bool{}
	for _, s := range specs {
		sym, ok := resolveSymbol(lib, s.symbol)
		at := probeAt{lib.Symbols[sym], s.ret}
		switch {
		case !ok && !s.ret && !s.optional:
			slog.Debug("symbol not in library, skipped", "symbol", s.symbol, "library", path)
			missing = append(missing, s.symbol)
		case !ok:
		case seen[at]:
			// An alias of a function already probed (cuGraphLaunch_ptsz
			// may be cuGraphLaunch): a second probe would double its events.
			slog.Debug("symbol is an alias, skipped", "symbol", sym, "library", path)
		case s.ret:
			seen[at] = true
			ret.add(lib, sym, s.cookie())
		default:
			seen[at] = true
			entry.add(lib, sym, s.cookie())
			probed = append(probed, sym)
		}
	}
	return entry, ret, probed, missing
}

// probeAt is where a probe goes: one entry and one return probe at most
// per address.
type probeAt struct {
	addr uint64
	ret  bool
}

// probeSet is the symbols of one program, their cookies and their file
// offsets (0: unknown, attached by name).
type probeSet struct {
	symbols []string
	cookies []uint64
	offsets []uint64
}

func (s *probeSet) add(lib *LibraryInfo, sym string, cookie uint64) {
	off, _ := lib.FileOffset(lib.Symbols[sym])
	s.symbols = append(s.symbols, sym)
	s.cookies = append(s.cookies, cookie)
	s.offsets = append(s.offsets, off)
}

// byOffset reports whether every probe's file offset is known: the set is
// then attached by offset, with no symbol lookup in the file.
func (s *probeSet) byOffset() bool { return !slices.Contains(s.offsets, 0) }

func (p *Probes) attachSets(ex *link.Executable, entry, ret probeSet) ([]link.Link, error) {
	var links []link.Link
	for _, set := range []struct {
		probeSet
		prog *ebpf.Program
		ret  bool
	}{{entry, p.objs.NcclEntry, false}, {ret, p.objs.NcclReturn, true}} {
		if len(set.symbols) == 0 {
			continue
		}
		l, err := p.attachSet(ex, set.probeSet, set.prog, set.ret)
		if err != nil {
			closeAll(links)
			return nil, err
		}
		links = append(links, l...)
	}
	return links, nil
}

// attachSet attaches one program to many symbols: one uprobe_multi link
// where the kernel has them (6.6+), else one perf-event uprobe per symbol.
func (p *Probes) attachSet(ex *link.Executable, set probeSet, prog *ebpf.Program, ret bool) ([]link.Link, error) {
	if p.multi {
		opts := &link.UprobeMultiOptions{Cookies: set.cookies}
		symbols := set.symbols
		if set.byOffset() {
			symbols, opts.Addresses = nil, set.offsets
		}
		attach := ex.UprobeMulti
		if ret {
			attach = ex.UretprobeMulti
		}
		l, err := attach(symbols, prog, opts)
		if err != nil {
			return nil, fmt.Errorf("attaching %v: %w", set.symbols, err)
		}
		return []link.Link{l}, nil
	}
	var links []link.Link
	for i, sym := range set.symbols {
		opts := &link.UprobeOptions{Cookie: set.cookies[i], Address: set.offsets[i]}
		attach := ex.Uprobe
		if ret {
			attach = ex.Uretprobe
		}
		l, err := attach(sym, prog, opts)
		if err != nil {
			closeAll(links)
			return nil, fmt.Errorf("attaching %s: %w", sym, err)
		}
		links = append(links, l)
	}
	return links, nil
}

// EventsMap is the ring buffer the probes write to.
func (p *Probes) EventsMap() *ebpf.Map { return p.objs.Events }

// StacksMap holds captured user stacks.
func (p *Probes) StacksMap() *ebpf.Map { return p.objs.Stacks }

// Close detaches every probe and frees the BPF objects.
func (p *Probes) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all []link.Link
	for k, links := range p.attached {
		all = append(all, links...)
		delete(p.attached, k)
	}
	closeAll(all)
	if p.fork != nil {
		p.fork.Close()
	}
	return p.objs.Close()
}

// closeAll detaches links in parallel: each uprobe removal waits for an RCU
// grace period (~100 ms), so closing 20 one by one takes seconds.
func closeAll(links []link.Link) {
	var wg sync.WaitGroup
	for _, l := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Close()
		}()
	}
	wg.Wait()
}
