package nvlink

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// A per-process reader streams one trace.Sample encoding (SampleSize bytes)
// per read over its stdout, carrying the raw reading rather than the
// decoded one: the parent unwraps with its own counter state, so a
// restarted reader continues the trace's counters instead of starting anew.
// On the wire, Flags hold:
//
//	bit 0        SampleOK: the call and every field succeeded
//	bits 8-15    the width of each slot's reading, 2 bits a slot (0: 64, 1: 32, 2: 16)
//	bits 16-31   the nvml.Return of a failed read
const (
	wireWidthShift = 8
	wireRetShift   = 16
)

var wireWidths = [3]uint{64, 32, 16}

// appendWire encodes r for gpu.
func appendWire(b []byte, gpu int, r rawRead) []byte {
	smp := trace.Sample{GPU: uint32(gpu), MonoBeforeNs: r.before, MonoAfterNs: r.after, WallUs: r.wallUs,
		DataTxKiB: r.vals[0], DataRxKiB: r.vals[1], RawTxKiB: r.vals[2], RawRxKiB: r.vals[3]}
	smp.Flags = uint32(r.ret) << wireRetShift
	if r.ret == nvml.SUCCESS {
		smp.Flags |= trace.SampleOK
	}
	for slot, bits := range r.bits {
		for code, w := range wireWidths {
			if bits == w {
				smp.Flags |= uint32(code) << (wireWidthShift + 2*slot)
			}
		}
	}
	return trace.AppendSample(b, smp)
}

// decodeWire reads one record of gpu's reader.
func decodeWire(b []byte, gpu int) (rawRead, error) {
	smp := trace.DecodeSample(b)
	if smp.GPU != uint32(gpu) {
		return rawRead{}, fmt.Errorf("reader of GPU %d sent a sample of GPU %d", gpu, smp.GPU)
	}
	r := rawRead{before: smp.MonoBeforeNs, after: smp.MonoAfterNs, wallUs: smp.WallUs,
		ret:  nvml.Return(smp.Flags >> wireRetShift),
		vals: [4]uint64{smp.DataTxKiB, smp.DataRxKiB, smp.RawTxKiB, smp.RawRxKiB}}
	if smp.OK() != (r.ret == nvml.SUCCESS) {
		return rawRead{}, fmt.Errorf("reader of GPU %d sent flags %#x: OK and result %d disagree", gpu, smp.Flags, r.ret)
	}
	for slot := range r.bits {
		code := smp.Flags >> (wireWidthShift + 2*slot) & 3
		if int(code) >= len(wireWidths) {
			return rawRead{}, fmt.Errorf("reader of GPU %d sent flags %#x: no such counter width", gpu, smp.Flags)
		}
		r.bits[slot] = wireWidths[code]
	}
	return r, nil
}
