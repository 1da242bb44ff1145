package trace

import "encoding/binary"

// EventSize is the size of one event record: struct lp_event in bpf/event.h.
const EventSize = 104

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
	le := binary.LittleEndian
	_ = b[EventSize-1]
	return Event{
		TsNs:       le.Uint64(b[0:]),
		Pid:        le.Uint32(b[8:]),
		Tid:        le.Uint32(b[12:]),
		Kind:       Kind(le.Uint16(b[16:])),
		Flags:      le.Uint16(b[18:]),
		StackID:    int32(le.Uint32(b[20:])),
		Count:      le.Uint64(b[24:]),
		Comm:       le.Uint64(b[32:]),
		Stream:     le.Uint64(b[40:]),
		SendBuff:   le.Uint64(b[48:]),
		RecvBuff:   le.Uint64(b[56:]),
		Aux:        le.Uint64(b[64:]),
		DataType:   DataType(le.Uint32(b[72:])),
		RedOp:      RedOp(le.Uint32(b[76:])),
		Peer:       int32(le.Uint32(b[80:])),
		GroupDepth: int32(le.Uint32(b[84:])),
		Rank:       int32(le.Uint32(b[88:])),
		NRanks:     int32(le.Uint32(b[92:])),
		Ret:        int32(le.Uint32(b[96:])),
	}
}

// AppendEvent encodes e in the layout of struct lp_event.
func AppendEvent(b []byte, e Event) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, e.TsNs)
	b = le.AppendUint32(b, e.Pid)
	b = le.AppendUint32(b, e.Tid)
	b = le.AppendUint16(b, uint16(e.Kind))
	b = le.AppendUint16(b, e.Flags)
	b = le.AppendUint32(b, uint32(e.StackID))
	for _, v := range []uint64{e.Count, e.Comm, e.Stream, e.SendBuff, e.RecvBuff, e.Aux} {
		b = le.AppendUint64(b, v)
	}
	for _, v := range []int32{int32(e.DataType), int32(e.RedOp), e.Peer, e.GroupDepth, e.Rank, e.NRanks, e.Ret, 0} {
		b = le.AppendUint32(b, uint32(v))
	}
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
