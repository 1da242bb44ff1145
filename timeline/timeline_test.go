package timeline_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
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
	w := timeline.NewWriter(&buf, 5_000_000_000, 0)
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
		case e.Ph == "X" && e.Cat == "host":
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
	if names[4000] != "rank 0 (pid 4000)" || names[4001] != "rank 1 (pid 4001)" || !strings.HasPrefix(names[1<<30], "GPU 0") {
		t.Errorf("track names %v", names)
	}
	if f.Metadata["dropped_events"].(float64) != 0 {
		t.Errorf("metadata %v", f.Metadata)
	}
}

func TestTimelineBound(t *testing.T) {
	dir := record(t)
	var buf bytes.Buffer
	w := timeline.NewWriter(&buf, 0, 50)
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
