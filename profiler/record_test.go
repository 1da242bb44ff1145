package profiler

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// Launch mode, NCCL linked at build time: every call from main's first line
// is recorded, with every argument of every op and dtype exactly as passed.
func TestLaunchRecordsEveryCallExactly(t *testing.T) {
	requirePrivileges(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{progs.Driver, "all"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	sum, tr := record(t, cfg, 20*time.Second)

	if sum.Reason != "command-exited" || sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("reason %q exit %v, want command-exited with status 0", sum.Reason, sum.ExitStatus)
	}
	want := readTruth(t, truth)
	diffLines(t, describeAll(tr.Events), want)
	if sum.Lost != 0 || tr.Lost != 0 {
		t.Errorf("lost %d events", sum.Lost)
	}
	if len(tr.Comms) != 6 {
		t.Errorf("got %d comm records, want 6", len(tr.Comms))
	}
	if tr.Stop == nil || tr.Stop.Events != uint64(len(want)) {
		t.Errorf("stop record %+v, want %d events", tr.Stop, len(want))
	}
	t.Logf("%d events, %d comms, first %q", len(tr.Events), len(tr.Comms), want[0])
	_ = trace.AllReduce
}
