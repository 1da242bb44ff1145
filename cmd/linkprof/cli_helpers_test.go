package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/linkprof/linkprof/profiler/fakenccl"
)

// The tests in this package run the real linkprof binary, as users do:
// exit codes, stderr, signals and file ownership are the contract.
var (
	linkprofBin string             // linkprof, built once
	fake        *fakenccl.Programs // fake NCCL targets
	shared      string             // a folder every user may enter
)

// nobody is the unprivileged user the privilege tests run as.
const nobody = 65534

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if shared != "" {
		os.RemoveAll(shared)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	var err error
	// Not t.TempDir: its parents are 0700, and nobody must reach the binary.
	if shared, err = os.MkdirTemp("", "linkprof-cli-"); err != nil {
		return 0, err
	}
	if err := os.Chmod(shared, 0o755); err != nil {
		return 0, err
	}
	linkprofBin = filepath.Join(shared, "linkprof")
	build := exec.Command("go", "build", "-o", linkprofBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building linkprof: %v\n%s", err, out)
	}
	if fake, err = fakenccl.Build(filepath.Join(shared, "fake")); err != nil {
		return 0, fmt.Errorf("building fake NCCL: %w", err)
	}
	return m.Run(), nil
}

// requirePrivileges skips without root, except in CI (CI=true), where a
// missing capability must fail the run, not hide it.
func requirePrivileges(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("these tests need root, and CI=true: refusing to skip")
	}
	t.Skip("these tests need root (BPF, setuid to nobody); run as root or in CI")
}

// result is one finished linkprof run.
type result struct {
	code           int
	stdout, stderr string
}

// linkprof runs the binary with extra environment (KEY=VALUE) and waits.
func linkprof(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(linkprofBin, args...)
	return runCmd(t, cmd, env)
}

// asNobody runs the binary as uid/gid 65534 with no groups and no
// capabilities, as an unprivileged user would.
func asNobody(t *testing.T, args ...string) result {
	t.Helper()
	argv := append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", linkprofBin}, args...)
	return runCmd(t, exec.Command("setpriv", argv...), nil)
}

func runCmd(t *testing.T, cmd *exec.Cmd, env []string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(withoutSudo(os.Environ()), env...)
	cmd.Dir = shared
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { <-ctx.Done(); cmd.Process.Kill() }()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %v: %v", cmd.Args, err)
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// wantError checks a failed run: the exit code, and that stderr ends with
// one "linkprof: ..." line containing want, with no panic or stack trace.
func (r result) wantError(t *testing.T, code int, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	switch {
	case r.code != code:
		t.Errorf("exit code %d, want %d (stderr %q)", r.code, code, r.stderr)
	case strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine "):
		t.Errorf("stderr holds a panic or stack trace: %q", r.stderr)
	case !strings.HasPrefix(last, "linkprof: ") || !strings.Contains(last, want):
		t.Errorf("last stderr line %q, want a linkprof: error containing %q", last, want)
	}
}

// withoutSudo drops sudo's variables: under sudo linkprof creates its
// output as the caller, so a test that runs under sudo itself would write
// as that user into root's temporary folders. Tests that want sudo's
// caller set the variables themselves.
func withoutSudo(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "SUDO_") })
}

// process is a helper process started for a test and killed after it.
func startProcess(t *testing.T, env []string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// deadPid returns a pid no process has.
func deadPid(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// owner returns a file's uid and gid, without following a link.
func owner(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Uid, st.Gid
}

// sharedDir makes a folder anyone may write (launched commands run as nobody).
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(shared, "t-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
