package collect

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A leader that exits on SIGINT at once and a worker in its group that
// ignores SIGINT and SIGTERM (as a worker busy in CUDA teardown does):
// once stop returns, no live process of the group is left.
func TestStopLeavesNoWorker(t *testing.T) {
	p := startFakeServer(t, `(trap "" INT TERM; while :; do sleep 0.05; done) & exec sleep 30`)
	deadline := time.Now().Add(5 * time.Second)
	for len(groupLive(p.pid())) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(groupLive(p.pid())); n < 2 {
		t.Fatalf("group has %d live processes before the stop, want the leader, its worker and their sleeps", n)
	}
	if err := p.stop(200 * time.Millisecond); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if left := groupLive(p.pid()); len(left) > 0 {
		t.Fatalf("processes %v of the group outlived stop", left)
	}
}

// A worker that takes 300 ms to shut down after SIGTERM finishes its own
// shutdown: the group's SIGKILL waits for the grace to run out.
func TestStopGivesWorkersTheirGrace(t *testing.T) {
	dir := t.TempDir()
	done := filepath.Join(dir, "worker-done")
	p := startFakeServer(t, `(trap 'sleep 0.3; echo done >`+done+`; exit 0' TERM; while :; do sleep 0.05; done) & trap '' INT; exec sleep 30`)
	time.Sleep(200 * time.Millisecond) // the traps are set
	if err := p.stop(2 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(done); err != nil {
		t.Fatalf("the worker was killed before finishing its shutdown: %v", err)
	}
}

// startFakeServer runs script under sh as collect runs a server, logging
// to a file as server.log is: with a pipe, Wait would also wait for any
// worker holding its end.
func startFakeServer(t *testing.T, script string) *proc {
	t.Helper()
	log, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	p, err := startProc("fake server", exec.Command("sh", "-c", script), nil, log)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
