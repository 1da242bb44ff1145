package merge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// rank is one process of a synthetic recording: its pid, and the
// communicator it creates (unique id, rank, size).
type rank struct {
	pid          uint32
	uid          uint64
	rank, nranks int32
}

// writeHost writes a recording of host name's ranks, each creating its
// communicator and then making calls all-reduces 1 ms apart from t0 (its
// host's clock), and extra records of a type no linkprof defines.
func writeHost(t *testing.T, name string, t0 int64, calls, extra int, ranks ...rank) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	start := trace.Clock{Source: "start", MonoNs: t0 - 1_000_000, WallNs: 1_800_000_000_000_000_000}
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "linkprof", Host: name, Clock: start})
	for _, r := range ranks {
		w.WriteJSON(trace.RecProcess, trace.Process{Pid: r.pid, Comm: "train", Rank: -1, LocalRank: -1, WorldSize: -1, GPU: -1})
		ev := trace.Event{TsNs: uint64(t0) - 500_000, Pid: r.pid, Tid: r.pid, Kind: trace.CommInitRank, Flags: trace.FlagReturn,
			Comm: 0xc0 + uint64(r.pid), SendBuff: r.uid, Rank: r.rank, NRanks: r.nranks, StackID: -1}
		w.WriteEvents(trace.AppendEvent(nil, ev))
	}
	for i := range calls {
		for _, r := range ranks {
			ev := trace.Event{TsNs: uint64(t0 + int64(i)*1_000_000), Pid: r.pid, Tid: r.pid, Kind: trace.AllReduce,
				Comm: 0xc0 + uint64(r.pid), Count: 1024, DataType: 7, StackID: -1, Peer: -1, Rank: -1, NRanks: -1}
			w.WriteEvents(trace.AppendEvent(nil, ev))
		}
	}
	for range extra {
		w.WriteRaw(99, []byte("{}"))
	}
	stop := trace.Clock{Source: "stop", MonoNs: t0 + int64(calls)*1_000_000, WallNs: start.WallNs + int64(calls+1)*1_000_000}
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: stop, Reason: "duration"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// What cannot be merged is refused with one line naming the folder and
// what to do, and leaves no merged trace behind.
func TestMergeRefusesWhatIsNotOneJob(t *testing.T) {
	jobA := writeHost(t, "a", 5e9, 50, 0, rank{1, 0xaaa, 0, 2})
	jobA2 := writeHost(t, "b", 7e9, 50, 0, rank{1, 0xaaa, 1, 2})
	other := writeHost(t, "c", 9e9, 50, 0, rank{1, 0xbbb, 1, 2})
	late := writeHost(t, "d", 9e9, 0, 0) // attached after the communicators were made: nothing to match
	notRec := t.TempDir()
	os.WriteFile(filepath.Join(notRec, "notes.txt"), []byte("hello"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"unrelated job", Options{Dirs: []string{jobA, other}}, other + " (host c) shares no collective with " + jobA + ": are they recordings of one job?"},
		{"no communicator", Options{Dirs: []string{jobA, jobA2, late}}, late + " (host d) shares no collective"},
		{"not a recording", Options{Dirs: []string{jobA, notRec}}, "is it a linkprof recording?"},
		{"missing folder", Options{Dirs: []string{jobA, notRec + "/gone"}}, "gone: no such file or directory"},
		{"one folder", Options{Dirs: []string{jobA}}, "merge needs two recordings or more"},
		{"twice", Options{Dirs: []string{jobA, jobA2, jobA + "/"}}, "is given twice"},
		{"output is an input", Options{Dirs: []string{jobA, jobA2}, Out: jobA2}, "the output folder " + jobA2 + " is one of the recordings"},
		{"clock rule", Options{Dirs: []string{jobA, jobA2}, Clock: "ntp"}, `unknown clock rule "ntp"`},
	} {
		if c.opts.Out == "" {
			c.opts.Out = out
		}
		_, err := Merge(c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.name, err, c.want)
		}
		if _, err := os.Stat(filepath.Join(out, trace.FileName)); err == nil {
			t.Errorf("%s: a merged trace was left behind", c.name)
		}
	}
}

// Two hosts' ranks of one communicator, host b's clock 2 s ahead of a's:
// the merged trace has both ranks' calls under their hosts' pids (both
// were pid 1), host b's times on a's clock, one Start listing the hosts,
// one Stop summing them, and a note for the records of a type no merge
// rule covers, which are left out.
func TestMergedTraceQualifiesEveryRecord(t *testing.T) {
	a := writeHost(t, "a", 5e9, 40, 0, rank{1, 0xaaa, 0, 2})
	b := writeHost(t, "b", 7e9, 40, 3, rank{1, 0xaaa, 1, 2})
	out := filepath.Join(t.TempDir(), "out")
	hosts, err := Merge(Options{Dirs: []string{a, b}, Out: out, Clock: ClockCollectives})
	if err != nil {
		t.Fatal(err)
	}
	if hosts[1].OffsetNs != 2e9 || hosts[1].Collectives != 40 || hosts[1].SpreadNs != 0 {
		t.Errorf("host b: %+v, want 2 s ahead from 40 collectives, no spread", hosts[1])
	}
	tr, err := trace.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Start.Hosts) != 2 || tr.Start.Host != "a,b" || tr.Stop == nil || tr.Stop.Reason != "duration" {
		t.Errorf("start %+v, stop %+v", tr.Start, tr.Stop)
	}
	calls := map[uint32][]uint64{}
	for _, e := range tr.Events {
		if e.Kind == trace.AllReduce {
			calls[e.Pid] = append(calls[e.Pid], e.TsNs)
		}
	}
	pb := trace.MergedPid(1, 1)
	if len(calls[1]) != 40 || len(calls[pb]) != 40 || calls[pb][7] != calls[1][7] {
		t.Errorf("calls by pid: %d of pid 1, %d of pid %d; the 8th at %v and %v", len(calls[1]), len(calls[pb]), pb,
			calls[1][7:8], calls[pb][7:8])
	}
	var hostOf []string
	for _, p := range tr.Processes {
		hostOf = append(hostOf, p.Host)
	}
	if strings.Join(hostOf, ",") != "a,b" {
		t.Errorf("processes' hosts %q", hostOf)
	}
	if len(tr.Notes) != 1 || !strings.Contains(tr.Notes[0].Text, "host b: records the merge has no rule for were left out (3 of type 99)") {
		t.Errorf("notes %+v", tr.Notes)
	}
}
