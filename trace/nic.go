package trace

import (
	"encoding/binary"
	"fmt"
)

// NIC is one sampled network device (RecNIC, format 1.2): an InfiniBand or
// RoCE port, or a netdev (NCCL's socket transport). Its samples' NIC field
// is Index. docs/trace-format.md describes the fields.
type NIC struct {
	Index int    `json:"index"`
	Name  string `json:"name"` // netdev name, or IB device and port: "mlx5_0:1"
	Kind  string `json:"kind"` // NICKindIB or NICKindNetdev
	// Netdev is an IB port's network device (RoCE, IPoIB), when it has one.
	Netdev    string `json:"netdev,omitempty"`
	LinkLayer string `json:"link_layer,omitempty"` // IB ports: InfiniBand or Ethernet
	Virtual   bool   `json:"virtual,omitempty"`    // a netdev with no device under it (lo, bridges, veth)
	// SpeedBps is the link's rate per direction in bytes/s, 0 unknown.
	SpeedBps float64 `json:"speed_bytes_per_s,omitempty"`
	// TxCounter and RxCounter are the files read, relative to the sysfs
	// root; UnitBytes is the bytes per counter unit (4 for IB port data
	// counters), CounterBits 64 (sysfs does not say whether an IB port's
	// data counters are 32-bit, as on HCAs without extended counters,
	// where they stop at 2^32-1: the sampler flags a read at that value
	// wrapped).
	TxCounter   string `json:"tx_counter"`
	RxCounter   string `json:"rx_counter"`
	UnitBytes   int    `json:"unit_bytes"`
	CounterBits int    `json:"counter_bits"`
	// SelectedBy says why it was sampled: "--nics", or the auto rule.
	SelectedBy string `json:"selected_by"`
	// Host names the recording it came from in a merged trace (Index is
	// then MergedNIC's); empty otherwise.
	Host string `json:"host,omitempty"`
}

// hostNICShift puts a host's index above its NIC indexes in a merged
// trace.
const hostNICShift = 16

// MergedNIC is a host's NIC index in a merged trace (host 0 keeps its
// indexes), as MergedPid is for pids.
func MergedNIC(host, nic int) int { return host<<hostNICShift | nic }

// SplitNIC is MergedNIC's inverse: the host's index and its own NIC index.
func SplitNIC(nic uint32) (host int, local int) {
	return int(nic >> hostNICShift), int(nic & (1<<hostNICShift - 1))
}

// NIC kinds.
const (
	NICKindIB     = "ib"     // /sys/class/infiniband/DEV/ports/N
	NICKindNetdev = "netdev" // /sys/class/net/DEV/statistics
)

// NICSampleSize is the encoded size of a NICSample.
const NICSampleSize = 48

// NICSample is one read of a NIC's cumulative byte counters, in bytes (the
// counter times its unit). Flags as in Sample: without SampleOK the read
// failed (a gap, never zeros); SampleWrapped: a counter went backwards (or a
// 32-bit counter stopped at its maximum) since the NIC's previous sample.
// The sampler reads its NICs in rounds, back to back: the samples of one
// round share Round and lie together in the file. RecNICSamples frames hold
// n x NICSampleSize bytes.
type NICSample struct {
	NIC          uint32
	Flags        uint32
	Round        uint64
	MonoBeforeNs int64 // CLOCK_MONOTONIC just before the reads
	MonoAfterNs  int64 // and just after
	TxBytes      uint64
	RxBytes      uint64
}

// OK reports whether the read succeeded.
func (s *NICSample) OK() bool { return s.Flags&SampleOK != 0 }

// AppendNICSample encodes s.
func AppendNICSample(b []byte, s NICSample) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, s.NIC)
	b = le.AppendUint32(b, s.Flags)
	b = le.AppendUint64(b, s.Round)
	b = le.AppendUint64(b, uint64(s.MonoBeforeNs))
	b = le.AppendUint64(b, uint64(s.MonoAfterNs))
	b = le.AppendUint64(b, s.TxBytes)
	return le.AppendUint64(b, s.RxBytes)
}

// DecodeNICSample reads one NICSample from b (at least NICSampleSize bytes).
func DecodeNICSample(b []byte) NICSample {
	le := binary.LittleEndian
	_ = b[NICSampleSize-1]
	return NICSample{
		NIC:          le.Uint32(b[0:]),
		Flags:        le.Uint32(b[4:]),
		Round:        le.Uint64(b[8:]),
		MonoBeforeNs: int64(le.Uint64(b[16:])),
		MonoAfterNs:  int64(le.Uint64(b[24:])),
		TxBytes:      le.Uint64(b[32:]),
		RxBytes:      le.Uint64(b[40:]),
	}
}

// NICSamples calls fn for each sample of a RecNICSamples record.
func (rec Record) NICSamples(fn func(NICSample)) error {
	if len(rec.Payload)%NICSampleSize != 0 {
		return fmt.Errorf("%w: NIC samples record at offset %d has %d bytes", ErrCorrupt, rec.Offset, len(rec.Payload))
	}
	for b := rec.Payload; len(b) > 0; b = b[NICSampleSize:] {
		fn(DecodeNICSample(b))
	}
	return nil
}
