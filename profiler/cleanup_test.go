package profiler

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Every way Record ends, normal or not, closes every BPF object (program,
// map, link) and file it opened: a long-lived caller leaks nothing, and no
// probe stays attached. A recording that fails before it begins leaves no
// folder behind.
func TestRecordReleasesEverythingOnEveryExit(t *testing.T) {
	requirePrivileges(t)
	spin := startTarget(t, "spin")
	spin.release()
	idle := exec.Command("sleep", "60")
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Process.Kill(); idle.Wait() })
	cases := []struct {
		name    string
		setup   func(*Config)
		wantErr string // "" for a finished recording
	}{
		{"duration", func(c *Config) { c.Pids, c.Duration = []uint32{spin.pid}, 200*time.Millisecond }, ""},
		{"signal", func(c *Config) { c.Pids = []uint32{spin.pid} }, ""},
		{"no such pid", func(c *Config) { c.Pids = []uint32{deadPid(t)} }, "no such process"},
		{"no NCCL", func(c *Config) { c.Pids, c.Children = []uint32{uint32(idle.Process.Pid)}, false }, "try --children"},
		{"bad command", func(c *Config) { c.Command = []string{"/nonexistent/cmd"} }, "/nonexistent/cmd"},
		{"command fails to start", func(c *Config) { c.Command = []string{notExecutable(t)} }, "starting command"},
	}
	warm := testConfig(t) // let the libraries cache what they cache once
	warm.Pids, warm.Duration = []uint32{spin.pid}, 50*time.Millisecond
	if _, err := recordFor(warm, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	fdsBefore, bpfBefore := openFDs(t), bpfFDs(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			c.setup(&cfg)
			_, err := recordFor(cfg, 400*time.Millisecond)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("recording: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
			if _, serr := os.Stat(cfg.Dir); c.wantErr != "" && serr == nil {
				t.Errorf("failed recording left %s behind", cfg.Dir)
			}
			if fds, bpf := openFDs(t), bpfFDs(t); fds != fdsBefore || bpf != bpfBefore {
				t.Errorf("open files %d (BPF %d) after, %d (BPF %d) before", fds, bpf, fdsBefore, bpfBefore)
			}
		})
	}
}

// openFDs counts this process's open files.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// deadPid returns a pid no process has.
func deadPid(t *testing.T) uint32 {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return uint32(cmd.Process.Pid)
}

// notExecutable returns a file marked executable that the kernel cannot run.
func notExecutable(t *testing.T) string {
	path := t.TempDir() + "/garbage"
	if err := os.WriteFile(path, []byte("\x00\x01 not a program"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
