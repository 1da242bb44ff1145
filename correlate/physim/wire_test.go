package physim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

func TestRingWire(t *testing.T) {
	p := Protocols{LLMaxBytes: 1 << 20, LL128MaxBytes: 8 << 20, P2PLLMaxBytes: 32 << 10, Factor: [3]float64{2, 1.06, 1}}
	const n, mib = 4, 1 << 20
	cases := []struct {
		k        trace.Kind
		bytes    uint64
		perRank  float64 // TX of every rank that sends
		protocol float64
	}{
		{trace.AllReduce, 64 * mib, 2 * 3 * 16 * mib, 1},
		{trace.AllReduce, 16 << 10, 2 * 3 * 4 << 10, 2},
		{trace.AllGather, 1 * mib, 3 * mib, 1.06}, // 4 MiB gathered: LL128
		{trace.ReduceScatter, 4 * mib, 12 * mib, 1},
	}
	for _, c := range cases {
		for r, d := range p.ringWire(c.k, c.bytes, -1, n) {
			if want := c.perRank * c.protocol; math.Abs(d.tx-want) > 1e-6 || d.rx != d.tx {
				t.Errorf("%v %d B rank %d: %+v, want %v", c.k, c.bytes, r, d, want)
			}
		}
	}
	// a broadcast is a chain from the root: (n-1) x S over all ranks
	var tx, rx float64
	for _, d := range p.ringWire(trace.Bcast, 32*mib, 2, n) {
		tx, rx = tx+d.tx, rx+d.rx
	}
	if tx != 3*32*mib || rx != tx {
		t.Errorf("broadcast moved %v %v", tx, rx)
	}
}

func TestP2PWireSelfMovesNothing(t *testing.T) {
	p := Protocols{P2PLLMaxBytes: 1 << 10, Factor: [3]float64{2, 1.06, 1}}
	w := p.p2pWire([][]uint64{{1 << 30, 100 << 10, 200 << 10}, {5, 1 << 30, 0}, {300 << 10, 0, 1 << 30}})
	want := []dir{{300 << 10, 300<<10 + 10}, {10, 100 << 10}, {300 << 10, 200 << 10}}
	for r := range want {
		if w[r] != want[r] {
			t.Errorf("rank %d: %+v, want %+v", r, w[r], want[r])
		}
	}
}

// TestLinkShared checks that two transfers on two lanes at once take
// longer than either alone, and still deliver every byte.
func TestLinkShared(t *testing.T) {
	run := func(lanes int) (end int64, tx float64) {
		e := &engine{capBps: 400e9, links: []*link{{}, {}}}
		for l := range lanes {
			e.push(l, &item{wire: []dir{{1e9, 1e9}, {1e9, 1e9}}, solo: 300e9, tag: &tag{}})
		}
		end = e.drain()
		for _, s := range e.links[0].segs {
			tx += s.tx
		}
		return end, tx
	}
	alone, _ := run(1)
	shared, tx := run(2)
	if want := int64(2e9 / 400e9 * 1e9); math.Abs(float64(shared-want)) > 1000 || alone >= shared || tx != 2e9 {
		t.Errorf("alone %d ns, shared %d ns (want %d), %v bytes", alone, shared, want, tx)
	}
}

func TestProtocolsDrawn(t *testing.T) {
	a, b := drawProtocols(rand.New(rand.NewPCG(1, 2))), drawProtocols(rand.New(rand.NewPCG(2, 2)))
	if a == b || a.LLMaxBytes < 256<<10 || a.LLMaxBytes > 2<<20 || a.Factor[0] < 1.94 || a.Factor[0] > 2.06 {
		t.Errorf("%+v %+v", a, b)
	}
}
