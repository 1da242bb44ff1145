package profiler

import (
	"fmt"
	"hash/fnv"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/profiler/fakenccl"
	"github.com/linkprof/linkprof/trace"
)

var (
	symmProgsOnce sync.Once
	symmProgs     *fakenccl.SymmPrograms
	symmProgsErr  error
)

// buildSymmProgs builds the symmetric memory fakes beside the graph ones, once.
func buildSymmProgs(t *testing.T) *fakenccl.SymmPrograms {
	t.Helper()
	g := buildGraphProgs(t)
	symmProgsOnce.Do(func() { symmProgs, symmProgsErr = fakenccl.BuildSymmMem(progs, g) })
	if symmProgsErr != nil {
		t.Fatalf("building symmetric memory fakes: %v", symmProgsErr)
	}
	return symmProgs
}

// recordSymmDriver runs symm-driver (two ranks) under the recorder.
func recordSymmDriver(t *testing.T, rounds, replays int) (string, *trace.Trace, []string) {
	t.Helper()
	requirePrivileges(t)
	s := buildSymmProgs(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{s.Driver, fmt.Sprint(rounds), fmt.Sprint(replays)}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	sum, tr := record(t, cfg, 30*time.Second)
	if sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("symm-driver exit %v", sum.ExitStatus)
	}
	if tr.Lost != 0 {
		t.Fatalf("lost %d events", tr.Lost)
	}
	return cfg.Dir, tr, readTruth(t, truth)
}

// groupHash is the comm a group name is recorded as: FNV-1a of its first
// 64 bytes (LP_GROUP_NAME_MAX), computed here independently of the probe.
func groupHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name[:min(len(name), 64)]))
	return h.Sum64()
}

// symmLines renders each rank's symmetric memory events, and the truth's
// calls, as "KIND COMM COUNT DTYPE FLAGS STREAM" per pid.
func symmLines(tr *trace.Trace) map[uint32][]string {
	out := map[uint32][]string{}
	for _, e := range tr.Events {
		if e.Kind.Path() == "symm-mem" {
			out[e.Pid] = append(out[e.Pid], fmt.Sprintf("%s %#x %d %d %d %d", e.Kind, e.Comm, e.Count, int32(e.DataType), e.Flags, e.Stream))
		}
	}
	return out
}

func truthSymmLines(t *testing.T, truth []string) map[uint32][]string {
	out := map[uint32][]string{}
	for _, l := range truth {
		var pid uint32
		var kind, group string
		var count uint64
		var dtype int
		if strings.Contains(l, " launches ") {
			continue
		}
		if _, err := fmt.Sscanf(l, "%d %s %s %d %d", &pid, &kind, &group, &count, &dtype); err != nil {
			t.Fatalf("truth line %q: %v", l, err)
		}
		out[pid] = append(out[pid], fmt.Sprintf("%s %#x %d %d %d 0", kind, groupHash(group), count, dtype, trace.FlagCommName))
	}
	return out
}

// Every symmetric memory operator call of both ranks is one event, in call
// order, with its size and dtype read from the right tensor, its group's
// name hashed into comm (short, heap-allocated and over-long names), and
// no stream: calls through an entry's _impl helper, and the multicast
// one-shot's call of its _out twin, count once; a same-named function
// outside the anonymous namespace is not probed.
func TestSymmMemCallsRecordedExactly(t *testing.T) {
	const rounds, replays = 3, 4
	_, tr, truth := recordSymmDriver(t, rounds, replays)
	got, want := symmLines(tr), truthSymmLines(t, truth)
	if len(want) != 2 {
		t.Fatalf("truth names %d ranks, want 2", len(want))
	}
	for pid, w := range want {
		if len(w) != rounds*11+2 { // eleven operator calls a round, two captured
			t.Fatalf("pid %d: the driver made %d calls, want %d", pid, len(w), rounds*11+2)
		}
		diffLines(t, got[pid], w)
	}
	if len(got) != len(want) {
		t.Errorf("events from %d processes, truth from %d", len(got), len(want))
	}
}

// The library is probed as extra, on the operators alone: not on the _impl
// helpers (each call would count twice), the .cold clones, the multicast
// one-shot that calls its _out twin, or other::one_shot_all_reduce.
func TestSymmMemProbedSymbols(t *testing.T) {
	_, tr, _ := recordSymmDriver(t, 1, 1)
	var lib *trace.Library
	for i, l := range tr.Libraries {
		if strings.HasSuffix(l.Path, "/torch/lib/libtorch_cuda.so") {
			lib = &tr.Libraries[i]
		}
	}
	if lib == nil || lib.Role != "extra" {
		t.Fatalf("libtorch_cuda.so not probed as extra: %+v", lib)
	}
	var names []string
	for _, sym := range lib.Probed {
		name, _, _ := strings.Cut(strings.TrimPrefix(demangle.Filter(sym), "(anonymous namespace)::"), "(")
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{"multimem_all_gather_out", "multimem_all_reduce_", "multimem_one_shot_all_reduce_out",
		"one_shot_all_reduce", "one_shot_all_reduce_copy", "one_shot_all_reduce_copy_out", "one_shot_all_reduce_out",
		"reduce_scatter_out", "two_shot_all_reduce_", "two_shot_all_reduce_out"}
	if !slices.Equal(names, want) {
		t.Errorf("probed %v, want %v", names, want)
	}
}

// Calls made while their thread's capture is open are captured, not
// executed, and run again at every launch; the analysis sizes each call's
// group by the two ranks seen calling on it (no communicator, no
// environment says so) and gives it its peer-to-peer bytes.
func TestSymmMemGraphReplaysExpanded(t *testing.T) {
	const rounds, replays = 2, 5
	dir, tr, _ := recordSymmDriver(t, rounds, replays)
	calls, gs := graphs.Expand(tr.Events)
	executed, captured := map[string]int{}, map[string]int{}
	for _, c := range calls {
		switch {
		case c.Executed():
			executed[c.Event.Kind.Op()]++
		case c.Phase == graphs.Capture:
			captured[c.Event.Kind.Op()]++
		}
	}
	const ranks = 2
	wantExec := map[string]int{
		"SymmMemOneShotAllReduce": ranks * (rounds*6 + replays),
		"SymmMemTwoShotAllReduce": ranks * (rounds*3 + replays),
		"SymmMemReduceScatter":    ranks * rounds,
		"SymmMemAllGather":        ranks * rounds,
	}
	if !maps.Equal(executed, wantExec) {
		t.Errorf("executed %v, want %v", executed, wantExec)
	}
	wantCapt := map[string]int{"SymmMemOneShotAllReduce": ranks, "SymmMemTwoShotAllReduce": ranks}
	if !maps.Equal(captured, wantCapt) {
		t.Errorf("captured %v, want %v", captured, wantCapt)
	}
	if len(gs) != ranks || gs[0].Launches != replays || gs[1].Launches != replays {
		t.Errorf("graphs %+v, want one per rank launched %d times", gs, replays)
	}
	checkSymmAnalysis(t, dir, wantExec)
}

// checkSymmAnalysis analyzes the recording: every executed call counted,
// on a group of 2, expecting its peer-to-peer bytes.
func checkSymmAnalysis(t *testing.T, dir string, wantExec map[string]int) {
	t.Helper()
	var sink callSink
	if _, err := correlate.Analyze(dir, correlate.Options{NoCalibrate: true}, &sink); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range sink {
		if c.Phase == graphs.Capture {
			continue
		}
		got[c.Kind.Op()]++
		if c.NRanks != 2 {
			t.Errorf("%s of %d bytes: group of %d, want 2", c.Kind, c.Payload, c.NRanks)
		}
		w := correlate.RingWire(c.Kind, c.Payload, -1, 2, -1)
		if c.ExpTx != w.Tx || c.ExpRx != w.Rx || w.Tx == 0 {
			t.Errorf("%s of %d bytes: expects %.0f/%.0f bytes, the model says %.0f/%.0f", c.Kind, c.Payload, c.ExpTx, c.ExpRx, w.Tx, w.Rx)
		}
	}
	if !maps.Equal(got, wantExec) {
		t.Errorf("analysis counted %v, want %v", got, wantExec)
	}
}

type callSink []correlate.Call

func (s *callSink) Call(c *correlate.Call)       { *s = append(*s, *c) }
func (s *callSink) Interval(*correlate.Interval) {}
func (s *callSink) Burst(*correlate.Burst)       {}
