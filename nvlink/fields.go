package nvlink

import (
	"encoding/binary"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// scopeAllLinks asks NVML for the sum over a GPU's links.
const scopeAllLinks = 0xFFFFFFFF

// counterFields are the aggregate counters of a Sample, in its order.
var counterFields = []struct {
	id   uint32
	name string
}{
	{nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, "data_tx"},
	{nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, "data_rx"},
	{nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_TX, "raw_tx"},
	{nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_RX, "raw_rx"},
}

// fieldValue decodes a FieldValue's union by its type. ok is false when
// NVML reported an error for this field, or a type a counter cannot have.
func fieldValue(v *nvml.FieldValue) (val uint64, bits uint, ok bool) {
	if nvml.Return(v.NvmlReturn) != nvml.SUCCESS {
		return 0, 0, false
	}
	le := binary.LittleEndian
	switch nvml.ValueType(v.ValueType) {
	case nvml.VALUE_TYPE_UNSIGNED_LONG_LONG, nvml.VALUE_TYPE_SIGNED_LONG_LONG, nvml.VALUE_TYPE_UNSIGNED_LONG:
		return le.Uint64(v.Value[:]), 64, true
	case nvml.VALUE_TYPE_UNSIGNED_INT, nvml.VALUE_TYPE_SIGNED_INT:
		return uint64(le.Uint32(v.Value[:])), 32, true
	case nvml.VALUE_TYPE_UNSIGNED_SHORT:
		return uint64(le.Uint16(v.Value[:])), 16, true
	}
	return 0, 0, false
}

// counter turns NVML's raw cumulative counter into one that never goes
// back: after a wrap the stored value keeps counting, so analysis takes
// plain differences. A drop larger than the link could have moved is a
// reset (driver reload, counters cleared), counted from zero.
type counter struct {
	seen bool
	raw  uint64 // last raw reading
	ext  uint64 // the monotone value written to the trace
}

// update takes a new raw reading of a bits-wide counter. maxDelta bounds
// a plausible increase (0: unknown, any wrap is plausible).
func (c *counter) update(raw uint64, bits uint, maxDelta uint64) (value uint64, wrapped bool) {
	if !c.seen {
		c.seen, c.raw, c.ext = true, raw, raw
		return raw, false
	}
	if raw >= c.raw {
		c.ext += raw - c.raw
	} else {
		wrapped = true
		d := raw - c.raw
		if bits < 64 {
			d &= 1<<bits - 1
		}
		if maxDelta != 0 && d > maxDelta {
			d = raw // reset: the counter restarted from zero
		}
		c.ext += d
	}
	c.raw = raw
	return c.ext, wrapped
}
