package trace

import "encoding/binary"

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
