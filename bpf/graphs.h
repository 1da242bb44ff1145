/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Probes on the CUDA graph API (libcudart and libcuda.so.1). Included by nccl.c,
 * whose helpers (begin, submit, arg, retval, args_event) these use. Event fields per
 * kind: docs/trace-format.md, "CUDA graph and custom collective events". */
#ifndef __LINKPROF_GRAPHS_H
#define __LINKPROF_GRAPHS_H

/* A capture end or an instantiation between its entry and its return. */
struct pending_graph {
	__u64 slot;   /* cudaGraph_t* (end capture) or cudaGraphExec_t* (instantiate) */
	__u64 handle; /* end capture: the stream; instantiate: the graph */
	__u16 kind;
	__u16 flags;
	__u32 _pad;
};

/* Keyed by thread and API layer: cudaStreamEndCapture may call
 * cuStreamEndCapture, and both are probed, so the two calls in flight on one
 * thread must not share a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct pending_graph);
} pending_graphs SEC(".maps");

/* Captures open per process (runtime and driver twins both count, and
 * both end). Event record and stream wait matter only while one is open:
 * torch calls them around every collective, so they are dropped otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __s32);
} open_captures SEC(".maps");

static __always_inline void count_capture(int delta)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__s32 *n = bpf_map_lookup_elem(&open_captures, &tgid);
	if (n) {
		__sync_fetch_and_add(n, delta);
		if (*n <= 0)
			bpf_map_delete_elem(&open_captures, &tgid);
	} else if (delta > 0) {
		bpf_map_update_elem(&open_captures, &tgid, &delta, BPF_ANY);
	}
}

static __always_inline int capture_open(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&open_captures, &tgid) != 0;
}

static __always_inline __u64 graph_key(__u16 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	/* tgids stay below 2^22, so bit 63 of the id is free. */
	return (flags & LP_FLAG_DRIVER) ? id | (1ull << 63) : id;
}

/* cudaStreamBeginCapture(stream, mode), cuStreamBeginCapture_v2(stream,
 * mode), cuStreamBeginCapture(stream): the cookie names the arguments. */
static __always_inline int begin_capture(struct pt_regs *ctx, __u64 cookie)
{
	if (!is_target())
		return 0;
	count_capture(1);
	return args_event(ctx, cookie);
}

/* Entry of cudaStreamEndCapture(stream, cudaGraph_t*) and of the
 * instantiations (cudaGraphExec_t*, cudaGraph_t, ...): remember where the
 * new handle will be written; the return probe emits the event. */
static __always_inline int graph_call(struct pt_regs *ctx, __u64 cookie)
{
	if (!is_target())
		return 0;
	struct pending_graph p = {};
	p.kind = LP_COOKIE_KIND(cookie);
	p.flags = LP_COOKIE_FLAGS(cookie);
	if (p.kind == LP_STREAM_END_CAPTURE) {
		p.handle = arg(ctx, 1);
		p.slot = arg(ctx, 2);
	} else {
		p.slot = arg(ctx, 1);
		p.handle = arg(ctx, 2);
	}
	__u64 key = graph_key(p.flags);
	bpf_map_update_elem(&pending_graphs, &key, &p, BPF_ANY);
	return 0;
}

static __always_inline int graph_return(struct pt_regs *ctx, __u64 cookie)
{
	__u64 key = graph_key(LP_COOKIE_FLAGS(cookie));
	struct pending_graph *pp = bpf_map_lookup_elem(&pending_graphs, &key);
	if (!pp)
		return 0;
	struct pending_graph p = *pp;
	bpf_map_delete_elem(&pending_graphs, &key);
	if (p.kind == LP_STREAM_END_CAPTURE)
		count_capture(-1); /* a failed end ends the capture too */
	struct lp_event *e = begin(ctx, p.kind);
	if (!e)
		return 0;
	__u64 out = 0;
	bpf_probe_read_user(&out, sizeof(out), (void *)p.slot);
	e->flags = LP_FLAG_RETURN | p.flags;
	e->ret = (__s32)retval(ctx);
	if (p.kind == LP_STREAM_END_CAPTURE) {
		e->stream = p.handle;
		e->comm = out;
	} else {
		e->comm = p.handle;
		e->aux = out;
	}
	submit(e);
	return 0;
}

/* cudaGraphLaunch(exec, stream), cudaGraphExecDestroy(exec),
 * cudaGraphDestroy(graph), cudaEventRecord(event, stream),
 * cudaStreamWaitEvent(stream, event, flags) and their driver twins. */
static __always_inline int graph_handle(struct pt_regs *ctx, __u64 cookie)
{
	__u16 kind = LP_COOKIE_KIND(cookie);
	if ((kind == LP_EVENT_RECORD || kind == LP_STREAM_WAIT_EVENT) && !capture_open())
		return 0;
	struct lp_event *e = begin(ctx, kind);
	if (!e)
		return 0;
	/* Both arguments are read unconditionally: reading ctx at an offset
	 * chosen by kind compiles to a ctx access the verifier refuses. */
	__u64 a1 = arg(ctx, 1), a2 = arg(ctx, 2);
	e->flags |= LP_COOKIE_FLAGS(cookie);
	switch (kind) {
	case LP_GRAPH_DESTROY:
		e->comm = a1;
		break;
	case LP_STREAM_WAIT_EVENT:
		e->stream = a1;
		e->aux = a2;
		break;
	case LP_GRAPH_EXEC_DESTROY:
		e->aux = a1;
		break;
	default: /* launch, event record: (handle, stream) */
		e->aux = a1;
		e->stream = a2;
	}
	submit(e);
	return 0;
}

#endif
