package profiler

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --pid-of finds a process by its command line and records it.
func TestPidOfRecordsMatchingProcess(t *testing.T) {
	requirePrivileges(t)
	cmd, truth, gate := startDriver(t, progs.Driver, nil, "all", "pidof-marker-"+t.Name())
	cfg := testConfig(t)
	cfg.PidOf = regexp.QuoteMeta("pidof-marker-" + t.Name())
	cfg.Ready = openGate(gate)
	sum, tr := record(t, cfg, 20*time.Second)
	if sum.Reason != "targets-exited" {
		t.Errorf("stopped by %q", sum.Reason)
	}
	diffLines(t, describeAll(tr.Events), readTruth(t, truth))
	if tr.Processes[0].Pid != uint32(cmd.Process.Pid) {
		t.Errorf("recorded pid %d, want %d", tr.Processes[0].Pid, cmd.Process.Pid)
	}
}

// --all records every process that maps NCCL, and no other.
func TestAllFindsEveryNCCLProcess(t *testing.T) {
	requirePrivileges(t)
	a, truthA, gateA := startDriver(t, progs.Driver, nil, "all")
	b, truthB, gateB := startDriver(t, progs.DriverStatic, nil, "all")
	other := exec.Command("sleep", "30")
	other.Start()
	defer other.Process.Kill()
	cfg := testConfig(t)
	cfg.All = true
	cfg.Duration = 1500 * time.Millisecond
	cfg.Ready = func() { openGate(gateA)(); openGate(gateB)() }
	_, tr := record(t, cfg, 20*time.Second)
	// Other tests may run NCCL drivers at the same time: --all records
	// them too, so only these two drivers' events are compared.
	mine := map[uint32]bool{uint32(a.Process.Pid): true, uint32(b.Process.Pid): true}
	var got []string
	for _, e := range tr.Events {
		if mine[e.Pid] {
			got = append(got, describe(e))
		}
	}
	want := append(readTruth(t, truthA), readTruth(t, truthB)...)
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	pids := map[uint32]bool{}
	for _, p := range tr.Processes {
		pids[p.Pid] = true
	}
	if !pids[uint32(a.Process.Pid)] || !pids[uint32(b.Process.Pid)] || pids[uint32(other.Process.Pid)] {
		t.Errorf("processes %v: want both drivers and not the sleep", pids)
	}
}

// doctor -p names the NCCL library and the symbols it would probe.
func TestProcessChecksNameLibraryAndSymbols(t *testing.T) {
	requirePrivileges(t)
	cmd, _, _ := startDriver(t, progs.Driver, nil, "all")
	checks := ProcessChecks(uint32(cmd.Process.Pid))
	if len(checks) != 1 || !checks[0].OK {
		t.Fatalf("checks %+v", checks)
	}
	d := checks[0].Detail
	for _, want := range []string{filepath.Base(progs.Lib), "2.28.9+cuda13.0", "ncclAllReduce", "ncclCommInitRankConfig"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail %q lacks %q", d, want)
		}
	}
	if strings.Contains(d, "pncclAllReduce") {
		t.Errorf("detail %q probes an alias", d)
	}
	sleeper := exec.Command("sleep", "5")
	sleeper.Start()
	defer sleeper.Process.Kill()
	if c := ProcessChecks(uint32(sleeper.Process.Pid)); c[0].OK || !strings.Contains(c[0].Fix, "--children") {
		t.Errorf("a process without NCCL: %+v", c)
	}
}
