package nvlink_test

import (
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
	"github.com/linkprof/linkprof/trace"
)

// Reads 3-5 of GPU 0 fail as a whole call, read 8 in one field: each is a
// gap (no SampleOK, no values), and the good reads around them are exact.
func TestFailedReadsAreGapsNotZeros(t *testing.T) {
	captureLog(t) // reads 4-6 make GPU 0 lost and back: notes, not test output
	srv, clk := fakeHost(nvmlfake.Options{
		GPUs: 1,
		// Read 1 is Open's probe of the supported fields.
		Fail: func(gpu, n int) nvml.Return {
			if n >= 4 && n <= 6 {
				return nvml.ERROR_GPU_IS_LOST
			}
			return nvml.SUCCESS
		},
		FieldFail: func(gpu, n int, field uint32) nvml.Return {
			if n == 9 && field == nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_RX {
				return nvml.ERROR_TIMEOUT
			}
			return nvml.SUCCESS
		},
	})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 100}, 100*time.Millisecond)
	got := sink.samples
	if len(got) < 10 {
		t.Fatalf("%d samples", len(got))
	}
	for i, s := range got {
		gap := i >= 2 && i <= 4 || i == 7
		if gap {
			if s.OK() || s.DataTxKiB != 0 || s.WallUs != 0 || s.MonoBeforeNs == 0 {
				t.Errorf("sample %d should be a timed gap: %+v", i, s)
			}
			continue
		}
		// The fake's counter is the ms of the read, and it reads after the cost.
		want := uint64(s.MonoAfterNs / 1e6)
		if !s.OK() || s.DataTxKiB != want || s.DataRxKiB != 2*want || s.RawTxKiB != want*11/10 || s.RawRxKiB != 2*want*11/10 {
			t.Errorf("sample %d = %+v, want TX %d KiB", i, s, want)
		}
		if s.WallUs != (s.MonoAfterNs+wallAhead)/1000 {
			t.Errorf("sample %d: NVML timestamp %d, want the wall clock of the read", i, s.WallUs)
		}
	}
}

// A 32-bit counter wraps; the sampler keeps counting and flags the sample.
func TestCounterWrap32(t *testing.T) {
	const start = 1<<32 - 5000 // KiB: wraps 5 s into the run at 1 KiB/ms
	base := int64(-1)
	srv, clk := fakeHost(nvmlfake.Options{
		GPUs:      1,
		ValueType: nvml.VALUE_TYPE_UNSIGNED_INT,
		Counters: func(gpu int, field, scope uint32, mono int64) (uint64, nvml.Return) {
			if base < 0 {
				base = mono
			}
			return uint64(start+(mono-base)/1e6) & (1<<32 - 1), nvml.SUCCESS
		},
	})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 1}, 10*time.Second)
	wrapped := 0
	for i, s := range sink.samples {
		want := uint64(start + (s.MonoAfterNs-base)/1e6)
		if s.DataTxKiB != want {
			t.Errorf("sample %d: %d KiB, want %d", i, s.DataTxKiB, want)
		}
		if s.Flags&trace.SampleWrapped != 0 {
			wrapped++
		}
	}
	if wrapped != 1 {
		t.Errorf("%d samples flagged wrapped, want 1", wrapped)
	}
}

// A 64-bit counter that drops far more than the link can move was reset:
// the sampler counts on from the new value.
func TestCounterReset64(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{
		GPUs: 1,
		Counters: func(gpu int, field, scope uint32, mono int64) (uint64, nvml.Return) {
			ms := uint64(mono / 1e6)
			if mono-startMono >= 5e9 {
				return ms - uint64(startMono/1e6) - 5000, nvml.SUCCESS // reset at 5 s
			}
			return 1e12 + ms, nvml.SUCCESS
		},
	})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 1}, 10*time.Second)
	var prev trace.Sample
	wrapped := 0
	for i, s := range sink.samples {
		if s.Flags&trace.SampleWrapped != 0 {
			wrapped++
		}
		if i > 0 {
			d := s.DataTxKiB - prev.DataTxKiB
			if d > 1001 || d < 999 && s.Flags&trace.SampleWrapped == 0 {
				t.Errorf("sample %d: +%d KiB in 1 s, want 1000", i, d)
			}
		}
		prev = s
	}
	if wrapped != 1 {
		t.Errorf("%d samples flagged, want the one after the reset", wrapped)
	}
}
