package merge

import (
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/internal/phasetruth"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// phaseMix is a real recording of 2 ranks on 2 H200s (pids 664 and 665,
// GPUs 0 and 1, launched under linkprof: every communicator's creation
// seen; pipeline/testdata, docs/validation.md).
var phaseMix = filepath.Join("..", "pipeline", "testdata", "h200-phasemix-launch")

// The phase mix recorded as if each rank had been on a host of its own
// with its own monotonic clock (host a's 1000 s ahead of the machine's,
// host b's 3.7 s ahead of that, or 41 days behind), merged back.
//
// By the collectives rule, host b's offset from host a is recovered within
// the error bound the rule promises (docs/design.md, "Merging hosts"),
// measured on the recording itself; by the wall clocks (one machine: they
// agree), to the clock pairs' microseconds; auto takes the wall clocks,
// unless host b's is 1 s off, when it takes the collectives. Either way
// the merged analysis counts what the recording's own does: every op's
// calls and payload exactly, the communicator's collectives all matched
// across the hosts, each GPU and process under its host, each rank's
// profile samples labelled with its host. Placed by the wall clocks, it
// attributes the link bytes as the recording's own analysis does, every op
// within 0.5% of the phases' own counters (TestH200PhaseMix); by the
// collectives it is only as good as the rule's error allows (logged: bytes
// a collective moved before its last rank arrived, by the merged clocks,
// go unattributed).
func TestMergeRecoversHostClocks(t *testing.T) {
	orig := reportschema.Run(t, phaseMix, correlate.Options{}).Report
	bound := arrivalBound(t, phaseMix, 664, 665)
	t.Logf("error bound: more than half the collectives had the ranks enqueue within %d ns", bound)
	const a, wallTol = 1000_000_000_000, 10_000
	for _, c := range []struct {
		clock, want string
		wallOff     int64 // host b's wall clock ahead of a's
	}{
		{ClockCollectives, ClockCollectives, 0}, {ClockWall, ClockWall, 0},
		{ClockAuto, ClockWall, 0}, {ClockAuto, ClockCollectives, 1_000_000_000},
	} {
		for _, d := range []int64{3_700_000_123, -41 * 24 * 3600 * 1_000_000_000} {
			dirs := split(t, phaseMix, func(pid uint32) int { return map[bool]int{true: 1}[pid == 665] },
				[]int64{a, a + d}, []int64{0, c.wallOff})
			out := filepath.Join(t.TempDir(), "merged")
			hosts, err := Merge(Options{Dirs: dirs, Out: out, Clock: c.clock})
			if err != nil {
				t.Fatal(err)
			}
			h := hosts[1]
			tol := map[string]int64{ClockCollectives: bound, ClockWall: wallTol}[c.want]
			if got := h.OffsetNs; h.Clock != c.want || got < d-tol || got > d+tol {
				t.Errorf("--clock %s: host b's clock %d ns ahead of a's, placed %d ns ahead by the %s (error %d ns, bound %d); want the %s",
					c.clock, d, got, h.Clock, got-d, tol, c.want)
			}
			t.Logf("--clock %s, shift %d ns: by the %s %d (error %d ns) from %d collectives, arrivals then %d ns apart (spread %d), wall clocks %d ns",
				c.clock, d, h.Clock, h.OffsetNs, h.OffsetNs-d, h.Collectives, h.CollectiveSkewNs, h.SpreadNs, h.WallSkewNs)
			out1 := reportschema.Run(t, out, correlate.Options{})
			checkSameAnalysis(t, orig, out1.Report, c.want == ClockWall)
			checkHosts(t, out1.Report, dirs)
			for _, s := range out1.Profile.Sample {
				if pid := s.NumLabel["pid"]; len(pid) == 1 && s.Label["host"][0] != map[bool]string{false: "vm", true: "vm#2"}[pid[0] == int64(trace.MergedPid(1, 665))] {
					t.Errorf("profile sample of pid %d labelled host %q", pid[0], s.Label["host"])
				}
			}
		}
	}
}

// checkSameAnalysis compares a merged report with the recording's own.
func checkSameAnalysis(t *testing.T, orig, merged *report.Report, bytes bool) {
	t.Helper()
	tr, err := trace.Load(phaseMix)
	if err != nil {
		t.Fatal(err)
	}
	ph, err := phasetruth.Load(filepath.Join(phaseMix, "phases.json"))
	if err != nil {
		t.Fatal(err)
	}
	truth := ph.Measure(tr.Samples)
	for i, o := range merged.Ops {
		want := orig.Ops[i]
		if o.Op != want.Op || o.Calls != want.Calls || o.PayloadBytes != want.PayloadBytes {
			t.Errorf("%s: %d calls, %d bytes; the recording's own analysis %d, %d", o.Op, o.Calls, o.PayloadBytes, want.Calls, want.PayloadBytes)
		}
		if w := truth[o.Op]; w > 0 {
			e := float64(o.TxBytes)/w - 1
			if bytes && math.Abs(e) > 0.005 {
				t.Errorf("%s: attributed %d bytes, the phases moved %.0f", o.Op, o.TxBytes, w)
			}
			t.Logf("  %s: attributed %+.2f%% of the phases' bytes", o.Op, 100*e)
		}
	}
	if len(merged.Arrivals.Comms) != 1 || len(orig.Arrivals.Comms) != 1 {
		t.Fatalf("arrivals %+v, the recording's %+v: want one communicator", merged.Arrivals.Comms, orig.Arrivals.Comms)
	}
	m, o := merged.Arrivals.Comms[0], orig.Arrivals.Comms[0]
	if m.Collectives != o.Collectives || m.RanksRecorded != 2 || m.Unmatched != o.Unmatched {
		t.Errorf("communicator %s: %d collectives matched (%d unmatched) of %d ranks; the recording's %d (%d)",
			m.Comm, m.Collectives, m.Unmatched, m.RanksRecorded, o.Collectives, o.Unmatched)
	}
}

// checkHosts: host a's GPU 0 stays 0; host b's GPU 1 (its GPUs 0-1) is
// merged GPU 2; each rank's process keeps its pid under its host.
func checkHosts(t *testing.T, r *report.Report, dirs []string) {
	t.Helper()
	if len(r.Hosts) != 2 || r.Hosts[0].Name != "vm" || r.Hosts[1].Name != "vm#2" || r.Hosts[1].Folder != dirs[1] {
		t.Fatalf("hosts %+v", r.Hosts)
	}
	var gpus []string
	for _, g := range r.GPUs {
		gpus = append(gpus, g.Host+":"+strconv.Itoa(*g.HostIndex)+"="+strconv.Itoa(g.Index))
	}
	if want := []string{"vm:0=0", "vm#2:1=2"}; !slices.Equal(gpus, want) {
		t.Errorf("GPUs %q, want %q", gpus, want)
	}
	for _, p := range r.Processes {
		want := map[uint32]string{664: "vm:0:0", 665: "vm#2:1:2"}[p.HostPid]
		if got := p.Host + ":" + strconv.Itoa(p.Rank) + ":" + strconv.Itoa(p.GPU); want != "" && got != want {
			t.Errorf("process %d (%d on %s): host:rank:gpu %s, want %s", p.Pid, p.HostPid, p.Host, got, want)
		}
	}
}

// arrivalBound is the clock rule's bound for two processes of one machine
// (docs/design.md): the smallest B such that in more than half of their
// communicators' collectives the two enqueued within B of each other.
func arrivalBound(t *testing.T, dir string, a, b uint32) int64 {
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := arrivals.NewMatcher()
	m.Keep = true
	var diffs []int64
	m.Closed = func(c *arrivals.Collective) {
		var ta, tb int64
		for _, call := range c.Calls {
			switch call.Member.Pid {
			case a:
				ta = int64(call.Ev.TsNs)
			case b:
				tb = int64(call.Ev.TsNs)
			}
		}
		diffs = append(diffs, max(ta-tb, tb-ta))
	}
	for i := range tr.Events {
		m.Observe(&tr.Events[i], 0)
	}
	if len(diffs) == 0 {
		t.Fatal("no collective matched")
	}
	slices.Sort(diffs)
	return diffs[len(diffs)/2]
}

// The phase mix recorded by attaching to its running ranks (no
// communicator's creation seen), split into two hosts as above: the
// ranks' calls on their main communicator agree call for call at offset
// +0 (one recorder attached to both), so it is matched by its calls
// (noted), and the collectives rule places host b within the bound
// measured on the recording (the median of how far apart the ranks began
// the matched calls); auto takes the wall clocks, which agree, and so
// does --clock wall. The merged analysis counts every op's calls and
// payload as the recording's own, its link bytes within 0.5% of the
// phases' counters.
func TestMergeAttachedRecordings(t *testing.T) {
	src := filepath.Join("..", "pipeline", "testdata", "h200-phasemix-attach")
	orig := reportschema.Run(t, src, correlate.Options{}).Report
	tr, err := trace.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	var second uint32 // the rank on GPU 1
	for _, p := range tr.Processes {
		if p.GPU == 1 {
			second = p.Pid
		}
	}
	const d = 3_700_000_123
	dirs := split(t, src, func(pid uint32) int { return map[bool]int{true: 1}[pid == second] }, []int64{0, d}, nil)
	bound, n := attachedBound(tr)
	for _, c := range []struct{ clock, want string }{{ClockCollectives, ClockCollectives}, {ClockAuto, ClockWall}, {ClockWall, ClockWall}} {
		out := filepath.Join(t.TempDir(), "m")
		hosts, err := Merge(Options{Dirs: dirs, Out: out, Clock: c.clock})
		if err != nil {
			t.Fatal(err)
		}
		tol := map[string]int64{ClockCollectives: bound, ClockWall: 10_000}[c.want]
		if h := hosts[1]; h.Clock != c.want || h.Collectives != n || h.OffsetNs < d-tol || h.OffsetNs > d+tol {
			t.Errorf("--clock %s: host b %+v: want placed %d ns ahead (within %d) by the %s, %d collectives shared", c.clock, h, int64(d), tol, c.want, n)
		}
		m, err := trace.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Notes) < 1 || !strings.Contains(m.Notes[len(m.Notes)-1].Text, "at call offset +0 (by its calls: 100% of 512 agree, no other offset does)") {
			t.Errorf("--clock %s: notes %+v, want the match by its calls", c.clock, m.Notes)
		}
	}
	t.Logf("collectives rule bound: %d ns from %d collectives", bound, n)
	out := filepath.Join(t.TempDir(), "merged")
	if _, err := Merge(Options{Dirs: dirs, Out: out, Clock: ClockWall}); err != nil {
		t.Fatal(err)
	}
	merged := reportschema.Run(t, out, correlate.Options{}).Report
	ph, err := phasetruth.Load(filepath.Join(src, "phases.json"))
	if err != nil {
		t.Fatal(err)
	}
	truth := ph.Measure(tr.Samples)
	for i, o := range merged.Ops {
		if w := orig.Ops[i]; o.Calls != w.Calls || o.PayloadBytes != w.PayloadBytes {
			t.Errorf("%s: %d calls, %d bytes; the recording's own %d, %d", o.Op, o.Calls, o.PayloadBytes, w.Calls, w.PayloadBytes)
		}
		if w := truth[o.Op]; w > 0 && math.Abs(float64(o.TxBytes)/w-1) > 0.005 {
			t.Errorf("%s: attributed %d bytes, the phases moved %.0f", o.Op, o.TxBytes, w)
		}
	}
}

// attachedBound is the collectives rule's bound for the attached phase
// mix: the median of how far apart its two ranks began each collective
// of their busiest communicator (both recorded from one attach, so call i
// is call i on both), and how many collectives that is.
func attachedBound(tr *trace.Trace) (int64, int) {
	calls := map[[2]uint64][]int64{}
	for _, e := range tr.Events {
		if arrivals.Matchable(e.Kind) {
			k := [2]uint64{uint64(e.Pid), e.Comm}
			calls[k] = append(calls[k], int64(e.TsNs))
		}
	}
	var busiest [][]int64
	for _, v := range calls {
		if len(v) >= minOverlap {
			busiest = append(busiest, v)
		}
	}
	if len(busiest) != 2 || len(busiest[0]) != len(busiest[1]) {
		return 0, 0
	}
	diffs := make([]int64, len(busiest[0]))
	for i := range diffs {
		diffs[i] = max(busiest[0][i]-busiest[1][i], busiest[1][i]-busiest[0][i])
	}
	return median(diffs), len(diffs)
}
