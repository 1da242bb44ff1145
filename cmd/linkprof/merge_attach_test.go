package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// attachedJob is a 4-rank fake NCCL job already running when two
// recorders attach to it, ranks 0-1 ("host" a) first, ranks 2-3 (host b)
// a moment later, so neither sees a communicator created and their calls
// are numbered from different iterations. ids: JOB_IDS; vary: JOB_VARY.
type attachedJob struct {
	recs  []string
	truth string
	iters int
}

func recordAttachedJob(t *testing.T, ids string, vary bool) attachedJob {
	t.Helper()
	const iters = 1500
	dir := t.TempDir()
	j := attachedJob{recs: []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")},
		truth: filepath.Join(dir, "truth"), iters: iters}
	barrier := filepath.Join(dir, "barrier")
	if err := os.WriteFile(barrier, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"JOB_IDS=" + ids, "JOB_BARRIER=" + barrier, "DRIVER_TRUTH=" + j.truth, "JOB_PAUSE_US=2000",
		"JOB_VARY=" + map[bool]string{true: "1", false: "0"}[vary]}
	job := startProcess(t, env, fake.Job, "4", strconv.Itoa(iters))
	pids := waitRanks(t, j.truth, 4)
	var recorders []*exec.Cmd
	for h, rec := range j.recs {
		cmd := exec.Command(linkprofBin, "record", "--no-nvml", "--no-analyze", "-o", rec,
			"-p", fmt.Sprint(pids[2*h]), "-p", fmt.Sprint(pids[2*h+1]))
		cmd.Env = withoutSudo(os.Environ())
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		recorders = append(recorders, cmd)
		waitAttached(t, cmd.Process.Pid)
		time.Sleep(300 * time.Millisecond) // a few hundred iterations apart
	}
	for _, cmd := range recorders {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("recording: %v", err)
		}
	}
	if err := job.Wait(); err != nil {
		t.Fatalf("job: %v", err)
	}
	return j
}

// waitRanks reads the ranks' pids from the job's truth file once all n
// wrote them.
func waitRanks(t *testing.T, truth string, n int) map[int]uint32 {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		data, _ := os.ReadFile(truth)
		pids := map[int]uint32{}
		for _, l := range strings.Split(string(data), "\n") {
			var r int
			var pid uint32
			if k, _ := fmt.Sscanf(l, "rank %d %d", &r, &pid); k == 2 {
				pids[r] = pid
			}
		}
		if len(pids) == n {
			return pids
		}
	}
	t.Fatalf("the job's %d ranks never all started", n)
	return nil
}

// jobCalls is the job's own record: each rank's pid, and when it made
// each call ("call" on the world, "gcall" on its group), by iteration.
type jobCalls struct {
	pids map[int]uint32
	at   map[string]map[int][]int64 // kind, rank: times by iteration
}

func readJobCalls(t *testing.T, path string) jobCalls {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j := jobCalls{pids: map[int]uint32{}, at: map[string]map[int][]int64{"call": {}, "gcall": {}}}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var kind string
		var r, i int
		var ns int64
		if k, _ := fmt.Sscanf(l, "rank %d %d", &r, &i); k == 2 {
			j.pids[r] = uint32(i)
		} else if k, _ := fmt.Sscanf(l, "%s %d %d %d", &kind, &r, &i, &ns); k == 4 && i == len(j.at[kind][r]) {
			j.at[kind][r] = append(j.at[kind][r], ns)
		} else {
			t.Fatalf("truth line %q", l)
		}
	}
	return j
}

// firstSeen is the iteration of the first call of kind (AllReduce: the
// world's, AllGather: the group's) a rank's recorder saw: the last the job
// began before that call's recorded time.
func (j jobCalls) firstSeen(t *testing.T, rec string, rank int, kind trace.Kind) int {
	t.Helper()
	tr, err := trace.Load(rec)
	if err != nil {
		t.Fatal(err)
	}
	truthKind := map[trace.Kind]string{trace.AllReduce: "call", trace.AllGather: "gcall"}[kind]
	for _, e := range tr.Events {
		if e.Pid == j.pids[rank] && e.Kind == kind {
			at := j.at[truthKind][rank]
			i, _ := slices.BinarySearch(at, int64(e.TsNs))
			return i - 1
		}
	}
	t.Fatalf("%s: rank %d made no %v", rec, rank, kind)
	return -1
}

var matchNote = regexp.MustCompile(`host \S+'s pid (\d+) \(communicator 0x[0-9a-f]+, first call (\w+)\), created before the recorders attached, ` +
	`matched host \S+'s pid (\d+) \(communicator 0x[0-9a-f]+, first call \w+\) at call offset ([+-]\d+) \(by (its calls|the wall clocks)`)

// matches lists the merged report's notes of attached communicators
// matched, as "rank OP -> rank offset how".
func matches(rep *report.Report, j jobCalls) []string {
	rank := map[string]int{}
	for r, pid := range j.pids {
		rank[fmt.Sprint(pid)] = r
	}
	var out []string
	for _, n := range rep.Notes {
		if m := matchNote.FindStringSubmatch(n.Text); m != nil {
			out = append(out, fmt.Sprintf("%d %s -> %d %s by %s", rank[m[1]], m[2], rank[m[3]], m[4], m[5]))
		}
	}
	slices.Sort(out)
	return out
}

// A running 4-rank job, two recorders attached a few hundred iterations
// apart (no creation seen): the world's all-reduces vary their count, so
// each rank's world communicator is matched to rank 0's by its calls, at
// the offset the job's own record of its iterations gives; the two groups
// all-gather one count each, every iteration alike, so rank 2's and 3's
// are matched to ranks 0's and 1's by the wall clocks (one machine's).
// The collectives rule then places host b (one machine: offset 0) within
// its bound, and every rank's calls and payload on each communicator are
// exact.
func TestMergeRecordersAttachedAtDifferentMoments(t *testing.T) {
	requirePrivileges(t)
	job := recordAttachedJob(t, strings.Repeat("a77ac4ed", 32)+",0001,0002", true)
	j := readJobCalls(t, job.truth)
	first := map[string]int{}
	var want []string
	for r := range 4 {
		rec := job.recs[r/2]
		first[fmt.Sprint(r, "w")] = j.firstSeen(t, rec, r, trace.AllReduce)
		first[fmt.Sprint(r, "g")] = j.firstSeen(t, rec, r, trace.AllGather)
	}
	// Host a's handles are taken in pid order: the first is each
	// communicator's reference (offset 0).
	anchor := map[bool]int{true: 0, false: 1}[j.pids[0] < j.pids[1]]
	for r := range 4 {
		if r != anchor {
			want = append(want, fmt.Sprintf("%d AllReduce -> %d %+d by its calls", r, anchor, first[fmt.Sprint(r, "w")]-first[fmt.Sprint(anchor, "w")]))
		}
	}
	for r := 2; r < 4; r++ {
		want = append(want, fmt.Sprintf("%d AllGather -> %d %+d by the wall clocks", r, r-2, first[fmt.Sprint(r, "g")]-first[fmt.Sprint(r-2, "g")]))
	}
	slices.Sort(want)
	t.Logf("iterations first seen: %v", first)
	if first["2w"]-first["0w"] < 20 {
		t.Fatalf("the recorders attached %d iterations apart: too close to test offsets", first["2w"]-first["0w"])
	}
	out := filepath.Join(t.TempDir(), "merged")
	r := linkprof(t, nil, "merge", "-o", out, "--clock", "collectives", job.recs[0], job.recs[1])
	if r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	rep, err := report.Load(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := matches(rep, j); !slices.Equal(got, want) {
		t.Errorf("communicators matched %q\nwant %q", got, want)
	}
	checkAttachedClock(t, rep, j, first)
	checkAttachedTotals(t, rep, j, first, job.iters)
}

// checkAttachedClock: host b is placed by the collectives it shares, at
// most the rule's bound from 0 (one machine's clock): the median over
// the world collectives both hosts recorded of how far apart the hosts'
// ranks began them.
func checkAttachedClock(t *testing.T, rep *report.Report, j jobCalls, first map[string]int) {
	t.Helper()
	from := max(first["0w"], first["1w"], first["2w"], first["3w"])
	var diffs []int64
	for i := from; i < len(j.at["call"][0]); i++ {
		c := j.at["call"]
		d := mid([]int64{c[2][i], c[3][i]}) - mid([]int64{c[0][i], c[1][i]})
		diffs = append(diffs, max(d, -d))
	}
	bound := mid(diffs)
	h := rep.Hosts[1]
	if h.Clock != "collectives" || h.Collectives < len(diffs) || h.OffsetNs < -bound || h.OffsetNs > bound {
		t.Errorf("host b %+v: want placed by %d collectives or more within %d ns of 0", h, len(diffs), bound)
	}
	t.Logf("host b placed %d ns from a by %d collectives (bound %d ns)", h.OffsetNs, h.Collectives, bound)
}

// checkAttachedTotals: each rank's rows, one per communicator, hold
// exactly the calls its recorder saw and their payload: the world's
// 4-byte floats of 1 Mi + 256 x (a hash of i mod 61), group g's 64 Ki + 1 Ki x g
// bfloat16 per call.
func checkAttachedTotals(t *testing.T, rep *report.Report, j jobCalls, first map[string]int, iters int) {
	t.Helper()
	got := map[uint32][]string{}
	for _, c := range rep.Comms {
		_, pid := trace.SplitPid(c.Pid)
		got[pid] = append(got[pid], fmt.Sprintf("%d calls %d bytes", c.Calls, c.PayloadBytes))
	}
	for r := range 4 {
		var world uint64
		for i := first[fmt.Sprint(r, "w")]; i < iters; i++ {
			world += 4 * ((1 << 20) + 256*uint64((uint32(i)*2654435761)>>24%61))
		}
		gcalls := iters - first[fmt.Sprint(r, "g")]
		want := []string{
			fmt.Sprintf("%d calls %d bytes", iters-first[fmt.Sprint(r, "w")], world),
			fmt.Sprintf("%d calls %d bytes", gcalls, uint64(gcalls)*2*((1<<16)+1024*uint64(r%2))),
		}
		slices.Sort(want)
		slices.Sort(got[j.pids[r]])
		if !slices.Equal(got[j.pids[r]], want) {
			t.Errorf("rank %d's communicators %q, want %q", r, got[j.pids[r]], want)
		}
	}
}

// The same job making one identical all-reduce per iteration (no groups,
// no varied counts), the recorders attached a few hundred iterations
// apart: the calls agree at every offset, the hosts' wall clocks (one
// machine's) choose the offset the job's record gives. With host b's
// wall clock moved half an iteration they cannot choose, and merge
// refuses, exit 1, one line naming --clock wall: never a guessed offset.
func TestMergeAttachedLoopNeedsTheWallClocks(t *testing.T) {
	requirePrivileges(t)
	job := recordAttachedJob(t, strings.Repeat("100b", 64), false)
	j := readJobCalls(t, job.truth)
	anchor := map[bool]int{true: 0, false: 1}[j.pids[0] < j.pids[1]]
	first := map[int]int{}
	var want []string
	for r := range 4 {
		first[r] = j.firstSeen(t, job.recs[r/2], r, trace.AllReduce)
	}
	for r := range 4 {
		if r != anchor {
			want = append(want, fmt.Sprintf("%d AllReduce -> %d %+d by the wall clocks", r, anchor, first[r]-first[anchor]))
		}
	}
	slices.Sort(want)
	out := filepath.Join(t.TempDir(), "merged")
	r := linkprof(t, nil, "merge", "-o", out, "--clock", "collectives", job.recs[0], job.recs[1])
	if r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	rep, err := report.Load(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := matches(rep, j); !slices.Equal(got, want) {
		t.Errorf("communicators matched %q\nwant %q", got, want)
	}
	var periods []int64
	for i, at := range j.at["call"][0][1:] {
		periods = append(periods, at-j.at["call"][0][i])
	}
	half := mid(periods) / 2
	moved := filepath.Join(t.TempDir(), "b")
	shiftWallClock(t, job.recs[1], moved, half)
	linkprof(t, nil, "merge", "-o", filepath.Join(t.TempDir(), "refused"), job.recs[0], moved).wantError(t, exitFailure,
		"and the wall clocks do not tell them apart")
	t.Logf("host b's wall clock moved %d ns, half an iteration", half)
}

// shiftWallClock copies a recording with its wall clock moved by ns.
func shiftWallClock(t *testing.T, src, dst string, ns int64) {
	t.Helper()
	f, err := trace.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := trace.Create(dst, false)
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := rec.Meta()
		if err != nil {
			t.Fatal(err)
		}
		switch c := v.(type) {
		case trace.Start:
			c.Clock.WallNs += ns
			err = w.WriteJSON(rec.Type, c)
		case trace.Stop:
			c.Clock.WallNs += ns
			err = w.WriteJSON(rec.Type, c)
		case trace.Clock:
			c.WallNs += ns
			err = w.WriteJSON(rec.Type, c)
		default:
			err = w.WriteRaw(rec.Type, rec.Payload)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
