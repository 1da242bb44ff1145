package correlate

import "testing"

// Which communicators cross the network, and how many of their ranks
// share the host's NICs.
func TestSpansHosts(t *testing.T) {
	for _, c := range []struct {
		name             string
		p                procNet
		ranksSeen        int // processes recorded with the job's world size
		hostGPUs         int
		nranks, recorded int
		wantLocal        int
		wantOK           bool
	}{
		{"one host, world = local", procNet{world: 8, localWorld: 8}, 8, 8, 8, 8, 0, false},
		{"world comm on 2 hosts, all local ranks recorded", procNet{world: 16, localWorld: 8}, 8, 8, 16, 8, 8, true},
		{"data-parallel pair across hosts", procNet{world: 16, localWorld: 8}, 8, 8, 2, 1, 1, true},
		{"tensor-parallel group inside the host", procNet{world: 16, localWorld: 8}, 8, 8, 8, 8, 0, false},
		// One local rank recorded: only a size past the host's ranks says it spans.
		{"partial recording, small comm", procNet{world: 16, localWorld: 8}, 1, 8, 2, 1, 0, false},
		{"partial recording, world comm", procNet{world: 16, localWorld: 8}, 1, 8, 16, 1, 8, true},
		{"no LOCAL_WORLD_SIZE: more ranks than GPUs", procNet{world: 16}, 0, 8, 16, 0, 8, true},
		{"no environment, fits the GPUs", procNet{}, 0, 8, 4, 0, 0, false},
		{"a rank alone", procNet{world: 16, localWorld: 8}, 8, 8, 1, 1, 0, false},
	} {
		n := newNetRoute()
		n.hostGPUs = c.hostGPUs
		n.ranks[[2]int{0, c.p.world}] = c.ranksSeen
		local, ok := n.spansHosts(c.p, 0, c.nranks, c.recorded, c.recorded)
		if ok != c.wantOK || ok && local != c.wantLocal {
			t.Errorf("%s: spans %v with %d local ranks, want %v with %d", c.name, ok, local, c.wantOK, c.wantLocal)
		}
	}
	// A merged trace sees the other hosts' ranks: 8 ranks recorded, 2 here.
	n := newNetRoute()
	n.merged = true
	if local, ok := n.spansHosts(procNet{}, 1, 8, 8, 2); !ok || local != 2 {
		t.Errorf("merged, 2 of 8 ranks here: spans %v with %d", ok, local)
	}
	if _, ok := n.spansHosts(procNet{}, 1, 2, 2, 2); ok {
		t.Errorf("merged, both ranks here: spans")
	}
}
