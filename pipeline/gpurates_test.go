package pipeline_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// The gpus section gives each GPU's mean and peak link rate and the share
// of sample intervals above the burst threshold (5% of its peak bandwidth).
func TestGPURatesAndBusyFraction(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	const mono0, wall0 = int64(1e9), int64(5e9)
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "test", Clock: trace.Clock{Source: "start", MonoNs: mono0, WallNs: wall0}})
	w.WriteJSON(trace.RecGPU, trace.GPU{Index: 0, UUID: "GPU-0", PeakLinkBps: 100e9})
	// Cumulative KiB at 1 ms steps: 1000 KiB (1.024 GB/s), then 20000
	// KiB (20.48 GB/s), then nothing: one short segment, so one burst of
	// its two active intervals (too short to have a floor).
	for k, kib := range []uint64{0, 1000, 21000, 21000} {
		at := int64(k) * 1e6
		w.WriteSamples(trace.Sample{GPU: 0, Flags: trace.SampleOK, MonoBeforeNs: mono0 + at, MonoAfterNs: mono0 + at,
			WallUs: (wall0 + at) / 1000, DataTxKiB: kib, DataRxKiB: kib})
	}
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: trace.Clock{Source: "stop", MonoNs: mono0 + 4e6, WallNs: wall0 + 4e6}, Reason: "duration"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	reportschema.WriteAll(t, dir, false)
	var r struct{ GPUs []report.GPU }
	data, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.GPUs) != 1 {
		t.Fatalf("gpus %+v", r.GPUs)
	}
	g := r.GPUs[0]
	if g.TxBytes != 21000*1024 || g.PeakBytesPerS != 20000*1024/1e-3 || g.MeanTxBytesPerS != 21000*1024/3e-3 {
		t.Errorf("tx %d, peak %.0f B/s, mean %.0f B/s", g.TxBytes, g.PeakBytesPerS, g.MeanTxBytesPerS)
	}
	if g.BusyFraction != 2.0/3 || g.SampleHz != 1000 || g.Bursts != 1 {
		t.Errorf("busy %.4f, %.1f Hz, %d bursts", g.BusyFraction, g.SampleHz, g.Bursts)
	}
}
