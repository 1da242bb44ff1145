package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// whoami is a launched command that writes who it runs as into dir/id:
// uid, gid, groups, then HOME, USER and LOGNAME.
func whoami(dir string) []string {
	return []string{"--", "/bin/sh", "-c", `{ id -u; id -g; id -G; echo "$HOME" "$USER" "$LOGNAME"; } > ` + filepath.Join(dir, "id")}
}

// `sudo linkprof record -- CMD` runs CMD as the user who ran sudo (and
// `--user` as the named user), with that user's group and no others, and
// that user's HOME, USER and LOGNAME (as sudo -u sets them); the folder and
// every file in it belong to that user.
func TestLaunchedCommandRunsAsCaller(t *testing.T) {
	requirePrivileges(t)
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"sudo", []string{"SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody"}, nil},
		{"--user", nil, []string{"--user", "nobody"}},
	}
	u, err := user.LookupId(strconv.Itoa(nobody))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d %d %d %s %s %s", nobody, nobody, nobody, u.HomeDir, u.Username, u.Username)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			work := sharedDir(t)
			out := filepath.Join(work, "rec")
			args := append(append([]string{"record", "-o", out}, c.args...), whoami(work)...)
			r := linkprof(t, c.env, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			id, err := os.ReadFile(filepath.Join(work, "id"))
			if err != nil {
				t.Fatalf("the command left no id file: %v", err)
			}
			if got := strings.Join(strings.Fields(string(id)), " "); got != want {
				t.Errorf("command ran as uid, gid, groups, HOME, USER, LOGNAME %q, want %q", got, want)
			}
			if c.name == "sudo" {
				checkOwnedBy(t, out, nobody)
			}
		})
	}
}

// checkOwnedBy walks a folder: it and everything in it belong to uid (and
// the group of the same number).
func checkOwnedBy(t *testing.T, dir string, uid uint32) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if u, g := owner(t, path); u != uid || g != uid {
			t.Errorf("%s belongs to %d:%d, want %d:%d", path, u, g, uid, uid)
		}
		n++
		return nil
	})
	if n < 2 {
		t.Errorf("folder %s holds nothing", dir)
	}
}

// Without --force nothing that exists is written into or replaced; a
// symbolic link is never followed, with or without --force.
func TestOutputNeverOverwritesOrFollowsLinks(t *testing.T) {
	requirePrivileges(t)
	work := t.TempDir()
	used := filepath.Join(work, "used")
	os.Mkdir(used, 0o755)
	os.WriteFile(filepath.Join(used, "trace.lpt"), []byte("precious"), 0o644)
	victim := filepath.Join(work, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	linkDir := filepath.Join(work, "linkdir")
	os.Symlink(work, linkDir)
	planted := filepath.Join(work, "planted")
	os.Mkdir(planted, 0o755)
	for _, f := range []string{"trace.lpt", "report.txt", "report.json", "report.html", "timeline.json", "profile.pb.gz"} {
		os.Symlink(victim, filepath.Join(planted, f))
	}

	cmd := []string{"--no-analyze", "--", "true"}
	linkprof(t, nil, append([]string{"record", "-o", used}, cmd...)...).wantError(t, exitFailure, "use --force")
	linkprof(t, nil, append([]string{"record", "-o", linkDir}, cmd...)...).wantError(t, exitFailure, "is a symbolic link")
	linkprof(t, nil, append([]string{"record", "-o", planted}, cmd...)...).wantError(t, exitFailure, "use --force")
	// With the analysis, which writes five more files into the folder.
	if r := linkprof(t, nil, "record", "--force", "-o", planted, "--", fake.Driver, "all"); r.code != 0 {
		t.Fatalf("--force into a folder with a planted link: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{filepath.Join(used, "trace.lpt"), victim} {
		if data, _ := os.ReadFile(f); string(data) != "precious" {
			t.Errorf("%s was overwritten: %q", f, data)
		}
	}
	for _, f := range []string{"trace.lpt", "report.txt", "report.json", "report.html", "timeline.json", "profile.pb.gz"} {
		if fi, err := os.Lstat(filepath.Join(planted, f)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("--force left %s as %v (%v), want a new regular file in place of the link", f, fi, err)
		}
	}
	if _, err := trace.Load(planted); err != nil {
		t.Errorf("the forced recording is not readable: %v", err)
	}
}

// validTrace is the bytes of a small, whole trace.
func validTrace(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "valid")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "linkprof"})
	var raw []byte
	for i := 0; i < 500; i++ {
		raw = trace.AppendEvent(raw, trace.Event{Pid: 7, Kind: trace.AllReduce, Count: uint64(i), StackID: -1})
	}
	w.WriteEvents(raw)
	w.WriteJSON(trace.RecStop, trace.Stop{Reason: "duration", Events: 500})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, trace.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A full output filesystem ends the recording at once: exit 1, one line
// that says so, and the trace written so far reads back.
func TestDiskFullOneLineError(t *testing.T) {
	requirePrivileges(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mounting a small tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	target := startProcess(t, nil, fake.Driver, "spin")
	out := filepath.Join(mnt, "rec")
	r := linkprof(t, nil, "record", "-p", strconv.Itoa(target.Process.Pid), "-d", "20s", "-o", out)
	r.wantError(t, exitFailure, "writing trace: write "+out+"/trace.lpt: no space left on device (the trace is readable up to that point)")
	tr, err := trace.Load(out)
	if err != nil || len(tr.Events) == 0 {
		t.Fatalf("trace after disk full: %v, %d events", err, len(tr.Events))
	}
}

// sudoNobody is the environment of `sudo linkprof` run by nobody.
var sudoNobody = []string{"SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody"}

// Under sudo, --force into a folder that holds root's files writes the
// recording as the caller and changes the owner of nothing that was there.
func TestForceUnderSudoChownsNothingElse(t *testing.T) {
	requirePrivileges(t)
	dir := sharedDir(t) // root's, writable by all
	secret, sub := filepath.Join(dir, "secret"), filepath.Join(dir, "sub")
	os.WriteFile(secret, []byte("root's"), 0o600)
	os.Mkdir(sub, 0o700)
	os.WriteFile(filepath.Join(sub, "file"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "report.txt"), []byte("old"), 0o600)
	r := linkprof(t, sudoNobody, "record", "--force", "-o", dir, "--", "true")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, p := range []string{dir, secret, sub, filepath.Join(sub, "file")} {
		if u, g := owner(t, p); u != 0 || g != 0 {
			t.Errorf("%s was there before and now belongs to %d:%d", p, u, g)
		}
	}
	for _, f := range []string{trace.FileName, "report.txt", "report.json", "report.html", "timeline.json", "profile.pb.gz"} {
		if u, g := owner(t, filepath.Join(dir, f)); u != nobody || g != nobody {
			t.Errorf("%s, written by linkprof, belongs to %d:%d, want the caller", f, u, g)
		}
	}
}

// Under sudo the output is created with the caller's permissions: a
// symbolic link among the parent folders leads only where the caller could
// write. Here it leads into a folder only root may enter: refused, and
// nothing is created there.
func TestSudoOutputThroughLinkNeedsCallersRights(t *testing.T) {
	requirePrivileges(t)
	private := t.TempDir() // 0700, root's
	link := filepath.Join(sharedDir(t), "link")
	os.Symlink(private, link)
	r := linkprof(t, sudoNobody, "record", "-o", filepath.Join(link, "rec"), "--", "true")
	r.wantError(t, exitFailure, "permission denied (created as uid 65534, the user who ran sudo)")
	if entries, _ := os.ReadDir(private); len(entries) > 0 {
		t.Errorf("%s, root's, now holds %v", private, entries)
	}
}

// Under sudo, a command other than record writes as the caller too: the
// results of workload run -o (as collect's load.json and card.yaml).
func TestWorkloadResultsUnderSudoAreTheCallers(t *testing.T) {
	requirePrivileges(t)
	out := filepath.Join(sharedDir(t), "load.json")
	r := linkprof(t, sudoNobody, "workload", "run", "deepseekv2lite-vllm-lambda1", "--url", "http://127.0.0.1:1",
		"--requests", "2", "--no-progress", "-o", out)
	r.wantError(t, exitFailure, "no request completed (2 failed)")
	if u, g := owner(t, out); u != nobody || g != nobody {
		t.Errorf("%s belongs to %d:%d, want the caller", out, u, g)
	}
}
