/* Test driver for linkprof's CUDA graph support: NCCL collectives captured
 * into CUDA graphs (runtime and driver API), replayed, eager calls between,
 * a graph destroyed and its handles reused, custom all-reduces (vLLM's and
 * SGLang's mangled symbols). It writes every call it makes to a truth file,
 * in the order the probes fire, so tests compare every event.
 *
 *   graph-driver graphs N M   graph A replayed N times, graph B every other
 *                             iteration, graph C (A's handles reused) M times
 *   graph-driver devices      one process creating communicators on several
 *                             devices: cudaSetDevice then ncclCommInitRank,
 *                             ncclCommInitAll with a device list and without;
 *                             truth lines "rank device" per communicator
 *
 * Environment: DRIVER_TRUTH=FILE (truth), DRIVER_WAIT=FILE (wait before the
 * first call). Linked against the fake libnccl.so.2, libcudart.so.13,
 * libcuda.so.1, vllm/_C.abi3.so and sgl_kernel/common_ops.abi3.so. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "api.h"
#include "cuda.h"
#include "cuda_runtime.h"

/* The custom all-reduces, by their C++ names (customar.cpp). */
struct fake_impl {
	char head[NUMEL_OFFSET];
	int64_t numel;
	uint16_t dtype;
};
struct fake_tensor {
	struct fake_impl *impl;
};
void vllm_all_reduce(long fa, struct fake_tensor *inp, struct fake_tensor *out, long reg, long reg_sz)
	__asm__("_Z10all_reducelRN2at6TensorES1_ll");
void sgl_all_reduce(long fa, struct fake_tensor *inp, struct fake_tensor *out, long reg, long reg_sz, long ctas)
	__asm__("_Z10all_reducelRN2at6TensorES1_lll");
void other_all_reduce(long fa, struct fake_tensor *inp, struct fake_tensor *out, long reg, long reg_sz)
	__asm__("_ZN5other10all_reduceElRN2at6TensorES2_ll");

static FILE *truth; /* what the program called, for the tests (DRIVER_TRUTH) */

/* Flags as the events carry them: 1 return probe, 2 driver API. */
enum { RET = 1, DRV = 2 };

static void note_coll(const char *op, size_t count, int dtype, int redop, ncclComm_t comm, uintptr_t stream,
		      const void *send, const void *recv)
{
	if (truth)
		fprintf(truth, "%d %s %zu %d %d -1 %lu %lu %lu %lu 0\n", getpid(), op, count, dtype, redop,
			(unsigned long)(uintptr_t)comm, (unsigned long)stream, (unsigned long)(uintptr_t)send,
			(unsigned long)(uintptr_t)recv);
}

/* Graph and custom events: pid kind stream comm aux count dtype peer ret flags. */
static void note_g(const char *kind, uintptr_t stream, uintptr_t comm, uintptr_t aux, uint64_t count, int dtype,
		   int peer, int ret, int flags)
{
	if (truth)
		fprintf(truth, "%d %s %lu %lu %lu %lu %d %d %d %d\n", getpid(), kind, (unsigned long)stream,
			(unsigned long)comm, (unsigned long)aux, (unsigned long)count, dtype, peer, ret, flags);
}

#define BUF(n) ((void *)(uintptr_t)(0x20000000UL + (n) * 0x1000UL))
#define S(n) ((uintptr_t)0x7100UL + (n))

static ncclComm_t comm;

static void all_reduce(size_t count, uintptr_t stream)
{
	api.AllReduce(BUF(1), BUF(2), count, ncclBfloat16, ncclSum, comm, (cudaStream_t)stream);
	note_coll("AllReduce", count, ncclBfloat16, ncclSum, comm, stream, BUF(1), BUF(2));
}

/* A custom all-reduce of n bf16 elements (ScalarType 15 -> ncclBfloat16). */
static void custom_all_reduce(int sglang, int64_t n)
{
	static struct fake_impl in_impl, out_impl;
	struct fake_tensor in = {&in_impl}, out = {&out_impl};
	in_impl.numel = n;
	in_impl.dtype = 15;
	long fa = sglang ? 0x5a000 : 0xfa000;
	if (sglang)
		sgl_all_reduce(fa, &in, &out, 0, 0, 16);
	else
		vllm_all_reduce(fa, &in, &out, 0x4000, 8 << 20);
	note_g("CustomAllReduce", 0, (uintptr_t)fa, 0, (uint64_t)n, ncclBfloat16, -1, 0, 0);
	other_all_reduce(fa, &in, &out, 0, 0); /* not a probed symbol */
}

/* Runtime calls: the fake runtime calls the driver inside, so two events. */
static void rt_begin(uintptr_t s, int mode)
{
	cudaStreamBeginCapture((cudaStream_t)s, (enum cudaStreamCaptureMode)mode);
	note_g("StreamBeginCapture", s, 0, 0, 0, -1, mode, 0, 0);
	note_g("StreamBeginCapture", s, 0, 0, 0, -1, mode, 0, DRV);
}

static cudaGraph_t rt_end(uintptr_t s)
{
	cudaGraph_t g;
	int r = cudaStreamEndCapture((cudaStream_t)s, &g);
	note_g("StreamEndCapture", s, (uintptr_t)g, 0, 0, -1, -1, 0, RET | DRV);
	note_g("StreamEndCapture", s, (uintptr_t)g, 0, 0, -1, -1, r, RET);
	return g;
}

static cudaGraphExec_t rt_instantiate(cudaGraph_t g)
{
	cudaGraphExec_t e;
	int r = cudaGraphInstantiateWithFlags(&e, g, 0);
	note_g("GraphInstantiate", 0, (uintptr_t)g, (uintptr_t)e, 0, -1, -1, 0, RET | DRV);
	note_g("GraphInstantiate", 0, (uintptr_t)g, (uintptr_t)e, 0, -1, -1, r, RET);
	return e;
}

static void rt_launch(cudaGraphExec_t e, uintptr_t s)
{
	cudaGraphLaunch(e, (cudaStream_t)s);
	note_g("GraphLaunch", s, 0, (uintptr_t)e, 0, -1, -1, 0, 0);
	note_g("GraphLaunch", s, 0, (uintptr_t)e, 0, -1, -1, 0, DRV);
}

static void rt_destroy(cudaGraphExec_t e, cudaGraph_t g)
{
	cudaGraphExecDestroy(e);
	note_g("GraphExecDestroy", 0, 0, (uintptr_t)e, 0, -1, -1, 0, 0);
	note_g("GraphExecDestroy", 0, 0, (uintptr_t)e, 0, -1, -1, 0, DRV);
	cudaGraphDestroy(g);
	note_g("GraphDestroy", 0, (uintptr_t)g, 0, 0, -1, -1, 0, 0);
	note_g("GraphDestroy", 0, (uintptr_t)g, 0, 0, -1, -1, 0, DRV);
}

/* torch's NCCL stream joins a capture this way: record an event on the
 * capturing stream, make the other stream wait on it. Recorded only while
 * a capture is open in the process, and in the runtime only (the driver's
 * event functions are not probed). */
static void rt_join(uintptr_t waiter, uintptr_t recorder, uintptr_t ev, int capturing)
{
	cudaEventRecord((cudaEvent_t)ev, (cudaStream_t)recorder);
	cudaStreamWaitEvent((cudaStream_t)waiter, (cudaEvent_t)ev, 0);
	if (!capturing)
		return;
	note_g("EventRecord", recorder, 0, ev, 0, -1, -1, 0, 0);
	note_g("StreamWaitEvent", waiter, 0, ev, 0, -1, -1, 0, 0);
}

static void drv_launch(CUgraphExec e, uintptr_t s)
{
	cuGraphLaunch(e, (CUstream)s);
	note_g("GraphLaunch", s, 0, (uintptr_t)e, 0, -1, -1, 0, DRV);
}

static void setup(void)
{
	ncclUniqueId id;
	memset(&id, 3, sizeof(id));
	api.CommInitRank(&comm, 2, id, 0);
	if (truth)
		fprintf(truth, "%d CommInitRank %lu 0 2\n", getpid(), (unsigned long)(uintptr_t)comm);
}

/* Graph B, driver API: one ReduceScatter on stream 3. */
static CUgraphExec capture_b(CUgraph *gb)
{
	CUgraphExec eb;
	cuStreamBeginCapture_v2((CUstream)S(3), CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
	note_g("StreamBeginCapture", S(3), 0, 0, 0, -1, 1, 0, DRV);
	api.ReduceScatter(BUF(3), BUF(4), 300, ncclFloat32, ncclMax, comm, (cudaStream_t)S(3));
	note_coll("ReduceScatter", 300, ncclFloat32, ncclMax, comm, S(3), BUF(3), BUF(4));
	int r = cuStreamEndCapture((CUstream)S(3), gb);
	note_g("StreamEndCapture", S(3), (uintptr_t)*gb, 0, 0, -1, -1, r, RET | DRV);
	r = cuGraphInstantiateWithFlags(&eb, *gb, 0);
	note_g("GraphInstantiate", 0, (uintptr_t)*gb, (uintptr_t)eb, 0, -1, -1, r, RET | DRV);
	return eb;
}

/* Graph D, the old driver ABIs: no collectives in it, launched 3 times. */
static void graph_d(void)
{
	CUgraph g;
	CUgraphExec e;
	cuStreamBeginCapture((CUstream)S(4));
	note_g("StreamBeginCapture", S(4), 0, 0, 0, -1, -1, 0, DRV);
	int r = cuStreamEndCapture((CUstream)S(4), &g);
	note_g("StreamEndCapture", S(4), (uintptr_t)g, 0, 0, -1, -1, r, RET | DRV);
	r = cuGraphInstantiate(&e, g, NULL, NULL, 0);
	note_g("GraphInstantiate", 0, (uintptr_t)g, (uintptr_t)e, 0, -1, -1, r, RET | DRV);
	for (int i = 0; i < 3; i++)
		drv_launch(e, S(4));
	cuGraphExecDestroy(e);
	note_g("GraphExecDestroy", 0, 0, (uintptr_t)e, 0, -1, -1, 0, DRV);
	cuGraphDestroy(g);
	note_g("GraphDestroy", 0, (uintptr_t)g, 0, 0, -1, -1, 0, DRV);
}

static void pattern_graphs(int n, int m)
{
	setup();
	all_reduce(100, S(1)); /* eager */
	custom_all_reduce(1, 4096); /* eager, SGLang's */
	rt_join(S(5), S(1), 0xe001, 0); /* no capture: joins nothing, not recorded */

	/* Graph A, runtime API, on stream 1: AllReduce, AllGather, an
	 * AllReduce on stream 5 (joined to the capture through an event, as
	 * torch's NCCL stream is) and a custom all-reduce are captured; the
	 * AllReduce on stream 2 is not. */
	rt_begin(S(1), cudaStreamCaptureModeGlobal);
	all_reduce(1000, S(1));
	api.AllGather(BUF(5), BUF(6), 2000, ncclFloat16, comm, (cudaStream_t)S(1));
	note_coll("AllGather", 2000, ncclFloat16, -1, comm, S(1), BUF(5), BUF(6));
	all_reduce(5, S(2));
	rt_join(S(5), S(1), 0xe001, 1);
	all_reduce(3000, S(5));
	rt_join(S(1), S(5), 0xe002, 1);
	all_reduce(11, S(5)); /* still joined: captured */
	custom_all_reduce(0, 8192);
	cudaGraph_t ga = rt_end(S(1));
	all_reduce(9, S(5)); /* the capture ended: stream 5 is eager again */
	rt_join(S(5), S(1), 0xe001, 0); /* no capture open: not recorded */
	cudaGraphExec_t ea = rt_instantiate(ga);

	CUgraph gb;
	CUgraphExec eb = capture_b(&gb);

	for (int i = 0; i < n; i++) {
		rt_launch(ea, S(1));
		all_reduce(7, S(1)); /* eager between replays */
		if (i % 2 == 0)
			drv_launch(eb, S(3));
	}
	rt_destroy(ea, ga);

	/* Graph C reuses A's graph and exec handles (the pools hand them out again). */
	rt_begin(S(1), cudaStreamCaptureModeRelaxed);
	api.Broadcast(BUF(7), BUF(8), 42, ncclInt32, 1, comm, (cudaStream_t)S(1));
	if (truth)
		fprintf(truth, "%d Broadcast 42 %d -1 1 %lu %lu %lu %lu 0\n", getpid(), ncclInt32,
			(unsigned long)(uintptr_t)comm, (unsigned long)S(1), (unsigned long)(uintptr_t)BUF(7),
			(unsigned long)(uintptr_t)BUF(8));
	cudaGraph_t gc = rt_end(S(1));
	cudaGraphExec_t ec = rt_instantiate(gc);
	if (gc != ga || ec != ea)
		fprintf(stderr, "graph-driver: handles not reused (%p %p, %p %p)\n", (void *)gc, (void *)ga,
			(void *)ec, (void *)ea);
	for (int i = 0; i < m; i++)
		rt_launch(ec, S(1));
	graph_d();
}

/* Communicators on the devices nccl-tests -g 2 and ncclCommInitAll use. */
static void pattern_devices(void)
{
	ncclUniqueId id = {0};
	ncclComm_t c[2], all[2], all2[2];
	for (int d = 1; d >= 0; d--) {
		cudaSetDevice(d);
		api.CommInitRank(&c[d], 2, id, d);
		if (truth)
			fprintf(truth, "%d %d\n", d, d);
	}
	int devlist[2] = {1, 0};
	api.CommInitAll(all, 2, devlist);
	api.CommInitAll(all2, 2, NULL);
	if (truth)
		fprintf(truth, "0 1\n1 0\n0 0\n1 1\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "devices") == 0) {
		truth = open_truth();
		if (api_load() != 0)
			return 1;
		pattern_devices();
		if (truth)
			fclose(truth);
		return 0;
	}
	if (argc < 4 || strcmp(argv[1], "graphs") != 0) {
		fprintf(stderr, "usage: graph-driver graphs N M | devices\n");
		return 2;
	}
	truth = open_truth();
	if (getenv("DRIVER_TRUTH") && !truth)
		return 1;
	if (api_load() != 0)
		return 1;
	const char *wait = getenv("DRIVER_WAIT");
	while (wait && access(wait, F_OK) != 0)
		usleep(1000);
	pattern_graphs(atoi(argv[1 + 1]), atoi(argv[3]));
	if (truth)
		fclose(truth);
	return 0;
}
