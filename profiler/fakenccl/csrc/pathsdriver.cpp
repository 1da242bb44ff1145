// Test driver for the library paths of linkprof's extra-probe table
// (profiler/extra/libraries.go): FlashInfer's TVM-FFI exports, DeepEP V1 and
// V2 buffer members, pplx-kernels' ops, NVSHMEM's stream collectives, all
// fakes with the real symbol names. It makes every call N times and writes
// each call a probe should record to a truth file, in order:
//
//   pid kind comm count dtype peer stream
//
// and nothing for the calls that must not be recorded (the decoys).
//
//   paths-driver N        Environment: DRIVER_TRUTH=FILE.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "fakedeepep.h"
#include "fakenvshmem.h"
#include "fakepplx.h"
extern "C" {
#include "fakeffi.h"
}

static FILE *truth;

static void note(const char *kind, uintptr_t comm, uint64_t count, int dtype, int peer, uintptr_t stream)
{
	if (truth)
		fprintf(truth, "%d %s %lu %lu %d %d %lu\n", getpid(), kind, (unsigned long)comm, (unsigned long)count,
			dtype, peer, (unsigned long)stream);
}

// c10::ScalarType values and the ncclDataType_t linkprof maps them to.
enum { kHalf = 5, kFloat = 6, kBFloat16 = 15, kFloat8_e4m3fn = 24 };
enum { ncclInt8 = 0, ncclUint8 = 1, ncclInt64 = 4, ncclFloat16 = 6, ncclFloat32 = 7, ncclBfloat16 = 9, ncclFp8E4M3 = 10 };

// A torch tensor of numel elements of scalar type st (the impl lives as long
// as the program: probes read it while the call runs).
static at::Tensor tensor(int64_t numel, uint16_t st)
{
	auto *impl = new at::TensorImpl();
	impl->numel = numel;
	impl->dtype = st;
	at::Tensor t;
	t.impl = impl;
	return t;
}

// A DLTensor of the given shape and DLPack dtype.
static DLTensor *dltensor(std::vector<int64_t> shape, uint8_t code, uint8_t bits)
{
	auto *dims = new int64_t[shape.size()];
	for (size_t i = 0; i < shape.size(); i++)
		dims[i] = shape[i];
	auto *t = new DLTensor();
	t->ndim = (int32_t)shape.size();
	t->dtype = DLDataType{code, bits, 1};
	t->shape = dims;
	return t;
}

// Packed arguments with the tensor at index at, passed as a DLTensor* or,
// when object, as a tensor object; the rest are ints.
static std::vector<TVMFFIAny> packed(size_t n, size_t at, DLTensor *t, bool object)
{
	std::vector<TVMFFIAny> args(n);
	for (auto &a : args) {
		a.type_index = kTVMFFIInt;
		a.v_int64 = 8;
	}
	if (object) {
		auto *o = new FFITensorObj();
		o->header.type_index = kTVMFFITensor;
		o->tensor = *t;
		args[at].type_index = kTVMFFITensor;
		args[at].v_ptr = o;
	} else {
		args[at].type_index = kTVMFFIDLTensorPtr;
		args[at].v_ptr = t;
	}
	return args;
}

using ffi_fn = int (*)(void *, const TVMFFIAny *, int32_t, TVMFFIAny *);

static void ffi_call(ffi_fn f, std::vector<TVMFFIAny> args)
{
	TVMFFIAny result{};
	f(nullptr, args.data(), (int32_t)args.size(), &result);
}

static void flashinfer()
{
	ffi_call(__tvm_ffi_trtllm_custom_all_reduce, packed(16, 0, dltensor({4, 1024}, 4, 16), false));
	note("FlashInferAllReduce", 0, 4096, ncclBfloat16, -1, 0);
	ffi_call(__tvm_ffi_trtllm_allreduce_fusion, packed(24, 0, dltensor({8, 512}, 2, 16), true));
	note("FlashInferAllReduceFusion", 0, 4096, ncclFloat16, -1, 0);
	ffi_call(__tvm_ffi_trtllm_moe_allreduce_fusion, packed(21, 6, dltensor({2, 3, 5}, 2, 32), true));
	note("FlashInferAllReduceFusion", 0, 30, ncclFloat32, -1, 0);
	ffi_call(__tvm_ffi_trtllm_moe_finalize_allreduce_fusion, packed(17, 1, dltensor({16, 128}, 4, 16), false));
	note("FlashInferAllReduceFusion", 0, 2048, ncclBfloat16, -1, 0);
	ffi_call(__tvm_ffi_trtllm_mnnvl_allreduce_fusion, packed(21, 0, dltensor({64, 7168}, 10, 8), true));
	note("FlashInferAllReduceFusion", 0, 64 * 7168, ncclFp8E4M3, -1, 0);
	ffi_call(__tvm_ffi_all_reduce, packed(6, 1, dltensor({1000}, 2, 32), false));
	note("FlashInferAllReduce", 0, 1000, ncclFloat32, -1, 0);
	// An int where the tensor should be: recorded, size unknown.
	ffi_call(__tvm_ffi_trtllm_custom_all_reduce, packed(16, 1, dltensor({7}, 2, 32), false));
	note("FlashInferAllReduce", 0, 0, -1, -1, 0);
	// Not collectives.
	ffi_call(__tvm_ffi_trtllm_lamport_initialize, packed(3, 0, dltensor({5}, 2, 32), false));
	ffi_call(__tvm_ffi_dispose, packed(1, 0, dltensor({5}, 2, 32), false));
}

static void deepep_v1()
{
	deep_ep::Buffer b{};
	auto comm = (uintptr_t)&b;
	deep_ep::Config cfg{};
	deep_ep::OE ev;
	at::Tensor t = tensor(1, kFloat);
	b.intranode_dispatch(tensor(128 * 7168, kFloat8_e4m3fn), {}, {}, {}, {}, t, {}, 0, {}, {}, 1, 0, cfg, ev, false,
			     false);
	note("DeepEPDispatch", comm, 128 * 7168, ncclFp8E4M3, -1, 0);
	b.intranode_combine(tensor(300 * 7168, kBFloat16), {}, {}, {}, t, t, t, t, cfg, ev, false, false);
	note("DeepEPCombine", comm, 300 * 7168, ncclBfloat16, -1, 0);
	b.internode_dispatch(tensor(64 * 4096, kBFloat16), {}, {}, {}, {}, {}, t, {}, 0, 0, {}, {}, {}, {}, 1, cfg, ev,
			     false, false);
	note("DeepEPDispatch", comm, 64 * 4096, ncclBfloat16, -1, 0);
	b.internode_combine(tensor(65 * 4096, kBFloat16), {}, {}, {}, t, t, t, t, t, t, t, cfg, ev, false, false);
	note("DeepEPCombine", comm, 65 * 4096, ncclBfloat16, -1, 0);
	b.low_latency_dispatch(tensor(32 * 7168, kBFloat16), t, {}, {}, 128, 256, true, false, false, false, false);
	note("DeepEPDispatch", comm, 32 * 7168, ncclBfloat16, -1, 0);
	b.low_latency_combine(tensor(4 * 1024 * 7168, kBFloat16), t, t, t, t, {}, 128, 256, false, false, false,
			      false);
	note("DeepEPCombine", comm, 4 * 1024 * 7168, ncclBfloat16, -1, 0);
	b.get_next_low_latency_combine_buffer(128, 7168, 256);
}

static void deepep_v2()
{
	deep_ep::legacy::Buffer b{};
	deep_ep::elastic::ElasticBuffer e{};
	auto comm = (uintptr_t)&b, ecomm = (uintptr_t)&e;
	deep_ep::legacy::Config cfg{};
	deep_ep::OE ev;
	at::Tensor t = tensor(1, kFloat);
	b.intranode_dispatch(tensor(100, kBFloat16), {}, {}, {}, {}, t, {}, 0, {}, {}, 1, 0, cfg, ev, false, false);
	note("DeepEPDispatch", comm, 100, ncclBfloat16, -1, 0);
	b.intranode_combine(tensor(200, kBFloat16), {}, {}, {}, t, t, t, t, cfg, ev, false, false);
	note("DeepEPCombine", comm, 200, ncclBfloat16, -1, 0);
	b.low_latency_dispatch(tensor(300, kBFloat16), t, {}, {}, 128, 256, true, false, false, false, false);
	note("DeepEPDispatch", comm, 300, ncclBfloat16, -1, 0);
	b.low_latency_combine(tensor(400, kBFloat16), t, t, t, t, {}, 128, 256, false, false, false, false);
	note("DeepEPCombine", comm, 400, ncclBfloat16, -1, 0);
	int i = 0;
	bool f = false;
	e.dispatch(tensor(500, kFloat8_e4m3fn), {}, t, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, i, i, i, i, i, ev,
		   ev, f, f, f, f, f, f, f);
	note("DeepEPDispatch", ecomm, 500, ncclFp8E4M3, -1, 0);
	e.combine(tensor(600, kBFloat16), {}, {}, {}, t, t, t, {}, {}, i, i, i, i, ev, ev, f, f, f);
	note("DeepEPCombine", ecomm, 600, ncclBfloat16, -1, 0);
}

static void pplx()
{
	pplx_ops ops{};
	fake_pplx_register(&ops);
	at::Tensor t = tensor(1, kFloat), out = tensor(7, kBFloat16);
	ops.intranode_dispatch(0x5001, t, t, {}, tensor(256 * 7168, kFloat8_e4m3fn), {}, t, {}, true, true);
	note("PplxDispatch", 0x5001, 256 * 7168, ncclFp8E4M3, -1, 0);
	ops.internode_dispatch(0x5002, t, t, {}, tensor(16 * 2048, kBFloat16), {}, t, {}, true, false);
	note("PplxDispatch", 0x5002, 16 * 2048, ncclBfloat16, -1, 0);
	ops.intranode_combine(0x5001, out, t, t, t, {}, true, true);
	note("PplxCombine", 0x5001, 7, ncclBfloat16, -1, 0);
	ops.internode_combine(0x5002, out, t, t, t, {}, false, true);
	note("PplxCombine", 0x5002, 7, ncclBfloat16, -1, 0);
	ops.meta_dispatch(0x5003, t, t, {}, t, {}, t, {}, true, true); // the Meta kernel: not a collective
}

#define BUF(n) ((void *)(uintptr_t)(0x20000000UL + (n) * 0x1000UL))
#define STREAM(n) ((cudaStream_t)(uintptr_t)(0x7100UL + (n)))

static void nvshmem()
{
	nvshmemx_float_sum_reduce_on_stream(0, (float *)BUF(1), (float *)BUF(2), 1000, STREAM(1));
	note("NVSHMEMAllReduce", 0, 1000, ncclFloat32, -1, 0x7101);
	nvshmemx_bfloat16_max_reduce_on_stream(3, (uint16_t *)BUF(1), (uint16_t *)BUF(2), 2048, STREAM(2));
	note("NVSHMEMAllReduce", 3, 2048, ncclBfloat16, -1, 0x7102);
	nvshmemx_half_fcollect_on_stream(0, (uint16_t *)BUF(3), (uint16_t *)BUF(4), 512, STREAM(1));
	note("NVSHMEMAllGather", 0, 512, ncclFloat16, -1, 0x7101);
	nvshmemx_int64_alltoall_on_stream(1, (int64_t *)BUF(5), (int64_t *)BUF(6), 64, STREAM(3));
	note("NVSHMEMAlltoAll", 1, 64, ncclInt64, -1, 0x7103);
	// The mem variant calls the char variant: one event, bytes as int8.
	nvshmemx_alltoallmem_on_stream(0, BUF(7), BUF(8), 4096, STREAM(1));
	note("NVSHMEMAlltoAll", 0, 4096, ncclInt8, -1, 0x7101);
	nvshmemx_uint8_broadcast_on_stream(0, (uint8_t *)BUF(9), (uint8_t *)BUF(10), 333, 2, STREAM(4));
	note("NVSHMEMBroadcast", 0, 333, ncclUint8, 2, 0x7104);
	// Not probed: no NCCL dtype for short, no kind for reduce-scatter, a barrier.
	nvshmemx_short_sum_reduce_on_stream(0, (short *)BUF(1), (short *)BUF(2), 10, STREAM(1));
	nvshmemx_float_sum_reducescatter_on_stream(0, (float *)BUF(1), (float *)BUF(2), 10, STREAM(1));
	nvshmemx_barrier_on_stream(0, STREAM(1));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: paths-driver N\n");
		return 2;
	}
	int n = atoi(argv[1]);
	const char *path = getenv("DRIVER_TRUTH");
	if (path && !(truth = fopen(path, "w"))) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		flashinfer();
		deepep_v1();
		deepep_v2();
		pplx();
		nvshmem();
	}
	if (truth)
		fclose(truth);
	return 0;
}
