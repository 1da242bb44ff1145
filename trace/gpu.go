package trace

import (
	"encoding/binary"
	"fmt"
)

// GPU is one sampled GPU's identity and NVLink topology.
type GPU struct {
	Index         int      `json:"index"`
	UUID          string   `json:"uuid"`
	PCIBusID      string   `json:"pci_bus_id"`
	Name          string   `json:"name"`
	Driver        string   `json:"driver"`
	NVMLVersion   string   `json:"nvml_version"`
	Links         []Link   `json:"links"`
	PeakLinkBps   float64  `json:"peak_link_bytes_per_s"` // per direction, all links
	ComputePids   []uint32 `json:"compute_pids,omitempty"`
	Simulated     bool     `json:"simulated,omitempty"`
	SampleFields  []string `json:"sample_fields"` // counters in Sample, in order
	CounterUnitKB bool     `json:"counter_unit_kib"`
	// Host is the host it is in, in a merged trace (format 1.2).
	Host string `json:"host,omitempty"`
}

// Link is one NVLink of a GPU.
type Link struct {
	ID         int     `json:"id"`
	Active     bool    `json:"active"`
	PeerBusID  string  `json:"peer_pci_bus_id,omitempty"`
	PeerGPU    int     `json:"peer_gpu"` // index of the GPU it reaches, -1 if none/unknown
	GbpsPerDir float64 `json:"gbps_per_direction,omitempty"`
}

// SampleSize is the encoded size of a Sample.
const SampleSize = 64

// Sample flags.
const (
	SampleOK      uint32 = 1 << iota // the read succeeded; values are valid
	SampleWrapped                    // a counter wrapped since the previous sample
)

// Sample is one read of a GPU's cumulative aggregate NVLink counters
// (KiB, as NVML reports them). A failed read is a sample without SampleOK:
// a gap, never zeros.
type Sample struct {
	GPU          uint32
	Flags        uint32
	MonoBeforeNs int64 // host CLOCK_MONOTONIC just before the NVML call
	MonoAfterNs  int64 // and just after it returned
	WallUs       int64 // NVML's own timestamp: wall clock, microseconds
	DataTxKiB    uint64
	DataRxKiB    uint64
	RawTxKiB     uint64
	RawRxKiB     uint64
}

// OK reports whether the read succeeded.
func (s *Sample) OK() bool { return s.Flags&SampleOK != 0 }

// AppendSample encodes s.
func AppendSample(b []byte, s Sample) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, s.GPU)
	b = le.AppendUint32(b, s.Flags)
	b = le.AppendUint64(b, uint64(s.MonoBeforeNs))
	b = le.AppendUint64(b, uint64(s.MonoAfterNs))
	b = le.AppendUint64(b, uint64(s.WallUs))
	b = le.AppendUint64(b, s.DataTxKiB)
	b = le.AppendUint64(b, s.DataRxKiB)
	b = le.AppendUint64(b, s.RawTxKiB)
	return le.AppendUint64(b, s.RawRxKiB)
}

// DecodeSample reads one Sample from b (at least SampleSize bytes).
func DecodeSample(b []byte) Sample {
	le := binary.LittleEndian
	_ = b[SampleSize-1]
	return Sample{
		GPU:          le.Uint32(b[0:]),
		Flags:        le.Uint32(b[4:]),
		MonoBeforeNs: int64(le.Uint64(b[8:])),
		MonoAfterNs:  int64(le.Uint64(b[16:])),
		WallUs:       int64(le.Uint64(b[24:])),
		DataTxKiB:    le.Uint64(b[32:]),
		DataRxKiB:    le.Uint64(b[40:]),
		RawTxKiB:     le.Uint64(b[48:]),
		RawRxKiB:     le.Uint64(b[56:]),
	}
}

// LinkSampleSize is the encoded size of a LinkSample.
const LinkSampleSize = 56

// LinkSample is one link's cumulative DATA counters (KiB), read with the
// other links of its GPU in one NVML call (sampler --per-link). Flags as in
// Sample. RecLinkSamples frames hold n x LinkSampleSize bytes.
type LinkSample struct {
	GPU          uint32
	Link         uint32
	Flags        uint32
	MonoBeforeNs int64
	MonoAfterNs  int64
	WallUs       int64
	DataTxKiB    uint64
	DataRxKiB    uint64
}

// OK reports whether the read succeeded.
func (s *LinkSample) OK() bool { return s.Flags&SampleOK != 0 }

// AppendLinkSample encodes s.
func AppendLinkSample(b []byte, s LinkSample) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, s.GPU)
	b = le.AppendUint32(b, s.Link)
	b = le.AppendUint32(b, s.Flags)
	b = le.AppendUint32(b, 0) // reserved, keeps the 8-byte fields aligned
	b = le.AppendUint64(b, uint64(s.MonoBeforeNs))
	b = le.AppendUint64(b, uint64(s.MonoAfterNs))
	b = le.AppendUint64(b, uint64(s.WallUs))
	b = le.AppendUint64(b, s.DataTxKiB)
	return le.AppendUint64(b, s.DataRxKiB)
}

// DecodeLinkSample reads one LinkSample from b (at least LinkSampleSize bytes).
func DecodeLinkSample(b []byte) LinkSample {
	le := binary.LittleEndian
	_ = b[LinkSampleSize-1]
	return LinkSample{
		GPU:          le.Uint32(b[0:]),
		Link:         le.Uint32(b[4:]),
		Flags:        le.Uint32(b[8:]),
		MonoBeforeNs: int64(le.Uint64(b[16:])),
		MonoAfterNs:  int64(le.Uint64(b[24:])),
		WallUs:       int64(le.Uint64(b[32:])),
		DataTxKiB:    le.Uint64(b[40:]),
		DataRxKiB:    le.Uint64(b[48:]),
	}
}

// LinkSamples calls fn for each sample of a RecLinkSamples record.
func (rec Record) LinkSamples(fn func(LinkSample)) error {
	if len(rec.Payload)%LinkSampleSize != 0 {
		return fmt.Errorf("%w: link samples record at offset %d has %d bytes", ErrCorrupt, rec.Offset, len(rec.Payload))
	}
	for b := rec.Payload; len(b) > 0; b = b[LinkSampleSize:] {
		fn(DecodeLinkSample(b))
	}
	return nil
}

// GPMSample is one GPM NVLink reading (RecGPUSamples, JSON): the GPU's mean
// NVLink throughput between two GPM samples IntervalNs apart, ending at MonoNs.
type GPMSample struct {
	GPU        int     `json:"gpu"`
	MonoNs     int64   `json:"mono_ns"`
	IntervalNs int64   `json:"interval_ns"`
	TxMiBps    float64 `json:"tx_mib_per_s"`
	RxMiBps    float64 `json:"rx_mib_per_s"`
	OK         bool    `json:"ok"` // false: the GPM read failed (a gap)
}
