package main

import (
	"github.com/linkprof/linkprof/trace"
)

// recording is one process on GPU 0 calling ncclAllReduce back to back at
// callRate, four sizes in turn (small ones LL, large ones Simple), and
// optionally NVML samples of GPU 0 every millisecond whose counters move
// with the calls.
type recording struct {
	calls   int
	samples bool
}

const (
	callRate   = 200_000 // calls per second: a thread's rate with the uprobe floor far below it
	sampleNs   = 1_000_000
	startMono  = int64(1_000_000_000)
	startWall  = int64(1_800_000_000_000_000_000)
	pid        = 4242
	commHandle = 0x7f00c0
	bf16       = trace.DataType(9)
)

var sizes = []uint64{4 << 10, 64 << 10, 1 << 20, 16 << 20} // elements

func (r recording) durationNs() int64 { return int64(r.calls) * 1e9 / callRate }

func (r recording) sampleCount() int {
	if !r.samples {
		return 0
	}
	return int(r.durationNs()/sampleNs) + 1
}

func (r recording) write(dir string) error {
	w, err := trace.Create(dir, false)
	if err != nil {
		return err
	}
	clock := func(ns int64, src string) trace.Clock {
		return trace.Clock{Source: src, MonoNs: startMono + ns, WallNs: startWall + ns}
	}
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "analysisbench", Clock: clock(0, "start")})
	w.WriteJSON(trace.RecProcess, trace.Process{Pid: pid, Comm: "python3", Rank: 0, LocalRank: 0, WorldSize: 2, GPU: 0,
		NCCLPath: "/usr/lib/libnccl.so.2"})
	if r.samples {
		w.WriteJSON(trace.RecGPU, trace.GPU{Index: 0, UUID: "GPU-bench", PeakLinkBps: 450e9})
	}
	r.writeBody(w)
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: clock(r.durationNs()+sampleNs, "stop"), Reason: "duration",
		Events: uint64(r.calls)})
	return w.Close()
}

// writeBody interleaves the calls and samples a millisecond at a time, as
// the recorder writes them.
func (r recording) writeBody(w *trace.Writer) {
	var raw []byte
	var txKiB uint64
	call := 0
	for t := int64(0); call < r.calls; t += sampleNs {
		raw = raw[:0]
		for ; call < r.calls && int64(call)*1e9/callRate < t+sampleNs; call++ {
			count := sizes[call%len(sizes)]
			raw = trace.AppendEvent(raw, trace.Event{TsNs: uint64(startMono + int64(call)*1e9/callRate), Pid: pid, Tid: pid,
				Kind: trace.AllReduce, StackID: -1, Count: count, Comm: commHandle, Stream: 0x5000, DataType: bf16,
				Peer: -1, Rank: -1, NRanks: -1})
			txKiB += count * 2 / 1024 // 2 ranks: a rank sends the payload once
		}
		w.WriteEvents(raw)
		if r.samples {
			at := startMono + t + sampleNs
			w.WriteSamples(trace.Sample{GPU: 0, Flags: trace.SampleOK, MonoBeforeNs: at - 20_000, MonoAfterNs: at,
				WallUs: (startWall + t + sampleNs) / 1000, DataTxKiB: txKiB, DataRxKiB: txKiB, RawTxKiB: txKiB, RawRxKiB: txKiB})
		}
	}
}
