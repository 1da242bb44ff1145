package profiler

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// A continuous recording of a process calling ncclAllReduce at a steady
// rate: every call is in exactly one folder, in order across the
// boundaries (the driver numbers its calls), each folder is complete
// (Start first, Stop last, its own lost count) and begins with the process
// and its probed library replayed, so it can be analysed alone.
func TestRotationLosesNoEvent(t *testing.T) {
	requirePrivileges(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{progs.Driver, "rate", "4000", "3"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	cfg.Rotate = 500 * time.Millisecond
	var closed []string
	cfg.OnRotate = func(dir string) { closed = append(closed, dir) }
	sum, err := recordFor(cfg, 30*time.Second)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	if sum.Reason != "command-exited" {
		t.Fatalf("stopped by %s, want command-exited", sum.Reason)
	}
	dirs := append(closed, sum.Dir)
	if len(dirs) < 4 {
		t.Fatalf("%d folders in a 3 s run rotated every 500 ms, want at least 4", len(dirs))
	}
	var calls uint64
	var pid uint32
	if _, err := fmt.Sscanf(readTruth(t, truth)[0], "%d rate %d", &pid, &calls); err != nil {
		t.Fatalf("reading the driver's truth: %v", err)
	}

	st := &spinTrace{perPid: map[uint32]uint64{}, counts: make([]bool, calls)}
	next := map[uint32]uint64{}
	for i, dir := range dirs {
		if filepath.Dir(dir) != cfg.Dir || !trace.IsRotatedName(filepath.Base(dir)) {
			t.Errorf("folder %s is not a timestamped folder under %s", dir, cfg.Dir)
		}
		before := st.events
		f := checkRotatedFolder(t, dir, st, next)
		want := StopRotated
		if i == len(dirs)-1 {
			want = "command-exited"
		}
		if f.stop == nil || f.stop.Reason != want || f.stop.Events != st.events-before || f.stop.Lost != 0 {
			t.Errorf("%s: stop %+v, want reason %s, %d events, 0 lost", dir, f.stop, want, st.events-before)
		}
		if i > 0 && (!f.process[pid] || !f.library[pid]) {
			t.Errorf("%s: process record %v, library record %v for pid %d: not replayed", dir, f.process[pid], f.library[pid], pid)
		}
	}
	t.Logf("%d calls in %d folders", st.events, len(dirs))
	if st.events != calls {
		t.Errorf("%d calls over %d folders, the driver made %d", st.events, len(dirs), calls)
	}
	for n, seen := range st.counts {
		if !seen {
			t.Fatalf("call %d is in no folder", n)
		}
	}
}

// rotatedFolder is what one folder of a continuous recording held.
type rotatedFolder struct {
	stop             *trace.Stop
	process, library map[uint32]bool
}

// checkRotatedFolder reads one folder, carrying the call numbering on
// from the previous folder (next), and checks its first and last records.
func checkRotatedFolder(t *testing.T, dir string, st *spinTrace, next map[uint32]uint64) rotatedFolder {
	t.Helper()
	f, err := trace.Open(dir)
	if err != nil {
		t.Fatalf("opening %s: %v", dir, err)
	}
	defer f.Close()
	out := rotatedFolder{process: map[uint32]bool{}, library: map[uint32]bool{}}
	var types []trace.RecordType
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", dir, err)
		}
		types = append(types, rec.Type)
		st.stop = nil
		if err := st.add(rec, next); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if st.stop != nil {
			out.stop = st.stop
		}
		var owner struct{ Pid uint32 }
		switch rec.Type {
		case trace.RecProcess:
			rec.JSON(&owner)
			out.process[owner.Pid] = true
		case trace.RecLibrary:
			rec.JSON(&owner)
			out.library[owner.Pid] = true
		}
	}
	if len(types) < 2 || types[0] != trace.RecStart || types[len(types)-1] != trace.RecStop {
		t.Errorf("%s: records %s: want Start first and Stop last", dir, recordTypes(types))
	}
	return out
}

func recordTypes(types []trace.RecordType) string {
	var b strings.Builder
	for _, t := range types {
		fmt.Fprintf(&b, "%d ", t)
	}
	return b.String()
}
