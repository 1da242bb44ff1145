package profiler

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkprof/linkprof/internal/bpfobjs"
	"github.com/linkprof/linkprof/trace"
)

// A target SIGKILLed mid-recording: the recording ends by itself, complete,
// with every call the target made up to its death, numbered from its first.
func TestFaultTargetKilled(t *testing.T) {
	requirePrivileges(t)
	tg := startTarget(t, "spin")
	cfg := testConfig(t)
	cfg.Probe.RingBytes = DefaultRingBytes
	cfg.Pids = []uint32{tg.pid}
	cfg.Ready = func() {
		tg.release()
		time.AfterFunc(300*time.Millisecond, func() { tg.cmd.Process.Kill() })
	}
	go tg.cmd.Wait() // reap it, so it is not left a zombie
	sum, err := recordFor(cfg, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st := readSpinTrace(t, cfg.Dir, 1, false)
	checkComplete(t, st, sum, "targets-exited")
	if !st.counts[0] || st.events < 1000 {
		t.Errorf("recorded %d calls (first call seen: %v), want every call from the first", st.events, st.counts[0])
	}
}

// The recorder SIGKILLed mid-recording (a child process running Record):
// the trace reads cleanly up to at least what it had flushed, the target
// runs on unharmed, and the kernel dropped every probe with the process.
func TestFaultRecorderKilled(t *testing.T) {
	requirePrivileges(t)
	tg := startTarget(t, "spin")
	tg.release()
	dir := filepath.Join(t.TempDir(), "rec")
	rec := exec.Command(os.Args[0], "-test.run=^TestHelperRecorder$")
	rec.Env = env("LINKPROF_HELPER_RECORD=" + dir + ":" + strconv.Itoa(int(tg.pid)))
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	defer rec.Process.Kill()
	flushed := waitFlushedEvents(t, dir, 2)
	ids, err := bpfobjs.Held(rec.Process.Pid)
	if err != nil || len(ids) == 0 {
		t.Fatalf("the recorder holds no BPF objects (%v)", err)
	}
	rec.Process.Signal(syscall.SIGKILL)
	rec.Wait()

	st := readSpinTrace(t, dir, 0, false)
	if st.stop != nil || st.events < flushed {
		t.Errorf("killed recorder's trace: stop %+v, %d events, want no stop record and >= %d events", st.stop, st.events, flushed)
	}
	if left := bpfobjs.WaitGone(ids, 10*time.Second); len(left) > 0 {
		t.Errorf("BPF objects still in the kernel after the recorder was killed: %v", left)
	}
	rep := tg.stop(t)
	if rep.calls < st.events {
		t.Errorf("target counted %d calls, trace holds %d", rep.calls, st.events)
	}
	t.Logf("recorder killed: trace readable, %d events (>= %d seen flushed before the kill), truncated %v; %d BPF objects released",
		st.events, flushed, st.truncated, len(ids))
}

// TestHelperRecorder is the recorder process TestFaultRecorderKilled kills.
func TestHelperRecorder(t *testing.T) {
	spec := os.Getenv("LINKPROF_HELPER_RECORD")
	if spec == "" {
		t.Skip("helper process for TestFaultRecorderKilled")
	}
	dir, pid, _ := strings.Cut(spec, ":")
	n, _ := strconv.Atoi(pid)
	cfg := Config{Dir: dir, Pids: []uint32{uint32(n)}, Probe: ProbeOptions{RingBytes: DefaultRingBytes}}
	Record(context.Background(), cfg)
}

// waitFlushedEvents waits until the trace on disk holds events from at
// least n flushes, and returns how many events it holds.
func waitFlushedEvents(t *testing.T, dir string, n int) uint64 {
	t.Helper()
	var last, flushes uint64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		tr, err := trace.Load(dir)
		if err != nil || uint64(len(tr.Events)) == last {
			continue
		}
		last = uint64(len(tr.Events))
		if flushes++; flushes >= uint64(n) {
			return last
		}
	}
	t.Fatalf("no events reached %s", dir)
	return 0
}

// Output filesystem full (a tiny tmpfs): the recording stops at once with
// an error that says so, and what was already written reads back cleanly.
// 64 KiB holds the metadata but no whole 64 KiB events frame; 512 KiB also
// holds events, from the first call on.
func TestFaultDiskFull(t *testing.T) {
	requirePrivileges(t)
	for _, size := range []string{"64k", "512k"} {
		t.Run(size, func(t *testing.T) {
			st := recordIntoTmpfs(t, size)
			if st.start.Tool != "linkprof" {
				t.Errorf("start record %+v not readable", st.start)
			}
			if size != "64k" && (st.events == 0 || !st.counts[0]) {
				t.Errorf("%d events readable (first call: %v), want a prefix from the first call", st.events, st.counts[0])
			}
		})
	}
}

// recordIntoTmpfs records a spin target into a tmpfs of the given size,
// expects the disk-full error, and reads back what was written.
func recordIntoTmpfs(t *testing.T, size string) *spinTrace {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mounting a %s tmpfs: %v: %s", size, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	tg := startTarget(t, "spin")
	cfg := testConfig(t)
	cfg.Dir = filepath.Join(mnt, "rec")
	cfg.Pids = []uint32{tg.pid}
	cfg.Duration = 20 * time.Second
	cfg.Ready = tg.release
	began := time.Now()
	sum, err := recordFor(cfg, time.Minute)
	took := time.Since(began)
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.HasPrefix(err.Error(), "writing trace: ") {
		t.Fatalf("recording into a full filesystem returned %v, want a 'writing trace' error wrapping ENOSPC", err)
	}
	if sum == nil || sum.Reason != "error" || took > 5*time.Second {
		t.Fatalf("summary %+v after %v: want reason error, stopped at once", sum, took)
	}
	st := readSpinTrace(t, cfg.Dir, 1, false)
	t.Logf("%s full after %v: %q; %d events readable", size, took.Truncate(time.Millisecond), err, st.events)
	return st
}

// NCCL unloaded (dlclose) and loaded again from a new file (new inode) five
// times while recording: each copy is attached when the loader maps it, and
// every call to every copy is recorded exactly.
func TestFaultNCCLReloaded(t *testing.T) {
	requirePrivileges(t)
	const cycles, calls = 5, 50
	dir := t.TempDir()
	truth, gates := filepath.Join(dir, "truth"), filepath.Join(dir, "gate")
	cfg := testConfig(t)
	cfg.Command = []string{progs.DriverDL, "reload", strconv.Itoa(cycles), strconv.Itoa(calls)}
	cfg.CommandEnv = env("DRIVER_TRUTH="+truth, "DRIVER_NCCL="+progs.Lib,
		"DRIVER_RELOAD="+filepath.Join(dir, "libnccl-copy.so.2"), "DRIVER_GATES="+gates)
	attached := 0
	cfg.OnLibrary = func(l trace.Library) {
		if l.Role == "nccl" {
			openGate(gates + strconv.Itoa(attached))()
			attached++
		}
	}
	sum, tr := record(t, cfg, time.Minute)
	if sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("driver exited with %v", sum.ExitStatus)
	}
	var want []string
	inodes := map[string]bool{}
	for _, line := range readTruth(t, truth) {
		if f := strings.Fields(line); len(f) == 4 && f[1] == "reload" {
			inodes[f[3]] = true
			continue
		}
		want = append(want, line)
	}
	if len(inodes) != cycles || len(want) != cycles*calls {
		t.Fatalf("driver loaded %d distinct inodes and made %d calls, want %d and %d", len(inodes), len(want), cycles, cycles*calls)
	}
	diffLines(t, describeAll(tr.Events), want)
	for _, l := range tr.Libraries {
		if l.Role == "nccl" && !inodes[strconv.FormatUint(l.Inode, 10)] {
			t.Errorf("library record %+v is not one of the loaded copies", l)
		}
	}
}
