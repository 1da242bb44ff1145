package extra

import (
	"testing"

	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/trace"
)

// match returns the entry of table that probes symbol in the library at
// path, and the dtype it fixes; "" none.
func match(path, symbol string) (string, trace.DataType) {
	for _, p := range ForLibrary(Table, path) {
		if dt, ok := p.Match(demangle.Filter(symbol, demangle.NoClones)); ok {
			return p.Name, dt
		}
	}
	return "", -1
}

// Paths as the libraries are installed.
const (
	fiJIT      = "/home/u/.cache/flashinfer/0.6.17/90/cached_ops/"
	fiAOT      = "/venv/lib/python3.12/site-packages/flashinfer_jit_cache/jit_cache/"
	deepEPV1   = "/venv/lib/python3.12/site-packages/deep_ep_cpp.cpython-312-x86_64-linux-gnu.so"
	deepEPV2   = "/venv/lib/python3.12/site-packages/deep_ep/_C.cpython-312-x86_64-linux-gnu.so"
	pplxLib    = "/venv/lib/python3.12/site-packages/pplx_kernels/libpplx_kernels.so"
	nvshmemLib = "/venv/lib/python3.12/site-packages/nvidia/nvshmem/lib/libnvshmem_host.so.3"
)

// The real entry points (mangled as g++ mangles the signatures in the
// projects' sources) match their entries, and their neighbours do not.
func TestLibraryEntriesMatchRealNames(t *testing.T) {
	cases := []struct{ path, symbol, want string }{
		// flashinfer-ai/flashinfer fb28d7242b3506a2348265962041acc1fb56cca4: TVM_FFI_DLL_EXPORT_TYPED_FUNC
		// in csrc/trtllm_allreduce.cu, trtllm_allreduce_fusion.cu, trtllm_moe_allreduce_fusion.cu
		// (module trtllm_comm), trtllm_mnnvl_allreduce.cu (trtllm_mnnvl_comm), vllm_custom_all_reduce.cu
		// (vllm_comm); modules named in flashinfer/jit/comm.py.
		{fiJIT + "trtllm_comm/trtllm_comm.so", "__tvm_ffi_trtllm_custom_all_reduce", "flashinfer-trtllm-all-reduce"},
		{fiAOT + "trtllm_comm/trtllm_comm.so", "__tvm_ffi_trtllm_allreduce_fusion", "flashinfer-allreduce-fusion"},
		{fiJIT + "trtllm_comm/trtllm_comm.so", "__tvm_ffi_trtllm_moe_allreduce_fusion", "flashinfer-moe-allreduce-fusion"},
		{fiJIT + "trtllm_comm/trtllm_comm.so", "__tvm_ffi_trtllm_moe_finalize_allreduce_fusion", "flashinfer-moe-finalize-allreduce-fusion"},
		{fiJIT + "trtllm_mnnvl_comm/trtllm_mnnvl_comm.so", "__tvm_ffi_trtllm_mnnvl_allreduce_fusion", "flashinfer-mnnvl-allreduce"},
		{fiJIT + "vllm_comm/vllm_comm.so", "__tvm_ffi_all_reduce", "flashinfer-vllm-all-reduce"},
		{fiJIT + "trtllm_comm/trtllm_comm.so", "__tvm_ffi_trtllm_lamport_initialize", ""},
		{fiJIT + "trtllm_comm/trtllm_comm.so", "__tvm_ffi__metadata_trtllm_custom_all_reduce", ""},
		{fiJIT + "vllm_comm/vllm_comm.so", "__tvm_ffi_register_buffer", ""},
		{fiJIT + "comm/comm.so", "__tvm_ffi_trtllm_custom_all_reduce", ""},
		// deepseek-ai/DeepEP v1.2.1 (9af0e0d0e74f3577af1979c9b9e1ac2cad0104ee), csrc/deep_ep.hpp.
		{deepEPV1, "_ZN7deep_ep6Buffer18intranode_dispatchERKN2at6TensorERKSt8optionalIS2_ES8_S8_S8_S4_S8_iS8_S8_iiRKNS_6ConfigERS5_INS_11EventHandleEEbb", "deepep-dispatch"},
		{deepEPV1, "_ZN7deep_ep6Buffer17intranode_combineERKN2at6TensorERKSt8optionalIS2_ES8_S8_S4_S4_S4_S4_RKNS_6ConfigERS5_INS_11EventHandleEEbb", "deepep-combine"},
		{deepEPV1, "_ZN7deep_ep6Buffer18internode_dispatchERKN2at6TensorERKSt8optionalIS2_ES8_S8_S8_S8_S4_S8_iiS8_S8_S8_S8_iRKNS_6ConfigERS5_INS_11EventHandleEEbb", "deepep-dispatch"},
		{deepEPV1, "_ZN7deep_ep6Buffer17internode_combineERKN2at6TensorERKSt8optionalIS2_ES8_S8_S4_S4_S4_S4_S4_S4_S4_RKNS_6ConfigERS5_INS_11EventHandleEEbb", "deepep-combine"},
		{deepEPV1, "_ZN7deep_ep6Buffer20low_latency_dispatchERKN2at6TensorES4_RKSt8optionalIS2_ES8_iibbbbb", "deepep-dispatch"},
		{deepEPV1, "_ZN7deep_ep6Buffer19low_latency_combineERKN2at6TensorES4_S4_S4_S4_RKSt8optionalIS2_EiibbbbS8_", "deepep-combine"},
		{deepEPV1, "_ZNK7deep_ep6Buffer35get_next_low_latency_combine_bufferEiii", ""},
		// The kernel launcher (csrc/kernels/api.cuh) is not the entry point.
		{deepEPV1, "_ZN7deep_ep9intranode8dispatchEPvPfPiPlS2_S3_S3_PKvPKfPKlS8_PKbPKiiiiiiiiiPS1_iiP11CUstream_stiii", ""},
		// deepseek-ai/DeepEP dd758caf451848bd150e1046af3d0a73e5fff38d (V2), csrc/legacy/buffer.hpp
		// and csrc/elastic/buffer.hpp.
		{deepEPV2, "_ZN7deep_ep6legacy6Buffer18intranode_dispatchERKN2at6TensorERKSt8optionalIS3_ES9_S9_S9_S5_S9_iS9_S9_iiRKNS0_6ConfigERS6_INS_11EventHandleEEbb", "deepep-dispatch"},
		{deepEPV2, "_ZN7deep_ep6legacy6Buffer17intranode_combineERKN2at6TensorERKSt8optionalIS3_ES9_S9_S5_S5_S5_S5_RKNS0_6ConfigERKS6_INS_11EventHandleEEbb", "deepep-combine"},
		{deepEPV2, "_ZN7deep_ep6legacy6Buffer18internode_dispatchERKN2at6TensorERKSt8optionalIS3_ES9_S9_S9_S9_S5_S9_iiS9_S9_S9_S9_iiRKNS0_6ConfigERS6_INS_11EventHandleEEbb", "deepep-dispatch"},
		{deepEPV2, "_ZN7deep_ep6legacy6Buffer17internode_combineERKN2at6TensorERKSt8optionalIS3_ES9_S9_S5_S5_S5_S5_S5_S5_S5_RKNS0_6ConfigERKS6_INS_11EventHandleEEbb", "deepep-combine"},
		{deepEPV2, "_ZN7deep_ep6legacy6Buffer20low_latency_dispatchERKN2at6TensorES5_RKSt8optionalIS3_ES9_iibbbbb", "deepep-dispatch"},
		{deepEPV2, "_ZN7deep_ep6legacy6Buffer19low_latency_combineERKN2at6TensorES5_S5_S5_S5_RKSt8optionalIS3_EiibbbbS9_", "deepep-combine"},
		{deepEPV2, "_ZNK7deep_ep7elastic13ElasticBuffer8dispatchERKN2at6TensorERKSt8optionalIS3_ES5_S9_S9_RKS6_IiESC_RKS6_ISt6vectorIiSaIiEEES9_S9_S9_S9_S9_S9_S9_RKiSK_SK_SK_SK_RKS6_INS_11EventHandleEESO_RKbSQ_SQ_SQ_SQ_SQ_SQ_", "deepep-dispatch"},
		{deepEPV2, "_ZNK7deep_ep7elastic13ElasticBuffer7combineERKN2at6TensorERKSt8optionalIS3_ES9_S9_S5_S5_S5_S9_S9_RKiSB_SB_SB_RKS6_INS_11EventHandleEESF_RKbSH_SH_", "deepep-combine"},
		{"/venv/lib/python3.12/site-packages/deep_ep/other.so", "_ZN7deep_ep6legacy6Buffer20low_latency_dispatchERKN2at6TensorES5_RKSt8optionalIS3_ES9_iibbbbb", ""},
		// perplexityai/pplx-kernels 2bd6e30fab358829bd01d1c0907be8088ff9e5e1, csrc/bindings/all_to_all_ops.cpp
		// (library src/pplx_kernels/libpplx_kernels.so, setup.py).
		{pplxLib, "_ZN12_GLOBAL__N_18dispatchIN4pplx17AllToAllIntraNodeEEEvlRN2at6TensorES5_RKSt8optionalIS4_ERKS4_S9_SB_S9_bb", "pplx-dispatch"},
		{pplxLib, "_ZN12_GLOBAL__N_18dispatchIN4pplx17AllToAllInterNodeEEEvlRN2at6TensorES5_RKSt8optionalIS4_ERKS4_S9_SB_S9_bb", "pplx-dispatch"},
		{pplxLib, "_ZN12_GLOBAL__N_17combineIN4pplx17AllToAllIntraNodeEEEvlRN2at6TensorERKS4_S7_S7_RKSt8optionalIS4_Ebb", "pplx-combine"},
		{pplxLib, "_ZN12_GLOBAL__N_17combineIN4pplx17AllToAllInterNodeEEEvlRN2at6TensorERKS4_S7_S7_RKSt8optionalIS4_Ebb", "pplx-combine"},
		{pplxLib, "_ZN12_GLOBAL__N_113fake_dispatchElRN2at6TensorES2_RKSt8optionalIS1_ERKS1_S6_S8_S6_bb", ""},
		// NVIDIA/nvshmem v3.4.5-0 (2d7d25f0816235e3c2b51779571ec032606ea0dd), src/include/host/nvshmemx_coll_api.h.
		{nvshmemLib, "nvshmemx_float_sum_reduce_on_stream", "nvshmem-reduce"},
		{nvshmemLib, "nvshmemx_uint64_xor_reduce_on_stream", "nvshmem-reduce"},
		{nvshmemLib, "nvshmemx_bfloat16_fcollect_on_stream", "nvshmem-fcollect"},
		{nvshmemLib, "nvshmemx_int8_alltoall_on_stream", "nvshmem-alltoall"},
		{nvshmemLib, "nvshmemx_double_broadcast_on_stream", "nvshmem-broadcast"},
		{nvshmemLib, "nvshmemx_alltoallmem_on_stream", ""}, // recorded through the char variant it calls
		{nvshmemLib, "nvshmemx_short_sum_reduce_on_stream", ""},
		{nvshmemLib, "nvshmemx_float_sum_reducescatter_on_stream", ""},
		{nvshmemLib, "nvshmemx_float_sum_reduce_block", ""},
		{nvshmemLib, "nvshmem_float_sum_reduce", ""},
		{nvshmemLib, "nvshmemx_barrier_all_on_stream", ""},
		{"/usr/lib/libnvshmem_device.a", "nvshmemx_float_sum_reduce_on_stream", ""},
	}
	for _, c := range cases {
		if got, _ := match(c.path, c.symbol); got != c.want {
			t.Errorf("%s in %s (%s): matched %q, want %q", c.symbol, c.path, demangle.Filter(c.symbol), got, c.want)
		}
	}
}

// NVSHMEM's type names (NVSHMEMI_REPT_FOR_STANDARD_RMA_TYPES in
// src/include/device_host/nvshmem_common.cuh, v3.4.5-0) map to the
// ncclDataType_t of their size and kind; the 2-byte integers have none.
func TestNVSHMEMTypesFixTheDtype(t *testing.T) {
	want := map[string]trace.DataType{
		"bfloat16": 9, "half": 6, "float": 7, "double": 8, "char": 0, "schar": 0, "int": 2, "long": 4,
		"longlong": 4, "uchar": 1, "uint": 3, "ulong": 5, "ulonglong": 5, "int8": 0, "int32": 2, "int64": 4,
		"uint8": 1, "uint32": 3, "uint64": 5, "size": 5, "ptrdiff": 4,
	}
	unprobed := []string{"short", "ushort", "int16", "uint16"}
	for name, dt := range want {
		got, dtype := match(nvshmemLib, "nvshmemx_"+name+"_sum_reduce_on_stream")
		if got != "nvshmem-reduce" || dtype != dt {
			t.Errorf("%s: matched %q dtype %v, want nvshmem-reduce %v", name, got, dtype, dt)
		}
	}
	for _, name := range unprobed {
		if got, _ := match(nvshmemLib, "nvshmemx_"+name+"_alltoall_on_stream"); got != "" {
			t.Errorf("%s has no NCCL dtype but matched %q", name, got)
		}
	}
}

// Every entry's arguments fit the attach cookie: 4 bits each, and the BPF
// program reads the first eight.
func TestEntryArgumentsFitTheCookie(t *testing.T) {
	for _, p := range Table {
		shift := 0
		if p.HiddenReturn {
			shift = 1
		}
		for _, n := range []int{p.SizeArg, p.CommArg, p.PeerArg, p.StreamArg} {
			if n < 0 || n+shift > 8 {
				t.Errorf("%s: argument %d (+%d) is not one the BPF program reads", p.Name, n, shift)
			}
		}
		if (p.SizeMode == SizeTyped) != (p.DTypes != nil) {
			t.Errorf("%s: DTypes go with SizeTyped and only with it", p.Name)
		}
		if p.SizeMode == SizeTyped && p.Demangled.SubexpIndex("type") < 0 {
			t.Errorf("%s: a typed entry needs a (?P<type>...) group", p.Name)
		}
	}
}
