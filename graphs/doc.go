// Package graphs turns recorded events into the collectives that really
// executed, when processes use CUDA graphs.
//
// A collective issued on a stream that is being captured into a CUDA graph
// does not run: it is recorded into the graph, and runs each time an exec
// instantiated from that graph is launched, with no host call to NCCL
// (docs/nccl-facts.md, "CUDA graphs"). So counting NCCL calls undercounts replays
// and overcounts captures. This package keeps the capture state per
// process, stream and thread, maps graph -> exec at instantiation, and
// expands every launch into the graph's captured sequence.
//
// # Use
//
// Feed every event of a trace, in order, to one Model; each Add returns the
// collectives the event stands for:
//
//	m := graphs.New()
//	for _, e := range tr.Events {
//		for _, c := range m.Add(e) {
//			if c.Executed() { ... count, attribute, label with c.Phase ... }
//		}
//	}
//	for _, g := range m.Graphs() { report.Graphs = append(report.Graphs, g.Summary()) }
//
// or, with the whole trace in memory, calls, gs := graphs.Expand(tr.Events).
//
// Add returns, for
//   - an NCCL collective (trace.Kind.IsCollective) or a custom one
//     (IsCustomCollective): one Call, Phase Eager, or Phase Capture when it
//     was issued on a capturing stream (custom collectives with no stream
//     argument, all but NVSHMEM's, count as captured when their thread began
//     a capture still open);
//   - ncclGroupStart/ncclGroupEnd: one Call with the same phase rules on
//     the calling thread, so grouped point-to-point keeps its framing in
//     replays (Executed reports false for them: they are not collectives);
//   - a graph launch: one Call per captured event, Phase Replay, in capture
//     order. Its Event is the captured event with TsNs, Tid and Stream
//     replaced by the launch's (the graph runs on the launch stream, in
//     launch order); Comm, Count, DataType, buffers and StackID (the
//     capture site, which names the model code) stay;
//   - anything else: nothing (the graph calls update the state).
//
// Call.Executed is true for eager and replayed collectives: docs/design.md's
// `calls` counts those, never capture-time calls.
//
// # What it relies on
//
//   - A stream joins a capture when it waits (cudaStreamWaitEvent) on an
//     event recorded (cudaEventRecord) on a stream of that capture, and
//     leaves it when the capture ends: torch issues NCCL on its own stream,
//     joined this way, so its collectives are captured though their stream
//     is not the one captured. The recorder writes these two kinds only
//     while the process has a capture open.
//   - A runtime call (libcudart) may call its driver twin (libcuda) inside
//     itself, and both are probed: two consecutive events on one thread of
//     the same kind and handles, one with trace.FlagDriver and one
//     without, are one call. Driver-only callers are counted once too.
//   - Handles are reused after destroy (the driver frees and reallocates):
//     every capture end makes a new Graph, the newest graph of a handle wins
//     at instantiation, and a launch resolves its exec to the graph it was
//     instantiated from, even when that graph was destroyed since (an exec
//     outlives its graph).
//   - Graph and exec handles are per process.
//   - A launch of an exec whose instantiation was not recorded (recording
//     began after it) makes a Graph with Unknown set: its launches count,
//     its contents are unknown, and no collective is expanded for it.
//   - A failed capture end or instantiation (ret != 0) makes nothing.
package graphs
