package nvlink_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
	"github.com/linkprof/linkprof/trace"
)

const uuid1 = "GPU-00000000-fake-0000-0000-000000000001"

// captureLog sends slog's default logger to a buffer for the test.
func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// lostHost has 3 GPUs at 1.1 ms a call; GPU 1's counter reads fail with
// GPU_IS_LOST from its read 52 up to, not including, read `back`.
func lostHost(back int) (*nvmlfake.Server, *nvmlfake.Clock) {
	return fakeHost(nvmlfake.Options{GPUs: 3, Fail: func(gpu, n int) nvml.Return {
		if gpu == 1 && n >= 52 && n < back {
			return nvml.ERROR_GPU_IS_LOST
		}
		return nvml.SUCCESS
	}})
}

// GPU 1 disappears half a second in and comes back: one warning when it
// goes, one when its reads slow to probes, one info when it answers again;
// GPUs 0 and 2 go on as if nothing happened.
func TestLostGPUIsReportedOnceAndOthersGoOn(t *testing.T) {
	log := captureLog(t)
	srv, clk := lostHost(70)
	cfg := nvlink.Config{Hz: 100, LostAfter: 10, LostProbe: 250 * time.Millisecond}
	_, sink := runFor(t, srv, clk, cfg, 3*time.Second)

	// At 100 Hz GPU 1 reads at +1.1 ms + 10 ms x (n-2) (read 1 was Open's):
	// read 52 at +501.1 ms, read 61 ends at +592.2 ms, then 8 probes 251.1 ms
	// apart (250 ms plus the read), and read 70 at +2851.0 ms, which waits
	// for GPU 2's read due at 2850 ms: +2852.2 ms.
	want := []trace.Note{
		{Level: "warn", Text: "GPU 1 (UUID " + uuid1 + ") disappeared at +0.5s: NVML GPU_IS_LOST; its later reads are gaps"},
		{Level: "warn", Text: "GPU 1 (UUID " + uuid1 + "): 10 reads in a row failed by +0.6s: reading it only every 250ms until it answers"},
		{Level: "info", Text: "GPU 1 (UUID " + uuid1 + ") is back at +2.9s, 2.4s after it disappeared: reading it again"},
	}
	if len(sink.notes) != len(want) {
		t.Fatalf("notes = %+v, want %d", sink.notes, len(want))
	}
	start := sink.clocks[0].MonoNs
	for i, n := range sink.notes {
		if n.Level != want[i].Level || n.Text != want[i].Text {
			t.Errorf("note %d = %s %q\nwant %s %q", i, n.Level, n.Text, want[i].Level, want[i].Text)
		}
		if !strings.Contains(log.String(), want[i].Text) {
			t.Errorf("log lacks %q:\n%s", want[i].Text, log)
		}
	}
	if at := []int64{501_100_000, 592_200_000, 2_852_200_000}; sink.notes[0].MonoNs-start != at[0] ||
		sink.notes[1].MonoNs-start != at[1] || sink.notes[2].MonoNs-start != at[2] {
		t.Errorf("notes at %d, %d, %d ns into the run, want %v", sink.notes[0].MonoNs-start,
			sink.notes[1].MonoNs-start, sink.notes[2].MonoNs-start, at)
	}
	checkLostGPUSamples(t, sink.gpuSamples(1), start)
	for _, gpu := range []uint32{0, 2} {
		checkUnaffected(t, gpu, sink.gpuSamples(gpu))
	}
}

// checkLostGPUSamples: 50 good reads, 10 gaps at 100 Hz, 8 probe gaps, then
// good reads at 100 Hz again.
func checkLostGPUSamples(t *testing.T, got []trace.Sample, start int64) {
	t.Helper()
	gaps := 0
	for i, s := range got {
		lost := i >= 50 && i < 68
		if s.OK() == lost {
			t.Fatalf("GPU 1 sample %d at +%d ns: ok %v", i, s.MonoBeforeNs-start, s.OK())
		}
		if !s.OK() {
			gaps++
		}
	}
	if gaps != 18 {
		t.Errorf("GPU 1: %d gaps, want 10 + 8 probes", gaps)
	}
	if d := got[61].MonoBeforeNs - got[60].MonoBeforeNs; d != 251_100_000 {
		t.Errorf("GPU 1 probes %d ns apart, want 251.1 ms", d)
	}
	// Back at +2852.2 ms, then at 100 Hz again until 3 s: 15 more reads.
	if n := len(got); n != 68+15 {
		t.Errorf("GPU 1: %d samples, want 83", n)
	}
}

// checkUnaffected: a GPU beside the lost one reads at 100 Hz, every read
// good and exact.
func checkUnaffected(t *testing.T, gpu uint32, got []trace.Sample) {
	t.Helper()
	if len(got) != 300 {
		t.Errorf("GPU %d: %d samples in 3 s at 100 Hz, want 300", gpu, len(got))
	}
	for i, s := range got {
		want := uint64(s.MonoAfterNs/1e6) * uint64(gpu+1)
		if !s.OK() || s.DataTxKiB != want {
			t.Fatalf("GPU %d sample %d = %+v, want TX %d KiB", gpu, i, s, want)
		}
		if i > 0 {
			if d := s.MonoBeforeNs - got[i-1].MonoBeforeNs; d < 8_900_000 || d > 11_100_000 {
				t.Fatalf("GPU %d sample %d: %d ns after the one before, want 10 ms +- one read", gpu, i, d)
			}
		}
	}
}

// With LostAfter < 0 a lost GPU is read at its full rate, every read a gap,
// and reported once.
func TestLostGPUNeverParked(t *testing.T) {
	captureLog(t)
	srv, clk := lostHost(1 << 30)
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 100, LostAfter: -1}, time.Second)
	if len(sink.notes) != 1 || sink.notes[0].Level != "warn" ||
		sink.notes[0].Text != "GPU 1 (UUID "+uuid1+") disappeared at +0.5s: NVML GPU_IS_LOST; its later reads are gaps" {
		t.Fatalf("notes = %+v", sink.notes)
	}
	got := sink.gpuSamples(1)
	if len(got) != 100 {
		t.Fatalf("GPU 1: %d samples in 1 s at 100 Hz, want 100", len(got))
	}
	for i, s := range got {
		if s.OK() != (i < 50) {
			t.Fatalf("GPU 1 sample %d: ok %v", i, s.OK())
		}
	}
}

// A timeout is a gap but not a lost GPU: no note.
func TestOtherErrorsAreNotLost(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 1, Fail: func(gpu, n int) nvml.Return {
		if n%3 == 0 {
			return nvml.ERROR_TIMEOUT
		}
		return nvml.SUCCESS
	}})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 100, LostAfter: 2}, time.Second)
	if len(sink.notes) != 0 {
		t.Errorf("notes = %+v, want none", sink.notes)
	}
	if n := len(sink.samples); n != 100 {
		t.Errorf("%d samples, want 100 (never slowed)", n)
	}
}
