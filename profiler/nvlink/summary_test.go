package nvlink_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/profiler/nvlink"
	"github.com/linkprof/linkprof/trace"
)

func TestSummarizeExact(t *testing.T) {
	gpus := []trace.GPU{{Index: 0, UUID: "GPU-a", PeakLinkBps: 100e9}, {Index: 1, UUID: "GPU-b"}}
	ms := int64(1e6)
	smp := func(gpu uint32, at int64, tx, rx uint64, ok bool) trace.Sample {
		s := trace.Sample{GPU: gpu, MonoBeforeNs: at - ms/2, MonoAfterNs: at + ms/2, DataTxKiB: tx, DataRxKiB: rx}
		if ok {
			s.Flags = trace.SampleOK
		}
		return s
	}
	samples := []trace.Sample{
		// GPU 0 at 0, 10, 20, (gap at 30), 40 ms: TX +1e6 KiB in 10 ms = 102.4 GB/s,
		// then idle, then 1e4 KiB over 20 ms (0.512 GB/s, under 5% of 100 GB/s).
		smp(0, 0, 5, 0, true),
		smp(0, 10*ms, 5+1e6, 1e5, true),
		smp(0, 20*ms, 5+1e6, 1e5, true),
		smp(0, 30*ms, 0, 0, false),
		smp(0, 40*ms, 5+1e6+1e4, 1e5, true),
		smp(1, 0, 0, 0, true),
	}
	got := nvlink.SummarizeSamples(gpus, samples)
	g := got[0]
	if g.Index != 0 || g.UUID != "GPU-a" || g.Samples != 4 || g.Gaps != 1 {
		t.Fatalf("%+v", g)
	}
	if g.TxBytes != (1e6+1e4)*1024 || g.RxBytes != 1e5*1024 {
		t.Errorf("bytes %d %d", g.TxBytes, g.RxBytes)
	}
	if g.SampleHz != 75 { // 3 intervals in 40 ms
		t.Errorf("Hz %g", g.SampleHz)
	}
	if g.PeakTxBps != 1e6*1024/0.010 || g.PeakRxBps != 1e5*1024/0.010 {
		t.Errorf("peaks %g %g", g.PeakTxBps, g.PeakRxBps)
	}
	if g.MeanTxBps != float64((1e6+1e4)*1024)/0.040 {
		t.Errorf("mean %g", g.MeanTxBps)
	}
	if g.BusyFraction != 1.0/3 || g.BusyRefBps != 100e9 {
		t.Errorf("busy %g of %g", g.BusyFraction, g.BusyRefBps)
	}
	if b := got[1]; b.Samples != 1 || b.TxBytes != 0 || b.SampleHz != 0 {
		t.Errorf("one-sample GPU: %+v", b)
	}
	var buf bytes.Buffer
	if err := nvlink.WriteText(&buf, got); err != nil || !strings.Contains(buf.String(), "102.4") {
		t.Errorf("text:\n%s", buf.String())
	}
}
