package trace

import (
	"slices"
	"unsafe"

	"github.com/linkprof/linkprof/bpf"
)

// rawEvent is struct lp_event (bpf/event.h) as bpf2go generates it: the one
// layout of an event, written by the probes and stored in the trace as is.
// bpf2go builds it for little-endian targets only (bpfel), so its in-memory
// form is the trace's byte order.
type rawEvent = bpf.NcclLpEvent

// EventSize is the size of one event record.
const EventSize = int(unsafe.Sizeof(rawEvent{}))

// Event is one probe firing, decoded from struct lp_event (bpf/event.h).
type Event struct {
	TsNs       uint64 // CLOCK_MONOTONIC
	Pid        uint32
	Tid        uint32
	Kind       Kind
	Flags      uint16
	StackID    int32 // -1: no stack
	Count      uint64
	Comm       uint64
	Stream     uint64
	SendBuff   uint64
	RecvBuff   uint64
	Aux        uint64
	DataType   DataType
	RedOp      RedOp
	Peer       int32 // root or peer, -1 if none
	GroupDepth int32
	Rank       int32
	NRanks     int32
	Ret        int32
}

// FlagReturn marks events written by a return probe.
const FlagReturn = 1

// DecodeEvent reads one event from b, which holds at least EventSize bytes.
func DecodeEvent(b []byte) Event {
	// rawEvent holds no pointers, so it may be read from any byte address;
	// amd64 and arm64 load unaligned words.
	r := (*rawEvent)(unsafe.Pointer(unsafe.SliceData(b[:EventSize])))
	return Event{TsNs: r.TsNs, Pid: r.Pid, Tid: r.Tid, Kind: Kind(r.Kind), Flags: r.Flags, StackID: r.StackId,
		Count: r.Count, Comm: r.Comm, Stream: r.Stream, SendBuff: r.Sendbuff, RecvBuff: r.Recvbuff, Aux: r.Aux,
		DataType: DataType(r.Dtype), RedOp: RedOp(r.Redop), Peer: r.Peer, GroupDepth: r.GroupDepth,
		Rank: r.Rank, NRanks: r.Nranks, Ret: r.Ret}
}

// AppendEvent encodes e as struct lp_event.
func AppendEvent(b []byte, e Event) []byte {
	n := len(b)
	b = slices.Grow(b, EventSize)[:n+EventSize]
	*(*rawEvent)(unsafe.Pointer(&b[n])) = rawEvent{TsNs: e.TsNs, Pid: e.Pid, Tid: e.Tid, Kind: uint16(e.Kind), Flags: e.Flags, StackId: e.StackID,
		Count: e.Count, Comm: e.Comm, Stream: e.Stream, Sendbuff: e.SendBuff, Recvbuff: e.RecvBuff, Aux: e.Aux,
		Dtype: int32(e.DataType), Redop: int32(e.RedOp), Peer: e.Peer, GroupDepth: e.GroupDepth,
		Rank: e.Rank, Nranks: e.NRanks, Ret: e.Ret}
	return b
}

// PayloadBytes is the call's count argument times its element size, as
// docs/design.md defines payload_bytes (per rank, per peer: exactly as passed).
func (e *Event) PayloadBytes() uint64 { return e.Count * e.DataType.Size() }

// CommDevice is the CUDA device a communicator-creation return event says
// the communicator lives on (Count holds the device plus one; 0 unknown),
// in the creating process's numbering; nil when unknown.
func (e *Event) CommDevice() *int {
	if !e.Kind.IsCommCreate() || e.Flags&FlagReturn == 0 || e.Count == 0 {
		return nil
	}
	d := int(e.Count) - 1
	return &d
}

// CommUniqueID is the FNV-1a 64 hash of the ncclUniqueId a
// communicator-creation return event's communicator was created with
// (ncclCommInitRank, ncclCommInitRankConfig; trace format 1.2), the same
// in every rank of the communicator on every host; 0 when unknown
// (InitAll, Split, a recorder before 1.2).
func (e *Event) CommUniqueID() uint64 {
	if e.Kind != CommInitRank && e.Kind != CommInitRankConfig || e.Flags&FlagReturn == 0 {
		return 0
	}
	return e.SendBuff
}
