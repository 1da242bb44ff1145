package simlink_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
	"github.com/linkprof/linkprof/nvlink/simlink"
	"github.com/linkprof/linkprof/trace"
)

const t0 = int64(5_000_000_000) // schedule times, CLOCK_MONOTONIC ns

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// read asks the simulated GPU for its four counters at the clock's time.
func read(t *testing.T, lib nvml.Interface, gpu int) [4]uint64 {
	t.Helper()
	d, ret := lib.DeviceGetHandleByIndex(gpu)
	if ret != nvml.SUCCESS {
		t.Fatal(ret)
	}
	v := make([]nvml.FieldValue, 4)
	for i := range v {
		v[i] = nvml.FieldValue{FieldId: uint32(nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX + i), ScopeId: 0xFFFFFFFF}
	}
	if ret := d.GetFieldValues(v); ret != nvml.SUCCESS {
		t.Fatal(ret)
	}
	var out [4]uint64
	for i := range v {
		if v[i].NvmlReturn != 0 {
			t.Fatalf("field %d: %v", v[i].FieldId, nvml.Return(v[i].NvmlReturn))
		}
		for b := 7; b >= 0; b-- {
			out[i] = out[i]<<8 | uint64(v[i].Value[b])
		}
	}
	return out
}

// Counters follow the file exactly as it grows, a partial line included.
func TestCountersFollowTheScheduleAsItGrows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule")
	clk := nvmlfake.NewClock(t0, 0)
	sim := simlink.New(path, 2, simlink.Options{Clock: clk})

	if got := read(t, sim, 0); got != [4]uint64{} { // no file yet: no traffic
		t.Fatalf("before the file exists: %v", got)
	}
	// 1 MiB TX / 2 MiB RX on GPU 0 over 10 ms from t0+10ms; 40960 bytes on GPU 1.
	appendTo(t, path, simlink.Header+"\n0 5010000000 5020000000 1048576 2097152 AllReduce\n1 5000000000 5001000000 40960 0 back")
	clk.Advance(15 * time.Millisecond) // halfway through GPU 0's transfer
	// 524288 B = 512 KiB TX, 1024 KiB RX; RAW = floor(524288*1.064) = 557842 B = 544 KiB.
	if got := read(t, sim, 0); got != [4]uint64{512, 1024, 544, 1089} {
		t.Errorf("GPU 0 at 15 ms: %v", got)
	}
	// GPU 1's line has no newline yet: not counted.
	if got := read(t, sim, 1); got[0] != 0 {
		t.Errorf("partial line counted: %v", got)
	}
	appendTo(t, path, "ground\n0 5016000000 5018000000 3072 0 AllGather\n")
	clk.Advance(2 * time.Millisecond) // t0+17ms
	// GPU 0: 0.7 MiB of the first (734003 B) + half of 3072 = 1536 -> 735539 B = 718 KiB.
	if got := read(t, sim, 0); got[0] != 718 || got[1] != 1433 {
		t.Errorf("GPU 0 at 17 ms: %v", got)
	}
	if got := read(t, sim, 1); got[0] != 40 {
		t.Errorf("GPU 1 at 17 ms: %v, want 40 KiB", got)
	}
	clk.Advance(time.Second)
	if got := read(t, sim, 0); got[0] != 1027 || got[1] != 2048 {
		t.Errorf("GPU 0 after all: %v, want 1027 and 2048 KiB", got)
	}
	if err := sim.Err(); err != nil {
		t.Error(err)
	}
}

func TestMalformedLinesAreReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule")
	appendTo(t, path, simlink.Header+"\n0 1 2 3\n5 1 2 3 4 x\n0 10 20 2048 0 ok\n")
	clk := nvmlfake.NewClock(t0, 0)
	sim := simlink.New(path, 2, simlink.Options{Clock: clk})
	if got := read(t, sim, 0); got[0] != 2 {
		t.Errorf("good line after bad ones: %v", got)
	}
	if err := sim.Err(); err == nil || !strings.Contains(err.Error(), "line 2: 4 fields") {
		t.Errorf("err = %v", err)
	}
}

// Through the sampler: the recorded deltas are the schedule's bytes, and
// the GPUs say they are simulated.
func TestSamplerSeesExactTruth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedule")
	appendTo(t, path, simlink.Header+"\n"+
		"0 5100000000 5300000000 6710886400 671088640 AllReduce\n"+ // 6400 MiB TX
		"1 5100000000 5300000000 671088640 671088640 AllReduce\n"+
		"0 5500000000 5500500000 1048576 0 Send\n")
	clk := nvmlfake.NewClock(t0, 1_700_000_000_000_000_000)
	sim := simlink.New(path, 2, simlink.Options{Serialize: true, Clock: clk})
	s, err := nvlink.Open(sim, nvlink.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	clk.StopAt(t0+int64(time.Second), cancel)
	sink := &samples{}
	if err := s.RunTo(ctx, sink); err != nil {
		t.Fatal(err)
	}
	gpus := s.GPUs()
	if !s.Simulated() || !gpus[0].Simulated || gpus[0].Name != simlink.Name {
		t.Errorf("not marked simulated: %+v", gpus[0])
	}
	g0, g1 := span(sink.s, 0), span(sink.s, 1)
	if g0.tx != 6710886400+1048576 || g1.tx != 671088640 || g1.rx != 671088640 {
		t.Errorf("TX %d %d RX %d", g0.tx, g1.tx, g1.rx)
	}
	// 6400 MiB in 200 ms is 33.6 GB/s, above 5% of 450 GB/s: busy for ~20% of
	// the intervals (the Send, 2.1 GB/s, is not).
	if b := float64(g0.busy) / float64(g0.reads-1); b < 0.19 || b > 0.22 {
		t.Errorf("busy %.3f", b)
	}
	if hz := float64(g0.reads-1) / (float64(g0.lastNs-g0.firstNs) / 1e9); hz < 450 || hz > 460 {
		t.Errorf("%.1f Hz per GPU on 2 simulated GPUs at 1.1 ms a call", hz)
	}
}

type samples struct{ s []trace.Sample }

func (m *samples) WriteSamples(s ...trace.Sample) error    { m.s = append(m.s, s...); return nil }
func (m *samples) WriteJSON(trace.RecordType, any) error   { return nil }
func (m *samples) WriteRaw(trace.RecordType, []byte) error { return nil }

// gpuSpan is what one GPU's good samples add up to.
type gpuSpan struct {
	reads           int
	tx, rx          uint64 // bytes between the first and last read
	firstNs, lastNs int64
	busy            int // intervals above 5% of 450 GB/s
}

func span(samples []trace.Sample, gpu uint32) gpuSpan {
	var g gpuSpan
	var prev trace.Sample
	var firstTx, firstRx uint64
	for _, s := range samples {
		if s.GPU != gpu || !s.OK() {
			continue
		}
		t := s.MonoBeforeNs + (s.MonoAfterNs-s.MonoBeforeNs)/2
		if g.reads == 0 {
			g.firstNs, firstTx, firstRx = t, s.DataTxKiB, s.DataRxKiB
		} else if dt := float64(t-g.lastNs) / 1e9; float64(s.DataTxKiB-prev.DataTxKiB)*1024/dt > 0.05*450e9 {
			g.busy++
		}
		g.reads, g.lastNs, prev = g.reads+1, t, s
		g.tx, g.rx = (s.DataTxKiB-firstTx)*1024, (s.DataRxKiB-firstRx)*1024
	}
	return g
}
