package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/linkprof/linkprof/internal/bpfobjs"
	"github.com/linkprof/linkprof/trace"
)

// However linkprof record ends (its duration, SIGINT, SIGTERM, SIGKILL),
// no BPF program, map or uprobe link of it is left in the kernel, checked
// with bpftool by the ids the process held while recording; the trace is
// finished (or, after SIGKILL, readable up to its last flush).
func TestNoProbeLeftAfterExit(t *testing.T) {
	requirePrivileges(t)
	if _, err := exec.LookPath("bpftool"); err != nil {
		t.Fatal("bpftool is needed to list BPF programs and links")
	}
	target := startProcess(t, nil, fake.Driver, "spin")
	pid := strconv.Itoa(target.Process.Pid)
	cases := []struct {
		name   string
		sig    syscall.Signal // 0: let -d end it
		code   int
		reason string // of the Stop record; "" for none
	}{
		{"duration", 0, 0, "duration"},
		{"SIGINT", syscall.SIGINT, 0, "signal"},
		{"SIGTERM", syscall.SIGTERM, 0, "signal"},
		{"SIGKILL", syscall.SIGKILL, -1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rec")
			d := "60s"
			if c.sig == 0 {
				d = "1500ms"
			}
			cmd := exec.Command(linkprofBin, "record", "-p", pid, "-d", d, "-o", out, "--no-analyze")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			held := waitAttached(t, cmd.Process.Pid)
			time.Sleep(700 * time.Millisecond) // past a flush
			if c.sig != 0 {
				cmd.Process.Signal(c.sig)
			}
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Errorf("exit code %d, want %d: %s", code, c.code, stderr.String())
			}
			checkReleased(t, held)
			tr, err := trace.Load(out)
			switch {
			case err != nil:
				t.Fatalf("trace unreadable: %v", err)
			case len(tr.Events) == 0:
				t.Errorf("trace holds no events")
			case c.reason == "" && tr.Stop != nil, c.reason != "" && (tr.Stop == nil || tr.Stop.Reason != c.reason):
				t.Errorf("stop record %+v, want reason %q", tr.Stop, c.reason)
			}
		})
	}
}

// waitAttached waits until the process holds a uprobe link, and returns
// the ids of every BPF object it holds ("prog 12", "link 40", ...).
func waitAttached(t *testing.T, pid int) []bpfobjs.Object {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ids, _ := bpfobjs.Held(pid)
		for _, id := range ids {
			if id.Kind == "link" {
				return ids
			}
		}
	}
	t.Fatalf("linkprof (pid %d) never attached a probe", pid)
	return nil
}

// checkReleased waits until the kernel has freed every object linkprof held
// (an RCU grace period after the last reference goes).
func checkReleased(t *testing.T, held []bpfobjs.Object) {
	t.Helper()
	if left := bpfobjs.WaitGone(held, 10*time.Second); len(left) > 0 {
		links, _ := exec.Command("bpftool", "link", "show").CombinedOutput()
		t.Fatalf("still in the kernel after linkprof exited: %v\nbpftool link show:\n%s", left, links)
	}
}

// SIGINT at any moment of a recording's life, from process start through
// loading and attaching to recording: linkprof either dies of it before it
// created anything, or exits 0 with a finished trace. Never a hang, an
// error exit, or a folder without its Stop record.
func TestSIGINTAtAnyMoment(t *testing.T) {
	requirePrivileges(t)
	target := startProcess(t, nil, fake.Driver, "spin")
	pid := strconv.Itoa(target.Process.Pid)
	for delay := time.Duration(0); delay <= 300*time.Millisecond; delay += 25 * time.Millisecond {
		t.Run(delay.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rec")
			cmd := exec.Command(linkprofBin, "record", "-p", pid, "-o", out, "--no-analyze")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay)
			cmd.Process.Signal(syscall.SIGINT)
			timer := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
			defer timer.Stop()
			cmd.Wait()
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			_, statErr := os.Stat(out)
			switch {
			case ws.Signaled() && ws.Signal() == syscall.SIGINT && statErr != nil:
				t.Log("died of SIGINT before creating anything")
				return
			case ws.Signaled():
				t.Fatalf("killed by %v (folder exists: %v): %s", ws.Signal(), statErr == nil, stderr.String())
			case ws.ExitStatus() != 0:
				t.Fatalf("exit %d: %s", ws.ExitStatus(), stderr.String())
			}
			tr, err := trace.Load(out)
			if err != nil || tr.Stop == nil || tr.Stop.Reason != "signal" {
				t.Fatalf("trace %v, stop %+v: want a finished trace stopped by signal", err, tr.Stop)
			}
			t.Logf("finished trace, %d events", len(tr.Events))
		})
	}
}
