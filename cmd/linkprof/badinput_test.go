package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// Mistakes on the command line: exit 2 and one line saying what is wrong.
// None needs root: the flags are checked before the privileges.
func TestUsageErrorsExit2(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"record", "--frobnicate"}, "unknown flag: --frobnicate"},
		{[]string{"record"}, "nothing to record"},
		{[]string{"record", "-p", "notapid"}, `invalid argument "notapid"`},
		{[]string{"record", "-p", "1", "-d", "soon"}, `invalid argument "soon"`},
		{[]string{"record", "-p", "1", "-d", "-1s"}, "--duration must be positive"},
		{[]string{"record", "-p", "1", "--ring-size", "3"}, "--ring-size must be a power of two"},
		{[]string{"record", "-p", "1", "--ring-size", "4096"}, "--ring-size must be a power of two from 1 to 2048 (MiB), got 4096"},
		{[]string{"record", "-p", "1", "--ring-size", "65536"}, "--ring-size must be a power of two from 1 to 2048 (MiB), got 65536"},
		{[]string{"record", "-p", "4294967297"}, "-p 4294967297 is not a process id"},
		{[]string{"record", "-p", "0"}, "-p 0 is not a process id"},
		{[]string{"record", "-p", "1", "--nvml-hz", "NaN"}, "--nvml-hz NaN: must be"},
		{[]string{"record", "-p", "1", "--nvml-hz", "Inf"}, "--nvml-hz +Inf: must be"},
		{[]string{"record", "-p", "1", "--per-link-hz", "-1"}, "--per-link-hz -1: must be"},
		{[]string{"record", "-p", "1", "--gpm-interval", "1ns"}, "--gpm-interval 1ns: GPM needs at least 100ms"},
		{[]string{"record", "-p", "1", "--gpus", "0,0"}, "--gpus: 0 is negative or listed twice"},
		{[]string{"record", "-p", "1", "--gpus", "-1"}, "--gpus: -1 is negative or listed twice"},
		{[]string{"record", "-p", "1", "--gpus", "0", "--no-nvml"}, "--gpus and --no-nvml contradict each other"},
		{[]string{"report", "x", "--burst-threshold", "NaN"}, "--burst-threshold must be in [0, 1] (0: the recording's own rule), got NaN"},
		{[]string{"report", "x", "--burst-threshold", "Inf"}, "--burst-threshold must be in [0, 1] (0: the recording's own rule), got +Inf"},
		{[]string{"pprof", "x", "--burst-threshold", "-1"}, "--burst-threshold must be in [0, 1] (0: the recording's own rule), got -1"},
		{[]string{"record", "-p", "1", "stray"}, `unexpected argument "stray"`},
		{[]string{"record", "-p", "1", "--user", "nobody"}, "--user applies only to a launched command"},
		{[]string{"record", "--nvml-only", "-p", "1"}, "--nvml-only records no process"},
		{[]string{"record", "--nvml-only", "--nvml-cpu", "5", "--nvml-schedule", "round-robin"},
			"--nvml-cpu works with --nvml-schedule per-process"},
		{[]string{"record", "--nvml-only", "--nvml-cpu", "150"}, "--nvml-cpu 150: must be a percent of a core"},
		{[]string{"demo", "--steps", "0"}, "--steps must be positive"},
		{[]string{"report"}, "give one recording folder"},
		{[]string{"merge", "a", "b"}, "merge: give the merged folder with -o"},
		{[]string{"merge", "-o", "m", "a"}, "merge: give two recording folders or more, one per host"},
		{[]string{"merge", "-o", "m", "a", "b", "--clock", "ntp"}, `merge: --clock must be auto, collectives or wall, got "ntp"`},
		{[]string{"workload", "list", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"doctor", "stray"}, `unexpected argument "stray"`},
		{[]string{"collect", "llama3.1-8b-torchtitan-perlmutter"}, "or collect it with --standin"},
		{[]string{"collect", "qwen3-32b-tp_2-batch_4-vllm-group_11", "--standin", "--steps", "3"}, "--steps N (N >= 1) is for training cards"},
		{[]string{"collect", "qwen3-32b-tp_2-batch_4-vllm-group_11", "--standin", "--tp", "3"}, "--tp must be 1, 2, 4 or 8, not 3"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := linkprof(t, nil, c.args...)
			r.wantError(t, exitUsage, c.want)
			if n := strings.Count(r.stderr, "\n"); n != 1 {
				t.Errorf("stderr has %d lines, want 1: %q", n, r.stderr)
			}
		})
	}
}

// Failures at run time: exit 1, the last line says what failed and what
// to do, and a recording that never began leaves no folder behind.
func TestRuntimeErrorsExit1(t *testing.T) {
	requirePrivileges(t)
	idle := startProcess(t, nil, "sleep", "60")
	idlePid := strconv.Itoa(idle.Process.Pid)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no such pid", []string{"record", "-p", strconv.Itoa(deadPid(t)), "-d", "1s"}, "no such process"},
		{"pid without NCCL", []string{"record", "-p", idlePid, "--children=false", "-d", "1s"},
			"no NCCL library mapped in pid " + idlePid + ": is it a GPU worker? try --children"},
		{"no process matches", []string{"record", "--pid-of", "^no-such-program-here$", "-d", "1s"}, "no process matches"},
		{"bad regexp", []string{"record", "--pid-of", "(", "-d", "1s"}, "--pid-of"},
		{"command not found", []string{"record", "--", "/nonexistent/program"}, "/nonexistent/program"},
		{"pid 1", []string{"record", "-p", "1", "-d", "1s"}, "pid 1 is linkprof or one of its parent processes"},
		{"linkprof's parent", []string{"record", "-p", strconv.Itoa(os.Getpid()), "-d", "1s"},
			"pid " + strconv.Itoa(os.Getpid()) + " is linkprof or one of its parent processes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "rec")
			r := linkprof(t, nil, append([]string{c.args[0], "-o", out}, c.args[1:]...)...)
			r.wantError(t, exitFailure, c.want)
			if _, err := os.Stat(out); err == nil {
				t.Errorf("failed recording left %s behind", out)
			}
		})
	}
}

// --pid-of never matches linkprof or its parents: the shell that runs
// linkprof holds the pattern in its command line.
func TestPidOfSkipsOwnLineage(t *testing.T) {
	requirePrivileges(t)
	out := filepath.Join(t.TempDir(), "rec")
	line := linkprofBin + " record --pid-of NO-SUCH-NAME-pidof-lineage -d 1s -o " + out
	r := runCmd(t, exec.Command("sh", "-c", line), nil)
	r.wantError(t, exitFailure, `no process matches --pid-of "NO-SUCH-NAME-pidof-lineage"`)
	if _, err := os.Stat(out); err == nil {
		t.Errorf("failed recording left %s behind", out)
	}
}

// --ready-file naming a file or folder that exists is refused before
// anything starts, and what is there is left as it was.
func TestReadyFileNeverReplaced(t *testing.T) {
	requirePrivileges(t)
	idle := startProcess(t, nil, "sleep", "60")
	work := t.TempDir()
	file, folder := filepath.Join(work, "file"), filepath.Join(work, "folder")
	os.WriteFile(file, []byte("keep"), 0o600)
	os.Mkdir(folder, 0o700)
	for _, ready := range []string{file, folder} {
		out := filepath.Join(work, "rec")
		r := linkprof(t, nil, "record", "-p", strconv.Itoa(idle.Process.Pid), "-d", "1s", "-o", out, "--ready-file", ready)
		r.wantError(t, exitFailure, "--ready-file "+ready+" exists")
		if _, err := os.Stat(out); err == nil {
			t.Errorf("refused recording left %s behind", out)
		}
	}
	if data, err := os.ReadFile(file); string(data) != "keep" {
		t.Errorf("ready file's previous contents: %q, %v", data, err)
	}
	if fi, err := os.Stat(folder); err != nil || !fi.IsDir() {
		t.Errorf("the folder named by --ready-file is gone: %v", err)
	}
}

// Without root, record says which capabilities are missing (one line,
// exit 1) and touches nothing.
func TestNonRootNamesMissingCapability(t *testing.T) {
	requirePrivileges(t) // to switch to nobody
	out := filepath.Join(sharedDir(t), "rec")
	for _, args := range [][]string{
		{"record", "-p", "1", "-d", "1s", "-o", out},
		{"record", "-o", out, "--", "true"},
		{"demo", "-o", out},
	} {
		r := asNobody(t, args...)
		r.wantError(t, exitFailure, "missing CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE (uid 65534): run as root")
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v as nobody created %s", args, out)
		}
	}
}

// The analysis commands on folders that are not (whole, readable) linkprof
// recordings: exit 1 and one line naming the problem, never a panic.
func TestAnalysisCommandsRejectBadFolders(t *testing.T) {
	requirePrivileges(t) // for the unreadable case, run as nobody
	dirs := badFolders(t)
	for _, cmd := range []string{"report", "dump", "pprof", "timeline"} {
		for _, d := range dirs {
			t.Run(cmd+" "+d.name, func(t *testing.T) {
				args := []string{cmd, d.dir}
				if cmd == "pprof" || cmd == "timeline" {
					args = append(args, "-o", filepath.Join(sharedDir(t), "out"))
				}
				var r result
				if d.asNobody {
					r = asNobody(t, args...)
				} else {
					r = linkprof(t, nil, args...)
				}
				r.wantError(t, exitFailure, d.want)
			})
		}
	}
}

// badFolder is a folder an analysis command must refuse, and what its
// error must say.
type badFolder struct {
	name, dir, want string
	asNobody        bool
}

func badFolders(t *testing.T) []badFolder {
	root := sharedDir(t)
	mk := func(name string, files map[string][]byte, mode os.FileMode) string {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f, data := range files {
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	valid := validTrace(t)
	corrupt := append([]byte(nil), valid...)
	corrupt[len(corrupt)/2] ^= 0xff
	newer := append([]byte(nil), valid...)
	newer[8] = 99 // major version
	special := func(name string, make func(path string) error) string {
		dir := mk(name, nil, 0o755)
		if err := make(filepath.Join(dir, trace.FileName)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return []badFolder{
		{name: "trace a FIFO", dir: special("fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }), want: "is a named pipe, not a regular file"},
		{name: "trace a folder", dir: special("folder", func(p string) error { return os.Mkdir(p, 0o755) }), want: "is a folder, not a regular file"},
		{name: "trace a device", dir: special("device", func(p string) error { return os.Symlink("/dev/zero", p) }), want: "is a device, not a regular file"},
		{name: "missing", dir: filepath.Join(root, "missing"), want: "no such file or directory"},
		{name: "foreign", dir: mk("foreign", map[string][]byte{"notes.txt": []byte("hello")}, 0o755), want: "is it a linkprof recording?"},
		{name: "not a trace", dir: mk("garbage", map[string][]byte{"trace.lpt": []byte("GIF89a and more")}, 0o755), want: "not a linkprof trace"},
		{name: "empty trace", dir: mk("empty", map[string][]byte{"trace.lpt": nil}, 0o755), want: "not a linkprof trace"},
		{name: "corrupted", dir: mk("corrupt", map[string][]byte{"trace.lpt": corrupt}, 0o755), want: "checksum mismatch"},
		{name: "newer major version", dir: mk("newer", map[string][]byte{"trace.lpt": newer}, 0o755), want: "version 99"},
		{name: "unreadable", dir: mk("private", map[string][]byte{"trace.lpt": valid}, 0o700), want: "permission denied", asNobody: true},
	}
}

// Workload cards, BurstGPT files and servers that are wrong: one line
// naming the file (and line) or the server, exit 1 (2 for an unknown card
// name, a command-line mistake). The package tests (workloads,
// workloads/loadgen) cover each failure in detail; this checks what the
// user sees.
func TestWorkloadInputErrors(t *testing.T) {
	const burstCard = "qwen3-32b-tp_4-batch_4-burst-sglang-group_11"
	dir := t.TempDir()
	card := filepath.Join(dir, "card.yaml")
	os.WriteFile(card, []byte("name: x\nbogus: [\n"), 0o644)
	csv := filepath.Join(dir, "burst.csv")
	os.WriteFile(csv, []byte("Timestamp,Model\n1,x\n"), 0o644)
	refused := "http://127.0.0.1:1" // nothing listens on port 1
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"workload", "show", "no-such-card"}, exitUsage, `no such workload card: "no-such-card"`},
		{[]string{"workload", "show", card}, exitFailure, card + ":2: "},
		{[]string{"workload", "run", burstCard, "--url", refused, "--dataset", csv, "--no-progress"}, exitFailure,
			csv + `:1: no "Request tokens" column: is this a BurstGPT CSV?`},
		{[]string{"workload", "run", burstCard, "--url", refused, "--dataset", filepath.Join(dir, "missing.csv"), "--no-progress"},
			exitFailure, "opening BurstGPT file"},
		{[]string{"workload", "run", "deepseekv2lite-vllm-lambda1", "--url", refused, "--requests", "2", "--no-progress"},
			exitFailure, "no request completed (2 failed): is the server at the URL up?"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[:3], " "), func(t *testing.T) {
			linkprof(t, nil, c.args...).wantError(t, c.code, c.want)
		})
	}
}
