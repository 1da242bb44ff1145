package nvlink

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// rawRead is one aggregate call as NVML answered it, before unwrapping: what
// a per-process reader sends its parent (wire.go), and what the in-process
// schedules decode on the spot. Both paths decode with gpuState.decode.
type rawRead struct {
	before, after int64 // monotonic ns around the call
	wallUs        int64 // NVML's timestamp
	ret           nvml.Return
	vals          [4]uint64 // raw readings, by Sample slot
	bits          [4]uint   // width of each reading
}

// readRaw reads fields (Sample slots slots) of dev in one call: two fields
// cost NVML the same as one. ret is the call's result, or the first failed
// field's. buf is reused.
func readRaw(dev nvml.Device, fields []uint32, slots []int, buf []nvml.FieldValue, clock Clock, lock locker) rawRead {
	for i, id := range fields {
		buf[i] = nvml.FieldValue{FieldId: id, ScopeId: scopeAllLinks}
	}
	lock.Lock()
	r := rawRead{before: clock.MonoNs()}
	r.ret = dev.GetFieldValues(buf)
	r.after = clock.MonoNs()
	lock.Unlock()
	if r.ret != nvml.SUCCESS {
		return r
	}
	for i := range buf {
		v, b, ok := fieldValue(&buf[i])
		if !ok {
			r.ret = nvml.Return(buf[i].NvmlReturn)
			if r.ret == nvml.SUCCESS { // a value type a counter cannot have
				r.ret = nvml.ERROR_UNKNOWN
			}
			return r
		}
		r.vals[slots[i]], r.bits[slots[i]] = v, b
	}
	r.wallUs = buf[0].Timestamp
	return r
}

// readAggregate reads all of a GPU's counters in one call and decodes them.
func (s *Sampler) readAggregate(g *gpuState, lock locker) (trace.Sample, nvml.Return) {
	r := readRaw(g.dev, g.fields, g.slots, g.buf, s.clock, lock)
	return g.decode(r), r.ret
}

// decode turns a raw read into the trace's sample: a failed call or field
// gives a gap, never zeros; counters are unwrapped so they never go back.
// Only the goroutine that owns the GPU's aggregate reads may call it.
func (g *gpuState) decode(r rawRead) trace.Sample {
	g.reads.Add(1)
	smp := trace.Sample{GPU: uint32(g.info.Index), MonoBeforeNs: r.before, MonoAfterNs: r.after}
	if r.ret != nvml.SUCCESS {
		return smp
	}
	smp.WallUs = r.wallUs
	maxDelta := plausibleKiB(g.info.PeakLinkBps, g.lastOK, r.after)
	out := [4]*uint64{&smp.DataTxKiB, &smp.DataRxKiB, &smp.RawTxKiB, &smp.RawRxKiB}
	for _, slot := range g.slots {
		v, wrapped := g.ctr[slot].update(r.vals[slot], r.bits[slot], maxDelta)
		*out[slot] = v
		if wrapped {
			smp.Flags |= trace.SampleWrapped
		}
	}
	smp.Flags |= trace.SampleOK
	g.lastOK = r.after
	g.good.Add(1)
	return smp
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
