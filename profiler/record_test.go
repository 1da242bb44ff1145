package profiler

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// Launch mode, NCCL linked at build time: every call from main's first line
// is recorded, with every argument of every op and dtype exactly as passed,
// one event per call whichever alias (ncclX, pncclX) the caller used.
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
	if tr.Stop == nil || tr.Stop.Events != uint64(len(want)) {
		t.Errorf("stop record %+v, want %d events", tr.Stop, len(want))
	}
	checkComms(t, tr)
}

// checkComms verifies the comm table: handle -> rank, nranks per creation.
func checkComms(t *testing.T, tr *trace.Trace) {
	t.Helper()
	var got []string
	for _, c := range tr.Comms {
		got = append(got, c.Kind+" "+strconv.Itoa(int(c.Rank))+"/"+strconv.Itoa(int(c.NRanks)))
	}
	want := "CommInitRank 1/2,CommInitRankConfig 3/4,CommInitAll 0/3,CommInitAll 1/3,CommInitAll 2/3,CommSplit -1/-1"
	if strings.Join(got, ",") != want {
		t.Errorf("comm table %v, want %s", got, want)
	}
	for _, c := range tr.Comms {
		if c.Handle == 0 {
			t.Errorf("comm %+v has no handle", c)
		}
	}
}

// NCCL linked into a library of another name (as in conda's
// libtorch_cuda.so) is found by its symbols.
func TestLaunchFindsNCCLInsideAnotherLibrary(t *testing.T) {
	requirePrivileges(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{progs.DriverStatic, "all"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	_, tr := record(t, cfg, 20*time.Second)
	diffLines(t, describeAll(tr.Events), readTruth(t, truth))
	if len(tr.Processes) == 0 || filepath.Base(tr.Processes[len(tr.Processes)-1].NCCLPath) != "libfaketorch.so" {
		t.Errorf("processes %+v: want NCCL found in libfaketorch.so", tr.Processes)
	}
}

// startDriver runs a driver that waits for a file before its first call.
func startDriver(t *testing.T, bin string, extraEnv []string, args ...string) (*exec.Cmd, string, string) {
	t.Helper()
	dir := t.TempDir()
	truth, gate := filepath.Join(dir, "truth"), filepath.Join(dir, "go")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(env("DRIVER_TRUTH="+truth, "DRIVER_WAIT="+gate), extraEnv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitMapped(t, uint32(cmd.Process.Pid))
	return cmd, truth, gate
}

// waitMapped waits until the process has finished loading its libraries.
func waitMapped(t *testing.T, pid uint32) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if maps, err := ReadMaps(pid); err == nil && len(maps) > 5 {
			for _, m := range maps {
				if strings.Contains(m.Path, "libc.so") {
					return
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("pid %d never mapped libc", pid)
}

func openGate(gate string) func() {
	return func() { os.WriteFile(gate, nil, 0o644) }
}

// Attaching to a process that is already running (no restart), then the
// target exiting: the recording ends by itself with every call recorded.
func TestAttachToRunningProcessUntilItExits(t *testing.T) {
	requirePrivileges(t)
	cmd, truth, gate := startDriver(t, progs.Driver, nil, "all")
	cfg := testConfig(t)
	cfg.Pids = []uint32{uint32(cmd.Process.Pid)}
	cfg.Ready = openGate(gate)
	sum, tr := record(t, cfg, 20*time.Second)
	if sum.Reason != "targets-exited" {
		t.Errorf("stopped by %q, want targets-exited", sum.Reason)
	}
	diffLines(t, describeAll(tr.Events), readTruth(t, truth))
}

// Children forked after recording began are recorded from their first call.
func TestChildrenBornWhileRecording(t *testing.T) {
	requirePrivileges(t)
	cmd, truth, gate := startDriver(t, progs.Driver, nil, "children", "3", "50")
	cfg := testConfig(t)
	cfg.Pids = []uint32{uint32(cmd.Process.Pid)}
	cfg.Ready = openGate(gate)
	_, tr := record(t, cfg, 20*time.Second)
	want := readTruth(t, truth)
	if len(want) != 150 {
		t.Fatalf("driver made %d calls, want 150", len(want))
	}
	diffLines(t, describeAll(tr.Events), want)
	pids := map[uint32]bool{}
	for _, e := range tr.Events {
		pids[e.Pid] = true
	}
	if len(pids) != 3 || pids[uint32(cmd.Process.Pid)] {
		t.Errorf("events came from pids %v, want the 3 children only", pids)
	}
}

// NCCL loaded with dlopen after the recording started is attached as soon
// as the loader maps it, and every call after that is recorded.
func TestDlopenedNCCLIsAttached(t *testing.T) {
	requirePrivileges(t)
	dir := t.TempDir()
	truth, gate := filepath.Join(dir, "truth"), filepath.Join(dir, "go")
	cfg := testConfig(t)
	cfg.Command = []string{progs.DriverDL, "all"}
	cfg.CommandEnv = env("DRIVER_TRUTH="+truth, "DRIVER_WAIT="+gate, "DRIVER_NCCL="+progs.Lib)
	var attachedNs int64
	cfg.OnLibrary = func(l trace.Library) {
		if l.Role == "nccl" {
			attachedNs = l.AttachedNs
			openGate(gate)()
		}
	}
	_, tr := record(t, cfg, 20*time.Second)
	var want []string
	var dlopenNs int64
	for _, line := range readTruth(t, truth) {
		if f := strings.Fields(line); len(f) == 3 && f[1] == "dlopen" {
			dlopenNs, _ = strconv.ParseInt(f[2], 10, 64)
			continue
		}
		want = append(want, line)
	}
	diffLines(t, describeAll(tr.Events), want)
	t.Logf("NCCL attached %.2f ms after dlopen returned", float64(attachedNs-dlopenNs)/1e6)
}

// With a tiny ring buffer and a reader that is never woken early, events
// are lost, and every call is either recorded or counted as lost.
func TestLostEventsAreCountedExactly(t *testing.T) {
	requirePrivileges(t)
	const calls = 200000
	cfg := testConfig(t)
	cfg.Probe = ProbeOptions{RingBytes: 4096, WakeupBytes: 1 << 30}
	cfg.Command = []string{progs.Driver, "loop", strconv.Itoa(calls)}
	sum, tr := record(t, cfg, 60*time.Second)
	if sum.Lost == 0 {
		t.Fatalf("no events lost with a 4 KiB ring buffer and %d calls", calls)
	}
	if got := uint64(len(tr.Events)) + tr.Lost; got != calls {
		t.Errorf("recorded %d + lost %d = %d, want %d", len(tr.Events), tr.Lost, got, calls)
	}
	if tr.Stop == nil || tr.Stop.Lost != sum.Lost {
		t.Errorf("stop record %+v does not carry the lost count %d", tr.Stop, sum.Lost)
	}
}

// Cancelling (what SIGINT does in the CLI) finishes the folder cleanly.
func TestCancelFinishesTrace(t *testing.T) {
	requirePrivileges(t)
	cmd, _, gate := startDriver(t, progs.Driver, nil, "spin")
	cfg := testConfig(t)
	cfg.Pids = []uint32{uint32(cmd.Process.Pid)}
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Ready = func() {
		openGate(gate)()
		time.AfterFunc(300*time.Millisecond, cancel)
	}
	sum, err := Record(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Reason != "signal" || tr.Stop == nil || tr.Stop.Reason != "signal" {
		t.Errorf("reason %q, stop %+v: want signal", sum.Reason, tr.Stop)
	}
	if len(tr.Events) == 0 || uint64(len(tr.Events))+tr.Lost != sum.Events+sum.Lost {
		t.Errorf("trace has %d events, summary %d", len(tr.Events), sum.Events)
	}
}
