package main

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/report"
)

// jobIDs are the job's ncclUniqueIds (hex, JOB_IDS): the world's, then
// rank groups 0 and 1's.
var jobIDs = strings.Repeat("5a17c0de", 32) + ",0001020304050607,f00d"

// A 4-rank job whose ranks 0-1 and 2-3 run under two recorders, each
// recorder a "host" launching its half as torchrun's agent would, meeting
// through the ids and barrier the test hands both (as a real job's
// bootstrap would). Each rank all-reduces on the world and all-gathers on
// its group (ranks 0 and 2, ranks 1 and 3: two 2-rank communicators, told
// apart by their ids), iters times. linkprof merge makes one report of
// the job: exactly iters collectives matched on each of the three
// communicators across the hosts, every rank's calls and payload exact,
// each process under its host with its own pid and its global rank, the
// profile's samples labelled with their hosts; and the clocks, one machine's
// (an offset of 0), placed within the rule's bound, measured from the
// ranks' own record of when they called.
func TestMergeTwoRecordersOfOneJob(t *testing.T) {
	requirePrivileges(t)
	const iters = 200
	dir := t.TempDir()
	barrier, truth := filepath.Join(dir, "barrier"), filepath.Join(dir, "truth")
	if err := os.WriteFile(barrier, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	recs := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	var cmds []*exec.Cmd
	for h, rec := range recs {
		cmd := exec.Command(linkprofBin, "record", "--no-nvml", "-o", rec, "--", fake.Job, "4", fmt.Sprint(iters))
		cmd.Env = append(withoutSudo(os.Environ()), "JOB_IDS="+jobIDs, "JOB_BARRIER="+barrier, "DRIVER_TRUTH="+truth,
			fmt.Sprintf("JOB_FIRST_RANK=%d", 2*h), "JOB_LOCAL_RANKS=2")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("recording: %v", err)
		}
	}
	checkDumpedIDs(t, recs)
	pids, bound := jobTruth(t, truth)
	t.Logf("error bound: more than half the collectives had the hosts arrive within %d ns", bound)
	host, _ := os.Hostname()
	for _, clock := range []string{"collectives", "auto"} {
		out := filepath.Join(dir, "merged-"+clock)
		r := linkprof(t, nil, "merge", "-o", out, "--clock", clock, recs[0], recs[1])
		if r.code != 0 {
			t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
		}
		rep, err := report.Load(filepath.Join(out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		h := rep.Hosts
		want := map[string]string{"collectives": "collectives", "auto": "wall"}[clock]
		if len(h) != 2 || h[0].Name != host || h[1].Name != host+"#2" || h[1].Clock != want {
			t.Fatalf("hosts %+v: want %s and %s#2, placed by the %s", h, host, host, want)
		}
		tol := map[string]int64{"collectives": bound, "wall": 50_000}[want]
		if off := h[1].OffsetNs; off < -tol || off > tol {
			t.Errorf("--clock %s: host b placed %d ns from a, one machine's clock (bound %d ns)", clock, off, tol)
		}
		t.Logf("--clock %s: offset %d ns by the %s from %d collectives, arrivals then %d ns apart (spread %d), wall clocks %d ns",
			clock, h[1].OffsetNs, h[1].Clock, h[1].Collectives, h[1].CollectiveSkewNs, h[1].SpreadNs, h[1].WallSkewNs)
		checkJobReport(t, rep, pids, iters)
		checkHostLabels(t, filepath.Join(out, "profile.pb.gz"), host, iters)
	}
	checkMergeRefuses(t, dir, recs[0], barrier)
}

// checkMergeRefuses: a recording of another job (its own ids), a folder
// that is no recording, and an output folder already used are refused,
// exit 1, one line.
func checkMergeRefuses(t *testing.T, dir, rec, barrier string) {
	t.Helper()
	other := filepath.Join(dir, "other")
	os.WriteFile(barrier, make([]byte, 4096), 0o600)
	r := linkprof(t, []string{"JOB_IDS=0badc0de", "JOB_BARRIER=" + barrier}, "record", "--no-nvml", "-o", other, "--", fake.Job, "2", "10")
	if r.code != 0 {
		t.Fatalf("recording another job: exit %d: %s", r.code, r.stderr)
	}
	host, _ := os.Hostname()
	linkprof(t, nil, "merge", "-o", filepath.Join(dir, "x"), rec, other).wantError(t, exitFailure,
		other+" (host "+host+"#2) shares no collective with "+rec+": are they recordings of one job?")
	linkprof(t, nil, "merge", "-o", filepath.Join(dir, "y"), rec, dir).wantError(t, exitFailure, "is it a linkprof recording?")
	linkprof(t, nil, "merge", "-o", dir, rec, other).wantError(t, exitFailure, "use --force")
}

// checkDumpedIDs: dump shows each communicator creation's unique id, the
// FNV-1a hash of the id bytes the job handed its ranks: the world's on
// both of each host's ranks, each group's on one.
func checkDumpedIDs(t *testing.T, recs []string) {
	t.Helper()
	ids := strings.Split(jobIDs, ",")
	for _, rec := range recs {
		r := linkprof(t, nil, "dump", rec)
		for i, id := range ids {
			b, _ := hex.DecodeString(id)
			h := fnv.New64a()
			h.Write(append(b, make([]byte, 128-len(b))...))
			want := map[bool]int{true: 2, false: 1}[i == 0]
			if n := strings.Count(r.stdout, fmt.Sprintf(`"unique_id":"%#x"`, h.Sum64())); n != want {
				t.Errorf("%s: id %d's hash %#x on %d creations, want %d", rec, i, h.Sum64(), n, want)
			}
		}
	}
}

// checkJobReport asserts the merged report's exact totals.
func checkJobReport(t *testing.T, rep *report.Report, pids map[int]uint32, iters uint64) {
	t.Helper()
	var comms []string
	for _, c := range rep.Arrivals.Comms {
		comms = append(comms, fmt.Sprintf("%s %d/%d %d+%d", c.Comm, c.RanksRecorded, c.NRanks, c.Collectives, c.Unmatched))
	}
	w := fmt.Sprintf("%d+0", iters)
	if want := []string{"4-rank #1 4/4 " + w, "2-rank #1 2/2 " + w, "2-rank #2 2/2 " + w}; !slices.Equal(comms, want) {
		t.Errorf("communicators (recorded/size matched+unmatched) %q, want %q", comms, want)
	}
	for _, o := range rep.Ops {
		if want := map[string]uint64{"AllReduce": 4 * iters, "AllGather": 4 * iters}[o.Op]; o.Calls != want {
			t.Errorf("%s: %d calls, want %d", o.Op, o.Calls, want)
		}
	}
	payload := map[int]uint64{4: iters << 22, 2: iters << 17} // 1 Mi floats; 64 Ki bfloat16
	if len(rep.Comms) != 8 {
		t.Errorf("%d communicator rows, want 8 (each of 4 ranks in 2)", len(rep.Comms))
	}
	for _, c := range rep.Comms {
		if c.Calls != iters || c.PayloadBytes != payload[c.NRanks] {
			t.Errorf("communicator row %+v: want %d calls, %d bytes", c, iters, payload[c.NRanks])
		}
	}
	ranks := map[int]string{}
	for _, p := range rep.Processes {
		if p.Rank >= 0 {
			ranks[p.Rank] = fmt.Sprintf("%s:%d", p.Host, p.HostPid)
		}
	}
	for r, pid := range pids {
		host := rep.Hosts[r/2].Name
		if want := fmt.Sprintf("%s:%d", host, pid); ranks[r] != want {
			t.Errorf("rank %d is %q, want %s (its host and pid there)", r, ranks[r], want)
		}
	}
}

// checkHostLabels: every sample of the profile names its host, each host
// with its two ranks' calls.
func checkHostLabels(t *testing.T, path, host string, iters int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int64{}
	for _, s := range p.Sample {
		if len(s.Label["host"]) != 1 {
			t.Errorf("sample %v without one host label", s.Label)
			continue
		}
		calls[s.Label["host"][0]] += s.Value[0]
	}
	if calls[host] != 4*iters || calls[host+"#2"] != 4*iters || len(calls) != 2 {
		t.Errorf("calls by host label %v, want %d on each of 2 hosts", calls, 4*iters)
	}
}

// jobTruth reads the job's own record of its calls: each rank's pid, and
// the clock rule's bound for one machine (docs/design.md, "Merging
// hosts"): the smallest B such that in more than half of the collectives
// the two hosts' arrivals (the median of each host's ranks' calls) were
// within B of each other.
func jobTruth(t *testing.T, path string) (map[int]uint32, int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[int]uint32{}
	type coll struct {
		group string
		i     int
	}
	at := map[coll][2][]int64{} // by host
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var kind string
		var r, i int
		var ns int64
		if n, _ := fmt.Sscanf(l, "rank %d %d", &r, &i); n == 2 {
			pids[r] = uint32(i)
			continue
		}
		if n, _ := fmt.Sscanf(l, "%s %d %d %d", &kind, &r, &i, &ns); n != 4 {
			t.Fatalf("truth line %q", l)
		}
		k := coll{kind, i}
		if kind == "gcall" {
			k.group = fmt.Sprint("g", r%2)
		}
		v := at[k]
		v[r/2] = append(v[r/2], ns)
		at[k] = v
	}
	var diffs []int64
	for _, v := range at {
		d := mid(v[1]) - mid(v[0])
		diffs = append(diffs, max(d, -d))
	}
	slices.Sort(diffs)
	if len(pids) != 4 || len(diffs) != 600 {
		t.Fatalf("truth: %d ranks, %d collectives", len(pids), len(diffs))
	}
	return pids, diffs[len(diffs)/2]
}

// mid is the median of a host's ranks' times (the mean of two).
func mid(v []int64) int64 {
	slices.Sort(v)
	return v[(len(v)-1)/2] + (v[len(v)/2]-v[(len(v)-1)/2])/2
}
