package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/trace"
)

// Help asked for goes to stdout and exits 0; help CMD is CMD's own.
func TestHelpOnStdout(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "usage: linkprof COMMAND"},
		{[]string{"-h"}, "usage: linkprof COMMAND"},
		{[]string{"help"}, "usage: linkprof COMMAND"},
		{[]string{"help", "report"}, "usage: linkprof report DIR"},
		{[]string{"help", "compare"}, "--json"},
		{[]string{"help", "workload"}, "usage: linkprof workload list"},
		{[]string{"report", "-h"}, "usage: linkprof report DIR"},
		{[]string{"workload", "list", "-h"}, "--json"},
	} {
		r := linkprof(t, nil, c.args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, c.want) {
			t.Errorf("%v: exit %d, stderr %q, stdout lacks %q:\n%s", c.args, r.code, r.stderr, c.want, r.stdout)
		}
	}
	linkprof(t, nil, "help", "frobnicate").wantError(t, exitUsage, `unknown command "frobnicate"`)
	if r := linkprof(t, nil); r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "usage:") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestWorkloadListRejectsUnknownFlags(t *testing.T) {
	linkprof(t, nil, "workload", "list", "--bogus").wantError(t, exitUsage, "unknown flag: --bogus")
	linkprof(t, nil, "workload", "list", "stray").wantError(t, exitUsage, `unexpected argument "stray"`)
	linkprof(t, nil, "workload", "show", "--bogus", "x").wantError(t, exitUsage, "unknown flag: --bogus")
}

func TestJSONOutputs(t *testing.T) {
	var list struct {
		Cards []struct {
			Name, Framework, Load string
			TP                    int
		}
		Families []struct{ Name string }
	}
	decode(t, linkprof(t, nil, "workload", "list", "--json"), 0, &list)
	if len(list.Cards) == 0 || list.Cards[0].Name == "" || list.Cards[0].Load == "" || len(list.Families) == 0 {
		t.Errorf("workload list --json: %+v", list)
	}

	var doc struct {
		OK     *bool
		Checks []struct {
			Name   string
			OK     bool
			Detail string
		}
	}
	r := linkprof(t, nil, "doctor", "--json")
	decode(t, r, r.code, &doc)
	if doc.OK == nil || len(doc.Checks) < 2 || *doc.OK != (r.code == 0) {
		t.Errorf("doctor --json (exit %d): %s", r.code, r.stdout)
	}

	a, b := simRecording(t, 2), simRecording(t, 4)
	var cmp struct {
		Dirs struct{ A, B string }
		Ops  []struct {
			Op      string
			Traffic struct{ A, B struct{ Calls uint64 } }
			TxRatio *float64 `json:"tx_ratio"`
		}
		Paths []struct {
			A, B struct {
				Path       string
				SizeBucket string `json:"size_bucket"`
				Calls      uint64
			}
		}
		Bursts struct{ A, B struct{ Count uint64 } }
	}
	decode(t, linkprof(t, nil, "compare", "--json", a, b), 0, &cmp)
	if cmp.Dirs.A != a || len(cmp.Ops) != 1 || cmp.Ops[0].Op != "AllReduce" || cmp.Ops[0].Traffic.A.Calls != 4 ||
		cmp.Ops[0].Traffic.B.Calls != 8 || cmp.Ops[0].TxRatio == nil || *cmp.Ops[0].TxRatio < 1.9 || cmp.Bursts.B.Count == 0 {
		t.Errorf("compare --json: %+v", cmp)
	}
	if len(cmp.Paths) != 1 || cmp.Paths[0].A.Path != "nccl" || cmp.Paths[0].B.SizeBucket != "32MiB-64MiB" ||
		cmp.Paths[0].A.Calls != 4 || cmp.Paths[0].B.Calls != 8 {
		t.Errorf("compare --json paths: %+v", cmp.Paths)
	}
}

// dump writes communicator and stream handles in hex, as the report, the
// timeline and the profile's sources do.
func TestDumpHandlesInHex(t *testing.T) {
	r := linkprof(t, nil, "dump", simRecording(t, 1))
	first, _, _ := strings.Cut(r.stdout, "\n")
	if r.code != 0 || !strings.Contains(first, `"comm":"0x7f0000001000"`) || !strings.Contains(first, `"stream":"0x`) {
		t.Errorf("exit %d, first line %s", r.code, first)
	}
}

// Log records read like linkprof's own messages: one line, "linkprof: ".
func TestLogLinesInToolStyle(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newLineHandler(&buf, slog.LevelInfo))
	log.Warn("no NCCL library mapped yet", "pids", []uint32{7, 8}, "err", errors.New("open x: no such file"))
	log.Info("recording stopped", "pid", 9)
	log.Debug("hidden")
	want := `linkprof: warning: no NCCL library mapped yet (pids="[7 8]", err="open x: no such file")
linkprof: recording stopped (pid=9)
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// simRecording writes a 2-rank simulated recording of steps all-reduces
// per rank.
func simRecording(t *testing.T, steps int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	_, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: steps, Seed: 1, StepGapNs: 20_000_000,
		Ops: []sim.Op{{Kind: trace.AllReduce, Count: 16 << 20, DType: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func decode(t *testing.T, r result, code int, v any) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
}

// collect --standin runs the stand-in built into the binary from any
// directory (the fake engine: same processes, no GPU), exits 0, and
// card.yaml lists how the collection departed from the card.
func TestCollectStandinBuiltIn(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 not installed, and CI=true: refusing to skip (make deps installs it)")
		}
		t.Skip("python3 not installed (make deps installs it)")
	}
	dir := filepath.Join(t.TempDir(), "c")
	r := linkprof(t, nil, "collect", "qwen3-30b-a3b-tp_4-batch_4-vllm-group_11", "--standin", "--tp", "2",
		"--no-record", "--server-arg=--fake-engine", "--requests", "4", "--input-len", "8", "--output-len", "4",
		"--no-progress", "--settle", "0s", "-o", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	card, err := os.ReadFile(filepath.Join(dir, "card.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tp: 2 in place of the card''s 4 (--tp 2)", "128 experts top-8", "completed: 4"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("card.yaml lacks %q:\n%s", want, card)
		}
	}
	if !strings.Contains(r.stderr, "server stopped in") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
