package profiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// target is a driver running a spin pattern (spin, forkspin) that reports
// its own call count, checksum and run time on SIGTERM.
type target struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	gate string
	pid  uint32
}

// startTarget starts the linked driver held before its first call until
// its gate file exists.
func startTarget(t testing.TB, args ...string) *target {
	t.Helper()
	tg := &target{gate: filepath.Join(t.TempDir(), "go")}
	tg.cmd = exec.Command(progs.Driver, args...)
	tg.cmd.Env = env("DRIVER_WAIT=" + tg.gate)
	tg.cmd.Stdout = &tg.out
	if err := tg.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tg.pid = uint32(tg.cmd.Process.Pid)
	t.Cleanup(func() {
		if tg.cmd.ProcessState == nil {
			tg.cmd.Process.Kill()
			tg.cmd.Wait()
		}
	})
	waitLoaded(t, tg.pid)
	return tg
}

// waitLoaded waits until the process has mapped NCCL.
func waitLoaded(t testing.TB, pid uint32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		maps, _ := ReadMaps(pid)
		for _, m := range maps {
			if strings.Contains(m.Path, "libnccl") {
				return
			}
		}
	}
	t.Fatalf("pid %d never mapped NCCL", pid)
}

func (tg *target) release() { openGate(tg.gate)() }

// spinReport is what a spin target says about itself when it stops.
type spinReport struct {
	calls, checksum, ns uint64
	children, failed    uint64 // forkspin only
}

// rate is the target's own calls per second.
func (s spinReport) rate() float64 { return float64(s.calls) / (float64(s.ns) / 1e9) }

// stop sends SIGTERM, reaps the target, and parses its report. A target
// that crashed or exited non-zero fails the test.
func (tg *target) stop(t testing.TB) spinReport {
	t.Helper()
	if err := tg.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping target %d: %v", tg.pid, err)
	}
	if err := tg.cmd.Wait(); err != nil {
		t.Fatalf("target %d did not exit cleanly: %v (output %q)", tg.pid, err, tg.out.String())
	}
	rep, err := parseSpinReport(tg.out.String())
	if err != nil {
		t.Fatalf("target %d: %v", tg.pid, err)
	}
	if want := spinChecksum(rep.calls); rep.checksum != want {
		t.Fatalf("target %d: checksum %d after %d calls, want %d: its results changed", tg.pid, rep.checksum, rep.calls, want)
	}
	return rep
}

// parseSpinReport reads "calls N checksum S ns T [children C failed F]".
func parseSpinReport(out string) (spinReport, error) {
	f := strings.Fields(out)
	vals := map[string]uint64{}
	for i := 0; i+1 < len(f); i += 2 {
		v, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return spinReport{}, fmt.Errorf("bad report %q", out)
		}
		vals[f[i]] = v
	}
	if _, ok := vals["checksum"]; !ok {
		return spinReport{}, fmt.Errorf("no report in output %q", out)
	}
	return spinReport{calls: vals["calls"], checksum: vals["checksum"], ns: vals["ns"],
		children: vals["children"], failed: vals["failed"]}, nil
}

// spinChecksum is the driver's checksum of calls numbered 0..n-1 (every
// call returns ncclSuccess): sum of i * 2654435761, mod 2^64.
func spinChecksum(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	a, b := n, n-1
	if a%2 == 0 {
		a /= 2
	} else {
		b /= 2
	}
	return a * b * 2654435761
}

// spinTrace is what a streamed read of a spin recording found.
type spinTrace struct {
	start     trace.Start
	stop      *trace.Stop
	events    uint64
	perPid    map[uint32]uint64
	lost      uint64
	truncated bool
	libraries []trace.Library
	counts    []bool // calls seen, by their count argument (when tracked)
	serial    bool   // numbering runs on across processes
}

// readSpinTrace streams a recording of spin targets and checks every event
// is the spin's call with its exact arguments and that each process's calls
// are numbered consecutively (nothing dropped, duplicated or reordered).
// With serial, the numbering must run on across processes instead (forkspin:
// the parent waits for each child, so calls happen one after another).
// With track > 0 it also records which call numbers below track were seen.
func readSpinTrace(t *testing.T, dir string, track uint64, serial bool) *spinTrace {
	t.Helper()
	f, err := trace.Open(dir)
	if err != nil {
		t.Fatalf("opening trace: %v", err)
	}
	defer f.Close()
	st := &spinTrace{perPid: map[uint32]uint64{}, counts: make([]bool, track), serial: serial}
	next := map[uint32]uint64{}
	for {
		rec, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading trace %s: %v", dir, err)
		}
		if err := st.add(rec, next); err != nil {
			t.Fatalf("trace %s: %v", dir, err)
		}
	}
	st.truncated = f.Truncated
	return st
}

func (st *spinTrace) add(rec trace.Record, next map[uint32]uint64) error {
	switch rec.Type {
	case trace.RecEvents:
		var bad error
		err := rec.Events(func(e trace.Event) {
			if err := st.event(e, next); err != nil && bad == nil {
				bad = err
			}
		})
		return errors.Join(err, bad)
	case trace.RecStart:
		return rec.JSON(&st.start)
	case trace.RecStop:
		st.stop = &trace.Stop{}
		return rec.JSON(st.stop)
	case trace.RecLibrary:
		var l trace.Library
		err := rec.JSON(&l)
		st.libraries = append(st.libraries, l)
		return err
	case trace.RecLost:
		var l trace.Lost
		err := rec.JSON(&l)
		st.lost = l.Count
		return err
	}
	return nil
}

func (st *spinTrace) event(e trace.Event, next map[uint32]uint64) error {
	if e.Kind != trace.AllReduce || e.DataType != 9 || e.RedOp != 0 || e.Stream != 0x7001 ||
		e.SendBuff != 0x10001000 || e.RecvBuff != 0x10002000 || e.Flags&trace.FlagReturn != 0 {
		return fmt.Errorf("event %d is not a spin call: %+v", st.events, e)
	}
	key := e.Pid
	if st.serial {
		key = 0
	}
	if n, seen := next[key]; seen && e.Count != n {
		return fmt.Errorf("pid %d: call %d follows call %d", e.Pid, e.Count, n-1)
	}
	next[key] = e.Count + 1
	if e.Count < uint64(len(st.counts)) {
		if st.counts[e.Count] {
			return fmt.Errorf("call %d recorded twice", e.Count)
		}
		st.counts[e.Count] = true
	}
	st.events++
	st.perPid[e.Pid]++
	return nil
}

// bpfFDs counts this process's open BPF objects (programs, maps, links).
func bpfFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		dst, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(dst, "anon_inode:bpf") {
			n++
		}
	}
	return n
}

// recordFor records cfg until ctx ends, returning the summary and error.
func recordFor(cfg Config, d time.Duration) (*Summary, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return Record(ctx, cfg)
}
