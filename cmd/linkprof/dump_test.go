package main

import (
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// dump --samples prints every NVLink read as a JSON line, a failed read
// without counters, and leaves the events out.
func TestDumpSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(
		trace.Sample{GPU: 1, Flags: trace.SampleOK | trace.SampleWrapped, MonoBeforeNs: 10, MonoAfterNs: 20, WallUs: 30,
			DataTxKiB: 1, DataRxKiB: 2, RawTxKiB: 3, RawRxKiB: 4},
		trace.Sample{GPU: 0, MonoBeforeNs: 40, MonoAfterNs: 50})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := linkprof(t, nil, "dump", "--samples", dir)
	want := `{"gpu":1,"ok":true,"wrapped":true,"mono_before_ns":10,"mono_after_ns":20,"nvml_wall_us":30,"kib":[1,2,3,4]}
{"gpu":0,"ok":false,"mono_before_ns":40,"mono_after_ns":50,"nvml_wall_us":0}
`
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
}
