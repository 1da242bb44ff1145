package profiler

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// soakCycles is how many times the soak attaches and detaches
// (`record -p PID -d 200ms`, issue 6).
const (
	soakCycles   = 100
	soakDuration = 200 * time.Millisecond
)

// Two spin targets call at full rate while one recording runs from their
// first call to their last and 100 short recordings attach and detach.
// Neither target crashes or changes a result (its checksum), every short
// trace is complete and exact, and the full-length recording holds exactly
// the calls each target counted itself.
func TestSoakAttachDetach(t *testing.T) {
	requirePrivileges(t)
	targets := []*target{startTarget(t, "spin"), startTarget(t, "spin")}
	full := soakFull(t, targets)
	soakShort(t, pidsOf(targets), false)
	reps := make([]spinReport, len(targets))
	for i, tg := range targets {
		reps[i] = tg.stop(t)
	}
	res := <-full
	if res.err != nil {
		t.Fatalf("full-length recording: %v", res.err)
	}
	st := readSpinTrace(t, res.dir, 0, false)
	checkComplete(t, st, res.sum, "targets-exited")
	var total float64
	for i, tg := range targets {
		if got := st.perPid[tg.pid]; got != reps[i].calls {
			t.Errorf("pid %d: full-length recording has %d calls, the target counted %d", tg.pid, got, reps[i].calls)
		}
		total += reps[i].rate()
		t.Logf("target %d: %d calls in %.1f s, %.0f calls/s, checksum ok", tg.pid, reps[i].calls, float64(reps[i].ns)/1e9, reps[i].rate())
	}
	t.Logf("soak: %d targets, %.0f calls/s together while recorded", len(targets), total)
}

// A target that forks and reaps a child every 1000 calls throughout (the
// numbering runs on across parent and children): the full-length recording
// (following children) holds every call exactly once, and every short
// recording is exact for each process it saw.
func TestSoakAttachDetachWithChildren(t *testing.T) {
	requirePrivileges(t)
	tg := startTarget(t, "forkspin", "1000")
	full := soakFull(t, []*target{tg})
	soakShort(t, []uint32{tg.pid}, true)
	rep := tg.stop(t)
	res := <-full
	if res.err != nil {
		t.Fatalf("full-length recording: %v", res.err)
	}
	if rep.failed != 0 || rep.children == 0 {
		t.Fatalf("target reaped %d children, %d failed", rep.children, rep.failed)
	}
	st := readSpinTrace(t, res.dir, rep.calls, true)
	checkComplete(t, st, res.sum, "targets-exited")
	if st.events != rep.calls {
		t.Errorf("full-length recording has %d calls, the target counted %d", st.events, rep.calls)
	}
	for n, seen := range st.counts {
		if !seen {
			t.Fatalf("call %d of %d missing", n, rep.calls)
		}
	}
	// Fewer pids than processes only where the kernel reused a child's pid.
	if procs := uint64(len(st.perPid)); procs < 2 || procs > rep.children+1 {
		t.Errorf("calls came from %d pids, want the parent and up to %d children", procs, rep.children)
	}
	t.Logf("target with children: %d calls from %d processes, %.0f calls/s, %d forks", rep.calls, len(st.perPid), rep.rate(), rep.children)
}

// fullResult is a finished full-length recording.
type fullResult struct {
	dir string
	sum *Summary
	err error
}

// soakFull records the targets from their first call until they exit, and
// returns once it is attached.
func soakFull(t *testing.T, targets []*target) <-chan fullResult {
	cfg := testConfig(t)
	cfg.Probe.RingBytes = DefaultRingBytes
	cfg.Pids = pidsOf(targets)
	ready := make(chan struct{})
	cfg.Ready = func() {
		for _, tg := range targets {
			tg.release()
		}
		close(ready)
	}
	done := make(chan fullResult, 1)
	go func() {
		sum, err := recordFor(cfg, 10*time.Minute)
		done <- fullResult{cfg.Dir, sum, err}
	}()
	select {
	case <-ready:
	case res := <-done:
		t.Fatalf("full-length recording ended before it attached: %v", res.err)
	}
	return done
}

// soakShort attaches and detaches soakCycles times, checking each trace;
// forking targets (forkspin) are recorded with their children.
func soakShort(t *testing.T, pids []uint32, forking bool) {
	t.Helper()
	began := time.Now()
	var events uint64
	for i := 0; i < soakCycles; i++ {
		cfg := Config{Dir: filepath.Join(t.TempDir(), fmt.Sprintf("short-%d", i)), Pids: pids, Children: forking,
			Duration: soakDuration, Probe: ProbeOptions{RingBytes: DefaultRingBytes}}
		sum, err := recordFor(cfg, 30*time.Second)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		st := readSpinTrace(t, cfg.Dir, 0, forking)
		checkComplete(t, st, sum, "duration")
		if st.events == 0 {
			t.Fatalf("cycle %d recorded nothing", i)
		}
		events += st.events
		os.RemoveAll(cfg.Dir) // traces of a busy target add up
	}
	t.Logf("%d attach/detach cycles of %v in %.1f s, %d events, every trace exact",
		soakCycles, soakDuration, time.Since(began).Seconds(), events)
}

// checkComplete verifies a trace finished properly and agrees with the
// recorder's summary.
func checkComplete(t *testing.T, st *spinTrace, sum *Summary, reason string) {
	t.Helper()
	switch {
	case st.stop == nil || st.truncated:
		t.Fatalf("trace not finished: stop %+v, truncated %v", st.stop, st.truncated)
	case st.stop.Reason != reason || sum.Reason != reason:
		t.Fatalf("stopped by %q (summary %q), want %s", st.stop.Reason, sum.Reason, reason)
	case st.lost != 0 || st.stop.Lost != 0:
		t.Fatalf("%d events lost", st.lost)
	case st.stop.Events != st.events || sum.Events != st.events:
		t.Fatalf("trace holds %d events, stop record says %d, summary %d", st.events, st.stop.Events, sum.Events)
	case len(st.libraries) == 0:
		t.Fatalf("no library record")
	}
}

func pidsOf(targets []*target) []uint32 {
	pids := make([]uint32, len(targets))
	for i, tg := range targets {
		pids[i] = tg.pid
	}
	return pids
}
