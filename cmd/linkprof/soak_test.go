package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// The soak of issue 6 as users run it: `linkprof record -p PID -d 200ms`
// 100 times against a target calling at full rate, while one `linkprof
// record -p PID` records it from its first call until it exits. Every run
// exits 0 with a finished, exact trace; the target's checksum shows its
// results never changed; the long recording holds exactly the calls the
// target counted. (profiler.TestSoakAttachDetach* soak Record itself, with
// two targets and with a forking one.)
func TestRecordCommandSoak(t *testing.T) {
	requirePrivileges(t)
	work := t.TempDir()
	gate, ready := filepath.Join(work, "go"), filepath.Join(work, "ready")
	target := exec.Command(fake.Driver, "spin")
	target.Env = append(os.Environ(), "DRIVER_WAIT="+gate)
	var targetOut bytes.Buffer
	target.Stdout = &targetOut
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer target.Process.Kill()
	pid := strconv.Itoa(target.Process.Pid)
	waitFor(t, "/proc/"+pid+"/maps", "libnccl")

	fullDir := filepath.Join(work, "full")
	full := exec.Command(linkprofBin, "record", "-p", pid, "-o", fullDir, "--no-analyze", "--ready-file", ready)
	if err := full.Start(); err != nil {
		t.Fatal(err)
	}
	defer full.Process.Kill()
	waitFor(t, ready, "")
	os.WriteFile(gate, nil, 0o644)

	for i := 0; i < 100; i++ {
		dir := filepath.Join(work, "short")
		r := linkprof(t, nil, "record", "-p", pid, "-d", "200ms", "-o", dir, "--no-analyze")
		if r.code != 0 {
			t.Fatalf("cycle %d: exit %d: %s", i, r.code, r.stderr)
		}
		checkSpinTrace(t, dir, "duration")
		os.RemoveAll(dir)
	}

	target.Process.Signal(syscall.SIGTERM)
	if err := target.Wait(); err != nil {
		t.Fatalf("target: %v", err)
	}
	if err := full.Wait(); err != nil {
		t.Fatalf("full-length recording: %v", err)
	}
	calls, checksum, ns := parseSpin(t, targetOut.String())
	if want := spinChecksum(calls); checksum != want {
		t.Fatalf("target checksum %d after %d calls, want %d: its results changed", checksum, calls, want)
	}
	if n := checkSpinTrace(t, fullDir, "targets-exited"); n != calls {
		t.Errorf("full-length recording holds %d calls, the target counted %d", n, calls)
	}
	t.Logf("100 x record -d 200ms: every run exit 0, every trace exact; target made %d calls (%.0f/s), all recorded",
		calls, float64(calls)/(float64(ns)/1e9))
}

// checkSpinTrace loads a recording of a spin target and checks it finished
// for the reason given, lost nothing, and holds the spin's calls numbered
// consecutively. It returns the number of calls.
func checkSpinTrace(t *testing.T, dir, reason string) uint64 {
	t.Helper()
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Stop == nil || tr.Stop.Reason != reason || tr.Truncated || tr.Lost != 0 || tr.Stop.Events != uint64(len(tr.Events)) || len(tr.Events) == 0 {
		t.Fatalf("%s: stop %+v, truncated %v, lost %d, %d events", dir, tr.Stop, tr.Truncated, tr.Lost, len(tr.Events))
	}
	for i, e := range tr.Events {
		if e.Kind != trace.AllReduce || i > 0 && e.Count != tr.Events[i-1].Count+1 {
			t.Fatalf("%s: event %d (%v, call %d) does not follow call %d", dir, i, e.Kind, e.Count, tr.Events[max(i-1, 0)].Count)
		}
	}
	return uint64(len(tr.Events))
}

// parseSpin reads the spin pattern's "calls N checksum S ns T".
func parseSpin(t *testing.T, out string) (calls, checksum, ns uint64) {
	f := strings.Fields(out)
	if len(f) < 6 || f[0] != "calls" || f[2] != "checksum" || f[4] != "ns" {
		t.Fatalf("target reported %q", out)
	}
	calls, _ = strconv.ParseUint(f[1], 10, 64)
	checksum, _ = strconv.ParseUint(f[3], 10, 64)
	ns, _ = strconv.ParseUint(f[5], 10, 64)
	return calls, checksum, ns
}

// spinChecksum is the spin pattern's checksum of calls 0..n-1: the sum of
// i * 2654435761, mod 2^64.
func spinChecksum(n uint64) uint64 {
	var sum uint64
	for i := uint64(0); i < n; i++ {
		sum += i * 2654435761
	}
	return sum
}

// waitFor waits until a file exists and, if want is set, contains it.
func waitFor(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), want) {
			return
		}
	}
	t.Fatalf("%s never appeared (or never held %q)", path, want)
}
