package profiler

import (
	"os/exec"
	"slices"
	"testing"
)

// A child the fork tracepoint made a target that exited before the
// recorder looked is removed from the probes' maps, not left there: a
// recorder left running (--watch) would otherwise fill them with dead
// pids, and record whatever process later reuses one.
func TestFollowNewTargetsDropsExitedChildren(t *testing.T) {
	requirePrivileges(t)
	p, err := LoadProbes(ProbeOptions{RingBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	dead := uint32(child.Process.Pid)
	if err := p.AddTarget(dead, true); err != nil { // as the fork tracepoint does
		t.Fatal(err)
	}
	r := &recorder{probes: p, targets: map[uint32]bool{}, rescan: make(chan uint32, 1)}
	r.followNewTargets()
	if slices.Contains(p.Targets(), dead) {
		t.Errorf("exited pid %d still a target after followNewTargets", dead)
	}
}
