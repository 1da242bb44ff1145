package merge

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// attachedHost writes a recording whose recorder attached to a running
// rank (pid 7, communicator 0xc7): no creation, its all-reduces from the
// job's call number from to 299, one every millisecond of the job's time,
// count(i) elements each. Its monotonic clock reads the job's time plus
// mono, its wall clock the job's time plus wall; noWall: its clock pairs
// carry no wall time.
func attachedHost(t *testing.T, name string, from int, count func(int) uint64, mono, wall int64, noWall bool) string {
	t.Helper()
	const calls, w0 = 300, 1_800_000_000_000_000_000
	dir := filepath.Join(t.TempDir(), name)
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	pair := func(src string, at int64) trace.Clock {
		c := trace.Clock{Source: src, MonoNs: mono + at, WallNs: w0 + wall + at}
		if noWall {
			c.WallNs = 0
		}
		return c
	}
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "linkprof", Host: name, Clock: pair("start", int64(from)*1e6-1e6)})
	w.WriteJSON(trace.RecProcess, trace.Process{Pid: 7, Comm: "train", Rank: -1, LocalRank: -1, WorldSize: -1, GPU: -1})
	for i := from; i < calls; i++ {
		ev := trace.Event{TsNs: uint64(mono + int64(i)*1e6), Pid: 7, Tid: 7, Kind: trace.AllReduce, Comm: 0xc7,
			Count: count(i), DataType: 7, StackID: -1, Peer: -1, Rank: -1, NRanks: -1}
		w.WriteEvents(trace.AppendEvent(nil, ev))
	}
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: pair("stop", calls*1e6), Reason: "targets-exited"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func hashed(i int) uint64 { return 1024 + uint64((uint32(i)*2654435761)>>24%61) }
func same(int) uint64     { return 1024 }

// Two recorders attached to one running job 37 calls apart, host b's
// monotonic clock 2 s ahead: varied calls are matched by their calls at
// offset +37, and the collectives rule places b exactly; identical calls
// agree at every offset, so the wall clocks choose (they agree: +37; they
// disagree by half a call period, or there are none: refused, one line
// naming --clock wall); a job making other calls is no match.
func TestMergeAttachedByCallSequence(t *testing.T) {
	const ahead = 2_000_000_000
	for _, c := range []struct {
		name     string
		count    func(int) uint64
		otherJob bool
		wall     int64 // host b's wall clock ahead of a's
		noWall   bool
		note     string // the match's note, or the refusal
	}{
		{"varied calls", hashed, false, 0, false, "at call offset +37 (by its calls: 100% of 263 agree, no other offset does)"},
		{"identical calls, wall clocks agree", same, false, 40_000, false,
			"at call offset +37 (by the wall clocks among 532 offsets where its calls agree: its calls 39.9 µs from the other's, 960 µs at the next best (+38))"},
		{"identical calls, wall clocks half a call apart", same, false, 500_000, false,
			"agrees with host a's pid 7 (communicator 0xc7, first call AllReduce) at 532 call offsets (+38 +37 +39 +36 ...) " +
				"and the wall clocks do not tell them apart (their calls 500 µs apart at +37, 500 µs at +38)"},
		{"identical calls, no wall clocks", same, false, 0, true, "at 532 call offsets (-247 -246 -245 -244 ...) and a recording has no wall clock to choose"},
		{"another job", hashed, true, 0, false, "shares no collective with"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.count
			if c.otherJob {
				b = func(i int) uint64 { return hashed(i + 1000) }
			}
			dirs := []string{attachedHost(t, "a", 0, c.count, 5e9, 0, c.noWall), attachedHost(t, "b", 37, b, 5e9+ahead, c.wall, c.noWall)}
			out := filepath.Join(t.TempDir(), "m")
			hosts, err := Merge(Options{Dirs: dirs, Out: out, Clock: ClockCollectives})
			if strings.HasPrefix(c.note, "at call offset") {
				checkAttachedMatch(t, hosts, err, out, c.note)
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.note) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("merge: %v, want one line with %q", err, c.note)
			}
			if !c.otherJob && (!strings.Contains(err.Error(), "shares no collective") || !strings.HasSuffix(err.Error(), "--clock wall")) {
				t.Errorf("merge: %v, want a refusal ending in --clock wall", err)
			}
		})
	}
}

// checkAttachedMatch: host b is placed exactly 2 s ahead from the 263
// collectives both saw, and the merged trace notes the match.
func checkAttachedMatch(t *testing.T, hosts []trace.Host, err error, out, note string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if h := hosts[1]; h.Clock != ClockCollectives || h.OffsetNs != 2_000_000_000 || h.Collectives != 263 {
		t.Errorf("host b %+v: want placed 2 s ahead by 263 collectives", h)
	}
	tr, err := trace.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "merge: host b's pid 7 (communicator 0xc7, first call AllReduce), created before the recorders attached, " +
		"matched host a's pid 7 (communicator 0xc7, first call AllReduce) " + note
	if len(tr.Notes) != 1 || tr.Notes[0].Text != want {
		t.Errorf("notes %+v\nwant %q", tr.Notes, want)
	}
}

// BenchmarkMatchAttached: 8 hosts of 8 ranks, each rank with two attached
// communicators of 100,000 calls (one varied, one a loop of identical
// calls the wall clocks must settle), each host attached 50 calls after
// the one before.
func BenchmarkMatchAttached(b *testing.B) {
	const hostsN, ranks, calls = 8, 8, 100_000
	var recs []*recording
	for h := range hostsN {
		r := &recording{dir: string(rune('a' + h)), members: map[handleKey]*member{}, attached: map[handleKey]*attachedComm{}}
		r.clocks.Add(trace.Clock{MonoNs: 1, WallNs: 1e18})
		r.clocks.Add(trace.Clock{MonoNs: 1e12, WallNs: 1e18 + 1e12})
		for p := range ranks {
			for c, count := range []func(int) uint64{hashed, same} {
				for i := 50 * h; i < calls; i++ {
					ev := trace.Event{Kind: trace.AllReduce, DataType: 7, Peer: -1, Count: count(i), TsNs: uint64(1e9 + 2*i*1e6 + c*1e6)}
					r.attachedCall(handleKey{uint32(p + 1), uint64(c)}, &ev)
				}
			}
		}
		recs = append(recs, r)
	}
	b.ResetTimer()
	for range b.N {
		hosts := newHosts(recs)
		matchAttached(hosts)
		if n := len(hosts[hostsN-1].notes); n != 2*ranks {
			b.Fatalf("last host: %d notes, want %d matches: %v", n, 2*ranks, hosts[hostsN-1].notes)
		}
	}
}
