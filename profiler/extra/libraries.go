package extra

import (
	"regexp"

	"github.com/linkprof/linkprof/trace"
)

// libraryProbes are the collective libraries serving frameworks call
// instead of NCCL: FlashInfer's communication kernels, DeepEP and
// pplx-kernels dispatch/combine, NVSHMEM's stream collectives. Names and
// signatures are read from each project's sources (the table tests cite
// file and commit); docs/paths.md says how each size is read and how its
// bytes are modelled. None was run on a GPU here: each is checked against
// a fake library with the same symbol names (profiler/fakenccl).
var libraryProbes = concat(flashInferProbes, deepEPProbes, pplxProbes, nvshmemProbes)

func concat(lists ...[]Probe) []Probe {
	var out []Probe
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// FlashInfer (0.4 and later) exports its ops through TVM-FFI: each is a C
// function __tvm_ffi_<name>(void* self, const TVMFFIAny* args, int32_t
// num_args, TVMFFIAny* result), the one entry every Python call goes
// through. The size is the tensor at a fixed index of args. The modules are
// JIT-built into ~/.cache/flashinfer/<version>/<arch>/cached_ops/<module>/
// or shipped by flashinfer-jit-cache (jit_cache/<module>/<module>.so).
var (
	flashInferTrtllmComm = regexp.MustCompile(`/trtllm_comm\.so$`)
	flashInferMNNVLComm  = regexp.MustCompile(`/trtllm_mnnvl_comm\.so$`)
	flashInferVLLMComm   = regexp.MustCompile(`/vllm_comm\.so$`)
)

func flashInferOp(name string, lib *regexp.Regexp, export string, kind trace.Kind, tensorArg uint8) Probe {
	return Probe{
		Name: name, Framework: "vllm, sglang", Library: lib,
		Contains: "__tvm_ffi_", Demangled: regexp.MustCompile(`^__tvm_ffi_` + export + `$`), Kind: kind,
		SizeArg: 2, SizeMode: SizeFFITensor, FFIArg: tensorArg,
	}
}

var flashInferProbes = []Probe{
	// trtllm_custom_all_reduce(in, out, tp_size, tp_rank, ...): in.
	flashInferOp("flashinfer-trtllm-all-reduce", flashInferTrtllmComm, "trtllm_custom_all_reduce", trace.FlashInferAllReduce, 0),
	// trtllm_allreduce_fusion(allreduce_in, world_size, world_rank, token_num, hidden_size, ...):
	// allreduce_in, token_num x hidden_size elements.
	flashInferOp("flashinfer-allreduce-fusion", flashInferTrtllmComm, "trtllm_allreduce_fusion", trace.FlashInferAllReduceFusion, 0),
	// trtllm_moe_allreduce_fusion(world_size, world_rank, token_num, hidden_size,
	// workspace_ptrs, launch_with_pdl, residual_in, ...): residual_in, token_num x hidden_size.
	flashInferOp("flashinfer-moe-allreduce-fusion", flashInferTrtllmComm, "trtllm_moe_allreduce_fusion", trace.FlashInferAllReduceFusion, 6),
	// trtllm_moe_finalize_allreduce_fusion(allreduce_in, residual_in, ...): the
	// reduced size is residual_in.numel().
	flashInferOp("flashinfer-moe-finalize-allreduce-fusion", flashInferTrtllmComm, "trtllm_moe_finalize_allreduce_fusion", trace.FlashInferAllReduceFusion, 1),
	// trtllm_mnnvl_allreduce_fusion(input, multicast_buffer_ptr, ...): input.
	flashInferOp("flashinfer-mnnvl-allreduce", flashInferMNNVLComm, "trtllm_mnnvl_allreduce_fusion", trace.FlashInferAllReduceFusion, 0),
	// FlashInfer's copy of vLLM's custom all-reduce: all_reduce(fa, inp, out, reg_buffer, ...): inp.
	flashInferOp("flashinfer-vllm-all-reduce", flashInferVLLMComm, "all_reduce", trace.FlashInferAllReduce, 1),
}

// DeepEP's host entry points are members of its buffer class: V1 (1.x,
// deep_ep_cpp*.so) deep_ep::Buffer; V2 (deep_ep/_C*.so) the same class as
// deep_ep::legacy::Buffer and deep_ep::elastic::ElasticBuffer. Each
// returns a std::tuple by value (a hidden return pointer), takes `this`
// first and the tokens x (const at::Tensor&) second; `this` identifies
// the buffer (its communicator).
var deepEPLibrary = regexp.MustCompile(`/(deep_ep_cpp|deep_ep/_C)[^/]*\.so[^/]*$`)

func deepEPOp(name, op string, kind trace.Kind) Probe {
	return Probe{
		Name: name, Framework: "vllm, sglang", Library: deepEPLibrary, Contains: "deep_ep",
		Demangled: regexp.MustCompile(`^deep_ep::((legacy::)?Buffer::(intranode|internode|low_latency)_` + op +
			`|elastic::ElasticBuffer::` + op + `)(\[abi:\w+\])?\(at::Tensor const&, `),
		Kind: kind, CommArg: 1, SizeArg: 2, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
		HiddenReturn: true,
	}
}

var deepEPProbes = []Probe{
	deepEPOp("deepep-dispatch", "dispatch", trace.DeepEPDispatch),
	deepEPOp("deepep-combine", "combine", trace.DeepEPCombine),
}

// pplx-kernels registers its ops with torch from an anonymous namespace
// (csrc/bindings/all_to_all_ops.cpp): dispatch<Kernel>(fptr_t ptr, Tensor&
// outExpertNumTokens, Tensor& outExpertX, optional<Tensor> const&
// outExpertXScale, Tensor const& dpX, ...) and combine<Kernel>(fptr_t ptr,
// Tensor& outTokens, ...), Kernel AllToAllIntraNode or AllToAllInterNode.
// The symbols are local: found in .symtab (a stripped library has none).
// ptr is the all-to-all object; dispatch sends dpX, combine returns
// outTokens' worth of tokens.
var pplxLibrary = regexp.MustCompile(`/pplx_kernels/[^/]*\.so[^/]*$`)

func pplxOp(name, op string, kind trace.Kind, sizeArg int) Probe {
	return Probe{
		Name: name, Framework: "vllm", Library: pplxLibrary, Contains: "pplx",
		Demangled: regexp.MustCompile(`^void \(anonymous namespace\)::` + op +
			`<pplx::AllToAll(IntraNode|InterNode)>\(long, at::Tensor&, `),
		Kind: kind, CommArg: 1, SizeArg: sizeArg, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	}
}

var pplxProbes = []Probe{
	pplxOp("pplx-dispatch", "dispatch", trace.PplxDispatch, 5),
	pplxOp("pplx-combine", "combine", trace.PplxCombine, 2),
}

// NVSHMEM's host collectives on a stream (src/include/host/nvshmemx_coll_api.h),
// C functions in libnvshmem_host.so: nvshmemx_<type>_<op>_reduce_on_stream,
// nvshmemx_<type>_fcollect_on_stream and nvshmemx_<type>_alltoall_on_stream
// (team, dest, src, nelem, stream), nvshmemx_<type>_broadcast_on_stream
// (team, dest, src, nelem, PE_root, stream). The element type is in the
// name. The *mem_on_stream variants call the char variant through the PLT
// (src/host/coll/*/..._on_stream.cpp), so they are recorded as it: int8,
// count = bytes. comm is the team handle (NVSHMEM_TEAM_WORLD is 0).
var nvshmemLibrary = regexp.MustCompile(`/libnvshmem_host\.so[^/]*$`)

// nvshmemTypes maps NVSHMEM's type names (NVSHMEMI_REPT_FOR_STANDARD_RMA_TYPES,
// LP64) to ncclDataType_t. The 2-byte integers and complex types have none
// and are not probed.
var nvshmemTypes = map[string]trace.DataType{
	"char": 0, "schar": 0, "int8": 0, "uchar": 1, "uint8": 1,
	"int": 2, "int32": 2, "uint": 3, "uint32": 3,
	"long": 4, "longlong": 4, "int64": 4, "ptrdiff": 4,
	"ulong": 5, "ulonglong": 5, "uint64": 5, "size": 5,
	"half": 6, "float": 7, "double": 8, "bfloat16": 9,
}

func nvshmemOp(name, op string, kind trace.Kind, peer, stream int) Probe {
	return Probe{
		Name: name, Framework: "flashinfer, nvshmem4py", Library: nvshmemLibrary, Contains: "_on_stream",
		Demangled: regexp.MustCompile(`^nvshmemx_(?P<type>[a-z0-9]+)_` + op + `_on_stream$`),
		Kind:      kind, CommArg: 1, SizeArg: 4, SizeMode: SizeTyped, DTypes: nvshmemTypes,
		PeerArg: peer, StreamArg: stream,
	}
}

var nvshmemProbes = []Probe{
	nvshmemOp("nvshmem-reduce", `(sum|prod|min|max|and|or|xor)_reduce`, trace.NVSHMEMAllReduce, 0, 5),
	nvshmemOp("nvshmem-fcollect", "fcollect", trace.NVSHMEMAllGather, 0, 5),
	nvshmemOp("nvshmem-alltoall", "alltoall", trace.NVSHMEMAlltoAll, 0, 5),
	nvshmemOp("nvshmem-broadcast", "broadcast", trace.NVSHMEMBroadcast, 5, 6),
}
