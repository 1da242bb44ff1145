// Package correlate attributes NVLink bytes sampled by NVML to the NCCL
// collectives recorded by the probes. It reads a trace in one streaming
// pass: clock alignment, a per (process, stream) GPU execution model,
// attribution of each sample interval's bytes, burst detection and an
// online calibration of wire factors. docs/attribution.md explains the model.
package correlate

import (
	"math/bits"

	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/trace"
)

// Protocol is the NCCL protocol a message size most likely uses.
type Protocol uint8

const (
	Simple Protocol = iota
	LL128
	LL
)

func (p Protocol) String() string { return [...]string{"Simple", "LL128", "LL"}[p] }

// Factor is the bytes on the wire per payload byte (docs/nccl-facts.md: LL sends
// data and flags, LL128 one flag word per 120 bytes).
func (p Protocol) Factor() float64 { return [...]float64{1.0, 128.0 / 120.0, 2.0}[p] }

// Size limit of the protocol guess, the prior of the fit. NCCL's real
// choice depends on its tuning tables, so the fit learns the factor per
// op, size class and communicator size from the recording. Measured on
// H200 with NCCL 2.28 (docs/validation.md): 64 KiB and 1 MiB all-reduces
// ran LL, and 2-8 MiB messages ran Simple, not LL128.
const llMaxBytes = 1 << 20

// ProtocolOf is ProtocolFor for NCCL collectives; a custom collective
// (IPC buffers, no NCCL protocol) moves its payload as is: Simple.
func ProtocolOf(k trace.Kind, msgBytes uint64) Protocol {
	if k.IsCustomCollective() {
		return Simple
	}
	return ProtocolFor(msgBytes)
}

// ProtocolFor guesses the protocol of a message of the given buffer size.
func ProtocolFor(msgBytes uint64) Protocol {
	if msgBytes <= llMaxBytes {
		return LL
	}
	return Simple
}

// Wire is what one rank sends and receives for a collective under the ring
// algorithm, before the protocol factor.
type Wire struct {
	Msg    uint64  // the buffer the protocol choice depends on
	Tx, Rx float64 // payload bytes leaving and entering this rank's GPU
}

// RingWire computes a rank's ring-algorithm bytes (docs/nccl-facts.md) for a call of
// the given kind and payload (count x dtype size, exactly as passed).
func RingWire(k trace.Kind, payload uint64, rank, nranks, root int) Wire {
	if nranks < 2 && k != trace.Send && k != trace.Recv {
		return Wire{Msg: payload}
	}
	n := float64(nranks)
	s := float64(payload)
	switch k {
	case trace.AllReduce, trace.CustomAllReduce:
		// Custom all-reduces (vLLM, SGLang) move what a ring does in their
		// two-stage form (a reduce-scatter, then an all-gather) and, on 2
		// ranks, in their one-stage form; one-stage on more ranks moves
		// more, which calibration corrects per size class.
		v := 2 * (n - 1) / n * s
		return Wire{Msg: payload, Tx: v, Rx: v}
	case trace.FlashInferAllReduce, trace.FlashInferAllReduceFusion, trace.DeepEPDispatch, trace.DeepEPCombine,
		trace.PplxDispatch, trace.PplxCombine, trace.NVSHMEMAllReduce, trace.NVSHMEMAllGather, trace.NVSHMEMAlltoAll, trace.NVSHMEMBroadcast:
		return libraryWire(k, payload, rank, nranks, root)
	case trace.SymmMemTwoShotAllReduce:
		// torch symmetric memory, peer to peer: each rank reads its 1/n
		// of the buffer from every peer and reduces it, then the reduced
		// slices are written (in place) or read (out of place) across.
		v := 2 * (n - 1) / n * s
		return Wire{Msg: payload, Tx: v, Rx: v}
	case trace.SymmMemOneShotAllReduce:
		// Every rank reads the whole buffer of each peer and reduces all of
		// it itself: its peers read its buffer as often.
		v := (n - 1) * s
		return Wire{Msg: payload, Tx: v, Rx: v}
	case trace.SymmMemReduceScatter, trace.SymmMemAllGather:
		// payload is per rank, as NCCL's (reduce_scatter_out's output,
		// multimem_all_gather_out's input): each rank reads its slice
		// from, or has it read by, every peer.
		v := (n - 1) * s
		return Wire{Msg: payload * uint64(nranks), Tx: v, Rx: v}
	case trace.AllGather, trace.ReduceScatter, trace.AlltoAll:
		// payload is per rank (sendcount, recvcount, per-peer count): the
		// full buffer is n times that and (n-1)/n of it crosses the link.
		v := (n - 1) * s
		return Wire{Msg: payload * uint64(nranks), Tx: v, Rx: v}
	case trace.Broadcast, trace.Bcast:
		return chainWire(payload, rank, nranks, root, false)
	case trace.Reduce:
		return chainWire(payload, rank, nranks, root, true)
	case trace.Gather:
		if rank == root {
			return Wire{Msg: payload * uint64(nranks), Rx: (n - 1) * s}
		}
		return Wire{Msg: payload * uint64(nranks), Tx: s}
	case trace.Scatter:
		if rank == root {
			return Wire{Msg: payload * uint64(nranks), Tx: (n - 1) * s}
		}
		return Wire{Msg: payload * uint64(nranks), Rx: s}
	case trace.Send, trace.Recv:
		if rank >= 0 && root == rank {
			// To or from itself: a local copy, nothing crosses a link.
			return Wire{Msg: payload}
		}
		if k == trace.Send {
			return Wire{Msg: payload, Tx: s}
		}
		return Wire{Msg: payload, Rx: s}
	}
	return Wire{Msg: payload}
}

// chainWire is a broadcast or reduce along NCCL's ring, a chain from the
// root: for a broadcast every rank but the root receives the buffer and
// every rank but the last forwards it; a reduce runs the chain backwards
// into the root. With the rank unknown, each rank gets the average.
func chainWire(payload uint64, rank, nranks, root int, reverse bool) Wire {
	s := float64(payload)
	if rank < 0 || root < 0 || root >= nranks {
		v := float64(nranks-1) / float64(nranks) * s
		return Wire{Msg: payload, Tx: v, Rx: v}
	}
	pos := (rank - root + nranks) % nranks // 0 the root, nranks-1 the chain's end
	w := Wire{Msg: payload}
	if pos != 0 {
		w.Rx = s
	}
	if pos != nranks-1 {
		w.Tx = s
	}
	if reverse {
		// Data flows from the chain's end to the root.
		w.Tx, w.Rx = w.Rx, w.Tx
	}
	return w
}

// SizeClass is the power-of-two bucket of a message: class c holds sizes
// in (2^(c-1), 2^c]. Calibration keeps one factor per (op, class).
func SizeClass(msg uint64) int {
	if msg <= 1 {
		return 0
	}
	return bits.Len64(msg - 1)
}

// SizeBucket names a class by its upper bound: "32KiB", "4MiB".
func SizeBucket(msg uint64) string { return FormatBytes(uint64(1) << SizeClass(msg)) }

// FormatBytes writes a size in one word: 512B, 32KiB, 1.5GiB
// (internal/units.Short, the one byte formatter).
func FormatBytes(b uint64) string { return units.Short(b) }
