package nvlink

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// readAggregate reads all of a GPU's counters in one call: two fields cost
// NVML the same as one. A failed call or field gives a gap, never zeros;
// ret is the call's result, or the first failed field's.
func (s *Sampler) readAggregate(g *gpuState, lock locker) (trace.Sample, nvml.Return) {
	for i, id := range g.fields {
		g.buf[i] = nvml.FieldValue{FieldId: id, ScopeId: scopeAllLinks}
	}
	lock.Lock()
	before := s.clock.MonoNs()
	ret := g.dev.GetFieldValues(g.buf)
	after := s.clock.MonoNs()
	lock.Unlock()
	g.reads.Add(1)
	smp := trace.Sample{GPU: uint32(g.info.Index), MonoBeforeNs: before, MonoAfterNs: after}
	if ret != nvml.SUCCESS {
		return smp, ret
	}
	var vals [4]uint64
	var bits [4]uint
	for i := range g.buf {
		v, b, ok := fieldValue(&g.buf[i])
		if !ok {
			return smp, nvml.Return(g.buf[i].NvmlReturn)
		}
		vals[g.slots[i]], bits[g.slots[i]] = v, b
	}
	smp.WallUs = g.buf[0].Timestamp
	maxDelta := plausibleKiB(g.info.PeakLinkBps, g.lastOK, after)
	out := [4]*uint64{&smp.DataTxKiB, &smp.DataRxKiB, &smp.RawTxKiB, &smp.RawRxKiB}
	for _, slot := range g.slots {
		v, wrapped := g.ctr[slot].update(vals[slot], bits[slot], maxDelta)
		*out[slot] = v
		if wrapped {
			smp.Flags |= trace.SampleWrapped
		}
	}
	smp.Flags |= trace.SampleOK
	g.lastOK = after
	g.good.Add(1)
	return smp, ret
}

// plausibleKiB bounds the KiB a GPU can move between two reads: twice its
// peak link rate (RAW counts protocol too), plus a second of slack for
// coarse timing. 0 when the peak is unknown.
func plausibleKiB(peakBps float64, prevNs, nowNs int64) uint64 {
	if peakBps <= 0 || prevNs == 0 {
		return 0
	}
	secs := float64(nowNs-prevNs)/1e9 + 1
	return uint64(2 * peakBps * secs / 1024)
}
