package physim

import (
	"math/rand/v2"

	"github.com/linkprof/linkprof/trace"
)

// protocol is NCCL's wire protocol as this simulator picks it.
type protocol int

const (
	protoLL protocol = iota
	protoLL128
	protoSimple
)

var protoNames = [...]string{"LL", "LL128", "Simple"}

func (p protocol) String() string { return protoNames[p] }

// Protocols is the simulator's secret protocol table for one seed. NCCL
// tunes its choice per machine; drawing thresholds and factors per seed
// keeps any fixed table in the model from matching by construction.
type Protocols struct {
	LLMaxBytes    uint64     // collectives up to this message size run LL
	LL128MaxBytes uint64     // then LL128 up to this, Simple above
	P2PLLMaxBytes uint64     // point-to-point chunks up to this run LL
	Factor        [3]float64 // wire bytes per algorithm byte: LL, LL128, Simple
}

func drawProtocols(rng *rand.Rand) Protocols {
	between := func(lo, hi uint64) uint64 { return lo + rng.Uint64N(hi-lo+1) }
	return Protocols{
		LLMaxBytes:    between(256<<10, 2<<20),
		LL128MaxBytes: between(4<<20, 16<<20),
		P2PLLMaxBytes: between(8<<10, 64<<10),
		Factor: [3]float64{
			2.0 * (0.97 + 0.06*rng.Float64()), // data + flag words
			1.05 + 0.03*rng.Float64(),         // 120 data bytes per 128
			1.0 + 0.01*rng.Float64(),
		},
	}
}

func (p Protocols) collective(msg uint64) protocol {
	switch {
	case msg <= p.LLMaxBytes:
		return protoLL
	case msg <= p.LL128MaxBytes:
		return protoLL128
	}
	return protoSimple
}

func (p Protocols) p2p(chunk uint64) protocol {
	if chunk <= p.P2PLLMaxBytes {
		return protoLL
	}
	return protoSimple
}

// dir is one GPU's bytes for one transfer, each direction.
type dir struct{ tx, rx float64 }

// ringWire is what each rank of n sends and receives over NVLink for one
// collective run by the ring algorithm, protocol overhead included. The
// message NCCL sizes its protocol by is the whole buffer.
func (p Protocols) ringWire(k trace.Kind, bytes uint64, root, n int) []dir {
	w := make([]dir, n)
	steps := float64(n - 1)
	var msg uint64
	for r := range w {
		switch k {
		case trace.AllReduce:
			// reduce-scatter then all-gather, n-1 chunk steps each
			msg = bytes
			w[r] = dir{2 * steps * float64(bytes) / float64(n), 2 * steps * float64(bytes) / float64(n)}
		case trace.AllGather, trace.ReduceScatter:
			// bytes is one rank's share; each rank forwards n-1 shares
			msg = bytes * uint64(n)
			w[r] = dir{steps * float64(bytes), steps * float64(bytes)}
		case trace.Broadcast, trace.Bcast:
			// a chain from the root: the last rank sends nothing, the
			// root receives nothing
			msg = bytes
			pos := (r - root + n) % n
			if pos < n-1 {
				w[r].tx = float64(bytes)
			}
			if pos > 0 {
				w[r].rx = float64(bytes)
			}
		}
	}
	f := p.Factor[p.collective(msg)]
	for r := range w {
		w[r].tx *= f
		w[r].rx *= f
	}
	return w
}

// p2pWire is what each rank sends and receives when rank r sends
// bytes[r][q] to rank q (all-to-all in either form). A rank's chunk to
// itself is a local copy: it never crosses NVLink.
func (p Protocols) p2pWire(bytes [][]uint64) []dir {
	w := make([]dir, len(bytes))
	for r, row := range bytes {
		for q, b := range row {
			if q == r || b == 0 {
				continue
			}
			v := float64(b) * p.Factor[p.p2p(b)]
			w[r].tx += v
			w[q].rx += v
		}
	}
	return w
}
