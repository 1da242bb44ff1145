package sim

import (
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// Addresses of the fake binary and NCCL copy every simulated rank maps.
const (
	appBase  = 0x400000
	ncclBase = 0x7f1000000000
)

// writeStacks gives each op kind one captured stack: a frame inside NCCL
// (the probed entry), three frames of the application, then an address
// outside every mapping, where frame-pointer unwinding went astray.
func (g *gen) writeStacks() error {
	for r := 0; r < g.cfg.Ranks; r++ {
		m := trace.Mappings{Pid: Pid(r), MonoNs: g.cfg.StartMonoNs, Mappings: []trace.Mapping{
			{Start: appBase, End: appBase + 0x100000, Offset: 0, Path: "/opt/app/server"},
			{Start: ncclBase, End: ncclBase + 0x200000, Offset: 0x1000, Path: "/opt/nccl/libnccl.so.2"},
		}}
		if err := g.w.WriteJSON(trace.RecMappings, m); err != nil {
			return err
		}
	}
	seen := map[trace.Kind]bool{}
	for _, op := range g.allOps() {
		if seen[op.Kind] {
			continue
		}
		seen[op.Kind] = true
		k := uint64(op.Kind)
		st := trace.Stack{ID: int32(op.Kind), Pid: Pid(0), Addrs: []uint64{
			ncclBase + 0x100*k, appBase + 0x1000 + 0x10*k, appBase + 0x2000, appBase + 0x3000, 0xdeadbeef, appBase + 0x4000,
		}}
		if err := g.w.WriteJSON(trace.RecStack, st); err != nil {
			return err
		}
	}
	return nil
}

// allOps is every op the workload issues, eager or captured.
func (g *gen) allOps() []Op {
	ops := slices.Concat(append([][]Op{g.cfg.Ops}, g.cfg.Cycle...)...)
	if gc := g.cfg.Graph; gc != nil {
		ops = append(append(append([]Op{}, ops...), gc.Ops...), gc.Ops2...)
	}
	return ops
}
