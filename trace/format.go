// Package trace is the recording folder: the contract between recording and
// analysis. The format is documented in docs/trace-format.md.
package trace

import "errors"

// FileName is the trace inside a recording folder.
const FileName = "trace.lpt"

// Format version. Readers reject other major versions; a newer minor only
// adds record types, which older readers skip.
const (
	VersionMajor = 1
	VersionMinor = 2 // 1.1: Stall records; 1.2: path kinds 30-43 (non-NCCL collectives), communicator unique ids, merged traces (hosts), NIC and NICSamples records
)

var magic = [8]byte{'L', 'P', 'T', 'R', 'A', 'C', 'E', 0}

const (
	headerSize      = 16      // magic, major u16, minor u16, reserved u32
	frameHeaderSize = 8       // payload length u32, type u16, reserved u16
	frameTrailer    = 4       // CRC-32C of type, reserved and payload
	maxPayload      = 8 << 20 // larger frames are corruption, not data
)

// RecordType says what a frame holds.
type RecordType uint16

const (
	RecStart       RecordType = 1  // JSON Start: once, first
	RecProcess     RecordType = 2  // JSON Process
	RecLibrary     RecordType = 3  // JSON Library: a probed library in a process
	RecComm        RecordType = 4  // JSON Comm: a communicator learned from init
	RecEvents      RecordType = 5  // binary: n x EventSize bytes of struct lp_event
	RecLost        RecordType = 6  // JSON Lost: cumulative lost-event count
	RecClock       RecordType = 7  // JSON Clock: a monotonic/wall clock pair
	RecGPU         RecordType = 8  // JSON GPU: identity and topology
	RecSamples     RecordType = 9  // binary: n x SampleSize bytes of Sample
	RecLinkSamples RecordType = 10 // binary: per-link samples (sampler --per-link)
	RecStack       RecordType = 11 // JSON Stack: user stack addresses by id
	RecMappings    RecordType = 12 // JSON Mappings: a process's executable mappings
	RecNote        RecordType = 13 // JSON Note: a warning or fact worth keeping
	RecStop        RecordType = 14 // JSON Stop: once, last (absent after a crash)
	RecGPUSamples  RecordType = 15 // JSON GPMSample: GPM NVLink metrics
	RecStall       RecordType = 16 // JSON Stall: a collective that stopped making progress (1.1)
	RecNIC         RecordType = 17 // JSON NIC: a sampled network device (1.2)
	RecNICSamples  RecordType = 18 // binary: n x NICSampleSize bytes of NICSample (1.2)
)

// Errors readers return; wrapped with the file and offset.
var (
	ErrNotTrace   = errors.New("not a linkprof trace")
	ErrVersion    = errors.New("unsupported trace format version")
	ErrCorrupt    = errors.New("corrupt trace")
	ErrTruncated  = errors.New("trace ends mid-record")
	ErrNoTrace    = errors.New("no trace in folder")
	ErrFolderUsed = errors.New("output folder is not empty")
)
