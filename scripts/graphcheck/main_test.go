package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/profiler/extra"
	"github.com/linkprof/linkprof/trace"
)

// writeTrace records one rank that captured 2 all-reduces of 8 elements,
// replayed them 3 times, and made 1 eager call of 4 elements.
func writeTrace(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	ar := func(count uint64) trace.Event {
		return trace.Event{Kind: trace.AllReduce, Count: count, DataType: 9, Stream: 0xa, Comm: 1}
	}
	evs := []trace.Event{ar(4),
		{Kind: trace.StreamBeginCapture, Stream: 0xa}, ar(8), ar(8),
		{Kind: trace.StreamEndCapture, Stream: 0xa, Comm: 0x90, Flags: trace.FlagReturn},
		{Kind: trace.GraphInstantiate, Comm: 0x90, Aux: 0xe0, Flags: trace.FlagReturn}}
	for i := 0; i < 3; i++ {
		evs = append(evs, trace.Event{Kind: trace.GraphLaunch, Aux: 0xe0, Stream: 0xa})
	}
	var raw []byte
	for i, e := range evs {
		e.Pid, e.Tid, e.TsNs = 42, 42, uint64(i+1)
		raw = trace.AppendEvent(raw, e)
	}
	if err := w.WriteEvents(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeIssued(t *testing.T, calls, offset int) string {
	js := fmt.Sprintf(`{"ranks":[{"rank":0,"pid":42,"tensor_numel_offset":%d,
		"expected":{"AllReduce":{"calls":%d,"payload_bytes":104},"capture_time_calls":2},
		"graphs":[{"name":"g","captured":[{"op":"AllReduce","count":8},{"op":"AllReduce","count":8}],"launches":3}]}]}`,
		offset, calls)
	p := filepath.Join(t.TempDir(), "issued.json")
	if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGraphcheck(t *testing.T) {
	dir := writeTrace(t)
	var out bytes.Buffer
	// 1 eager + 3 x 2 replayed = 7 calls, 4*2 + 6*8*2 = 104 bytes.
	bad, err := run(dir, writeIssued(t, 7, extra.TorchNumelOffset), &out)
	if err != nil || bad != 0 {
		t.Fatalf("bad %d err %v:\n%s", bad, err, out.String())
	}
	out.Reset()
	bad, err = run(dir, writeIssued(t, 9, extra.TorchNumelOffset+8), &out)
	if err != nil || bad != 2 {
		t.Fatalf("bad %d (want 2: calls and offset) err %v:\n%s", bad, err, out.String())
	}
	if !strings.Contains(out.String(), "issued 9            recorded 7") {
		t.Errorf("output does not show the call mismatch:\n%s", out.String())
	}
}
