package nvlink_test

import (
	"context"
	"testing"
	"time"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
	"github.com/linkprof/linkprof/trace"
)

func TestPerLinkSamples(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 1})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 100, PerLink: true, PerLinkHz: 10}, time.Second)
	// 10 reads of 18 links each; the read crossing the end may add one.
	if n := len(sink.links); n != 180 && n != 198 {
		t.Fatalf("%d link samples, want 10 or 11 reads x 18 links", n)
	}
	for i, l := range sink.links {
		want := uint64(l.MonoAfterNs/1e6) / 18
		if l.Link != uint32(i%18) || !l.OK() || l.DataTxKiB != want || l.DataRxKiB != 2*uint64(l.MonoAfterNs/1e6)/18 {
			t.Fatalf("link sample %d = %+v, want link %d TX %d", i, l, i%18, want)
		}
	}
	if n := len(sink.samples); n < 100 || n > 101 {
		t.Errorf("%d aggregate reads beside per-link ones, want 100", n)
	}
}

func TestGPMSamples(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2, GPM: true})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 10, GPM: true, GPMInterval: 250 * time.Millisecond}, time.Second)
	if len(sink.gpm) < 6 {
		t.Fatalf("%d GPM samples in 1 s at 250 ms on 2 GPUs", len(sink.gpm))
	}
	for _, g := range sink.gpm {
		// A due read may wait for up to 3 calls of 1.1 ms ahead of it.
		// The fake moves (gpu+1) KiB/ms TX: (gpu+1)*1000/1024 MiB/s, to the ms.
		want := float64(g.GPU+1) * 1000 / 1024
		if !g.OK || g.IntervalNs < 246.7e6 || g.IntervalNs > 253.3e6 || g.TxMiBps < want*0.99 || g.TxMiBps > want*1.01 {
			t.Errorf("GPM sample %+v, want TX %.3f MiB/s over 250 ms", g, want)
		}
	}
}

func TestGPMUnsupportedIsANote(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 1})
	_, sink := runFor(t, srv, clk, nvlink.Config{Hz: 10, GPM: true}, time.Second)
	if len(sink.gpm) != 0 || len(sink.notes) != 1 || sink.notes[0].Text != "GPU 0: GPM not supported: no GPM NVLink samples" {
		t.Errorf("gpm %v notes %+v", sink.gpm, sink.notes)
	}
}

func TestNoNVLinkGPUIsRecordedNotSampled(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2, NoNVLink: []int{1}})
	_, sink := runFor(t, srv, clk, nvlink.Config{}, 100*time.Millisecond)
	if len(sink.gpus) != 2 || len(sink.gpuSamples(1)) != 0 || len(sink.gpuSamples(0)) < 90 {
		t.Errorf("gpus %d, samples GPU0 %d GPU1 %d", len(sink.gpus), len(sink.gpuSamples(0)), len(sink.gpuSamples(1)))
	}
	if len(sink.notes) != 1 || sink.notes[0].Text != "GPU 1 has no active NVLink: not sampled" {
		t.Errorf("notes %+v", sink.notes)
	}
}

// Through a real trace.Writer: the records come back from trace.Load.
func TestRunWritesTrace(t *testing.T) {
	dir := t.TempDir()
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 2})
	s, err := nvlink.Open(srv, nvlink.Config{Hz: 100, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	clk.StopAt(clk.MonoNs()+int64(time.Second), cancel)
	if err := s.Run(ctx, w); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.GPUs) != 2 || len(tr.Samples) < 200 || len(tr.Clocks) < 2 {
		t.Fatalf("gpus %d samples %d clocks %d", len(tr.GPUs), len(tr.Samples), len(tr.Clocks))
	}
	for gpu := range uint32(2) {
		// (gpu+1) KiB per ms, 10 ms between reads of one GPU.
		first, last, n := txSpan(tr.Samples, gpu)
		if n < 100 || last-first != uint64(gpu+1)*uint64(n-1)*10 {
			t.Errorf("GPU %d: %d samples, %d KiB sent", gpu, n, last-first)
		}
	}
}

// txSpan returns a GPU's first and last good DATA_TX reading and how many
// good samples lie between them, inclusive.
func txSpan(samples []trace.Sample, gpu uint32) (first, last uint64, n int) {
	for _, s := range samples {
		if s.GPU != gpu || !s.OK() {
			continue
		}
		if n == 0 {
			first = s.DataTxKiB
		}
		last = s.DataTxKiB
		n++
	}
	return first, last, n
}
