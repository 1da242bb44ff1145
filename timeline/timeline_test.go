package timeline_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/timeline"
	"github.com/linkprof/linkprof/trace"
)

func record(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	_, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 10, Seed: 3, StepGapNs: 20_000_000,
		Ops:   []sim.Op{{Kind: trace.AllReduce, Count: 64 << 20, DType: trace.DataType(9)}},
		Blobs: []sim.Blob{{AtNs: 40_000_000, GPU: 1, Bytes: 1e9}}})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTimelineParsesBack(t *testing.T) {
	dir := record(t)
	var buf bytes.Buffer
	w := timeline.NewWriter(&buf, 0)
	if _, err := correlate.Analyze(dir, correlate.Options{}, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var f timeline.File
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatalf("timeline is not JSON: %v", err)
	}
	count := map[string]int{}
	names := map[uint64]string{}
	var unattributedBurst bool
	for _, e := range f.TraceEvents {
		switch {
		case e.Ph == "M" && e.Name == "process_name":
			names[e.Pid] = e.Args["name"].(string)
		case e.Ph == "i" && e.Cat == "host":
			count["host"]++
		case e.Ph == "X" && e.Cat == "gpu":
			count["gpu"]++
			if *e.Dur <= 0 || e.Args["nvlink_tx_bytes"].(float64) <= 0 {
				t.Errorf("gpu slice %+v", e)
			}
		case e.Ph == "C" && e.Name == "NVLink GB/s":
			count["counter"]++
			if tx := e.Args["tx"].(float64); tx > 1 {
				count["busy counter"]++
			}
		case e.Ph == "X" && e.Cat == "burst":
			count["burst"]++
			unattributedBurst = unattributedBurst || e.Name == "burst: unattributed"
		}
		if e.Ts < 0 {
			t.Errorf("event before the recording's start: %+v", e)
		}
	}
	// 10 steps x 2 ranks; one burst per step per GPU plus the blob's.
	if count["host"] != 20 || count["gpu"] != 20 || count["burst"] != 21 || !unattributedBurst {
		t.Errorf("counts %v, unattributed burst %v", count, unattributedBurst)
	}
	// Points where the rate moves: up and back down around each burst,
	// none for the idle milliseconds between them (about 400 intervals).
	if count["busy counter"] < 21 || count["counter"] < 2*21 || count["counter"] > 200 {
		t.Errorf("%d counter points, %d busy: want points where the rate moves, not every interval", count["counter"], count["busy counter"])
	}
	if names[4000] != "rank 0 (pid 4000)" || names[4001] != "rank 1 (pid 4001)" || !strings.HasPrefix(names[1<<32], "GPU 0") {
		t.Errorf("track names %v", names)
	}
	if f.Metadata["dropped_events"].(float64) != 0 {
		t.Errorf("metadata %v", f.Metadata)
	}
}

func TestTimelineBound(t *testing.T) {
	dir := record(t)
	var buf bytes.Buffer
	w := timeline.NewWriter(&buf, 50)
	if _, err := correlate.Analyze(dir, correlate.Options{}, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var f timeline.File
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	var data int
	for _, e := range f.TraceEvents {
		if e.Ph != "M" {
			data++
		}
	}
	if data != 50 || w.Dropped() == 0 || int(f.Metadata["dropped_events"].(float64)) != w.Dropped() {
		t.Errorf("%d data events, dropped %d, metadata %v", data, w.Dropped(), f.Metadata)
	}
}

// Perfetto's rule for complete events: on one track (pid, tid) they nest
// or are disjoint; one that starts inside another and ends after it is
// dropped. Grouped sends and receives of different sizes make modelled
// executions overlap that way (on one track, 144 of 360 did): they go to
// lanes.
func TestTimelineNests(t *testing.T) {
	for name, cfg := range map[string]sim.Config{
		"grouped": {Ranks: 4, Steps: 30, Seed: 5, StepGapNs: 500_000, HostGapNs: 10_000, LagNs: 2_000_000, Group: true,
			Ops: []sim.Op{{Kind: trace.Send, Count: 8 << 20, DType: 9}, {Kind: trace.Recv, Count: 2 << 20, DType: 9},
				{Kind: trace.AllGather, Count: 1 << 20, DType: 9}}},
		"graphs": {Ranks: 2, Steps: 10, Seed: 1, StepGapNs: 1_000_000,
			Ops:   []sim.Op{{Kind: trace.AllGather, Count: 1 << 20, DType: 9}},
			Graph: &sim.Graph{Ops: []sim.Op{{Kind: trace.AllReduce, Count: 16 << 20, DType: 9}, {Kind: trace.CustomAllReduce, Count: 1 << 20, DType: 9}}}},
	} {
		dir := filepath.Join(t.TempDir(), name)
		if _, err := sim.Write(dir, cfg); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w := timeline.NewWriter(&buf, 0)
		if _, err := correlate.Analyze(dir, correlate.Options{}, w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var f timeline.File
		if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		lanes, gpu := checkNesting(t, name, f.TraceEvents)
		if d, _ := f.Metadata["dropped_gpu_slices_over_lanes"].(float64); gpu == 0 || d != 0 {
			t.Errorf("%s: %d GPU slices, metadata %v", name, gpu, f.Metadata)
		}
		t.Logf("%s: %d GPU slices on %d lanes", name, gpu, lanes)
	}
}

// checkNesting reports every complete event that overlaps another on its
// track without nesting in it; it returns the most GPU lanes of a process
// and the GPU slices seen.
func checkNesting(t *testing.T, name string, events []timeline.Event) (lanes, gpu int) {
	t.Helper()
	type slice struct{ start, end float64 }
	tracks := map[[2]uint64][]slice{}
	perPid := map[uint64]map[uint64]bool{}
	for _, e := range events {
		if e.Ph != "X" {
			continue
		}
		k := [2]uint64{e.Pid, e.Tid}
		tracks[k] = append(tracks[k], slice{e.Ts, e.Ts + *e.Dur})
		if e.Cat == "gpu" {
			gpu++
			if perPid[e.Pid] == nil {
				perPid[e.Pid] = map[uint64]bool{}
			}
			perPid[e.Pid][e.Tid] = true
		}
	}
	const eps = 1e-3 // us: rounding of ts + dur
	bad := 0
	for k, ss := range tracks {
		slices.SortFunc(ss, func(a, b slice) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end)) })
		var open []slice
		for _, s := range ss {
			for len(open) > 0 && open[len(open)-1].end <= s.start+eps {
				open = open[:len(open)-1]
			}
			if len(open) > 0 && s.end > open[len(open)-1].end+eps {
				if bad++; bad <= 5 {
					t.Errorf("%s: track %v: [%.3f, %.3f] starts inside [%.3f, %.3f] and ends after it", name, k, s.start, s.end,
						open[len(open)-1].start, open[len(open)-1].end)
				}
				continue
			}
			open = append(open, s)
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d slices break the nesting rule", name, bad)
	}
	for _, tids := range perPid {
		lanes = max(lanes, len(tids))
	}
	return lanes, gpu
}
