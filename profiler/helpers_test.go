package profiler

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/profiler/fakenccl"
	"github.com/linkprof/linkprof/trace"
)

// progs are the fake NCCL programs, built once per test binary.
var progs *fakenccl.Programs

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "linkprof-fakenccl-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	progs, err = fakenccl.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "building fake NCCL:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// requirePrivileges skips without root, except in CI (CI=true), where a
// missing capability must fail the run, not hide it.
func requirePrivileges(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("eBPF tests need root, and CI=true: refusing to skip")
	}
	t.Skip("eBPF tests need root (uprobes, BPF maps); run as root or in CI")
}

// skipOutsideCI skips for why, except in CI (CI=true), where a missing
// capability of the machine must fail the run.
func skipOutsideCI(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI=true: refusing to skip", why)
	}
	t.Skip(why)
}

// readTruth returns the lines a driver wrote about its own calls.
func readTruth(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading truth: %v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// describe renders an event like the driver's truth lines.
func describe(e trace.Event) string {
	if e.Flags&trace.FlagReturn != 0 {
		return fmt.Sprintf("%d %s %d %d %d", e.Pid, e.Kind, e.Comm, e.Rank, e.NRanks)
	}
	return fmt.Sprintf("%d %s %d %d %d %d %d %d %d %d %d", e.Pid, e.Kind, e.Count, int32(e.DataType),
		int32(e.RedOp), e.Peer, e.Comm, e.Stream, e.SendBuff, e.RecvBuff, e.GroupDepth)
}

func describeAll(events []trace.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = describe(e)
	}
	return out
}

// testConfig records into a fresh folder with small, fast settings.
func testConfig(t *testing.T) Config {
	return Config{Dir: filepath.Join(t.TempDir(), "rec"), Children: true,
		Probe: ProbeOptions{RingBytes: 1 << 20}}
}

func record(t *testing.T, cfg Config, timeout time.Duration) (*Summary, *trace.Trace) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sum, err := Record(ctx, cfg)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	tr, err := trace.Load(cfg.Dir)
	if err != nil {
		t.Fatalf("loading trace: %v", err)
	}
	return sum, tr
}

func env(kv ...string) []string { return append(os.Environ(), kv...) }

func diffLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Fatalf("event %d differs (got %d events, want %d):\n got  %q\n want %q", i, len(got), len(want), g, w)
		}
	}
}
