package extra

import (
	"testing"

	"github.com/ianlancetaylor/demangle"
)

const torchCUDA = "/venv/lib/python3.12/site-packages/torch/lib/libtorch_cuda.so"

// The shipped entries match the libraries and mangled names vLLM, SGLang
// and torch ship, and nothing that merely shares the base name.
func TestTableMatches(t *testing.T) {
	cases := []struct {
		path, symbol, want string // want: the entry's name, "" none
	}{
		{"/venv/lib/python3.12/site-packages/vllm/_C.abi3.so", "_Z10all_reducelRN2at6TensorES1_ll", "vllm-custom-all-reduce"},
		{"/venv/lib/python3.12/site-packages/vllm/_C.abi3.so", "_Z10all_reducelRKN2at6TensorERS0_ll", "vllm-custom-all-reduce"},
		{"/venv/lib/python3.12/site-packages/vllm/_C.abi3.so", "_ZN5other10all_reduceElRN2at6TensorES2_ll", ""},
		{"/venv/lib/python3.12/site-packages/vllm/_C.abi3.so", "_Z15all_reduce_metalRN2at6TensorE", ""},
		{"/venv/lib/python3.12/site-packages/vllm/_moe_C.abi3.so", "_Z10all_reducelRN2at6TensorES1_ll", ""},
		{"/venv/lib/python3.12/site-packages/sgl_kernel/common_ops.abi3.so", "_Z10all_reducelRN2at6TensorES1_lll", "sglang-custom-all-reduce"},
		{"/venv/lib/python3.12/site-packages/sgl_kernel/sm100/common_ops.abi3.so", "_Z10all_reducelRN2at6TensorES1_lll", "sglang-custom-all-reduce"},
		{"/venv/lib/python3.12/site-packages/sgl_kernel/common_ops.abi3.so", "_Z14all_reduce_reglRN2at6TensorES1_", "sglang-custom-all-reduce"},
		{"/venv/lib/python3.12/site-packages/torch/lib/libtorch_cuda.so", "_Z10all_reducelRN2at6TensorES1_ll", ""},
		// torch 2.11's libtorch_cuda.so (nvcc names the anonymous namespace per file)
		{torchCUDA, "_ZN64_GLOBAL__N__62167398_25_CUDASymmetricMemoryOps_cu_39041df9_1350719one_shot_all_reduceERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", "torch-symm-mem-one-shot-all-reduce"},
		{torchCUDA, "_ZN64_GLOBAL__N__62167398_25_CUDASymmetricMemoryOps_cu_39041df9_1350719one_shot_all_reduceERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_.cold", ""},
		// g++'s names for the same functions (the test's fake library)
		{torchCUDA, "_ZN12_GLOBAL__N_123one_shot_all_reduce_outERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_S1_", "torch-symm-mem-one-shot-all-reduce"},
		{torchCUDA, "_ZN12_GLOBAL__N_132multimem_one_shot_all_reduce_outERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_S1_", "torch-symm-mem-one-shot-all-reduce"},
		{torchCUDA, "_ZN12_GLOBAL__N_124one_shot_all_reduce_copyERKN2at6TensorES3_NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", "torch-symm-mem-one-shot-all-reduce-copy"},
		{torchCUDA, "_ZN12_GLOBAL__N_128one_shot_all_reduce_copy_outERKN2at6TensorES3_NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_S1_", "torch-symm-mem-one-shot-all-reduce-copy"},
		{torchCUDA, "_ZN12_GLOBAL__N_120two_shot_all_reduce_EN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES7_", "torch-symm-mem-two-shot-all-reduce"},
		{torchCUDA, "_ZN12_GLOBAL__N_123two_shot_all_reduce_outEN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES7_S1_", "torch-symm-mem-two-shot-all-reduce"},
		{torchCUDA, "_ZN12_GLOBAL__N_120multimem_all_reduce_ERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", "torch-symm-mem-multimem-all-reduce"},
		{torchCUDA, "_ZN12_GLOBAL__N_118reduce_scatter_outEN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEbS1_", "torch-symm-mem-reduce-scatter"},
		{torchCUDA, "_ZN12_GLOBAL__N_123multimem_all_gather_outERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES1_", "torch-symm-mem-all-gather"},
		// the helpers every entry calls, and the multicast one-shot that calls its _out twin: each call would count twice
		{torchCUDA, "_ZN12_GLOBAL__N_128one_shot_all_reduce_out_implERKN2at6TensorERKSt8optionalIS1_ENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEESD_S1_", ""},
		{torchCUDA, "_ZN12_GLOBAL__N_124two_shot_all_reduce_implEN2at6TensorESt8optionalIS1_ENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", ""},
		{torchCUDA, "_ZN12_GLOBAL__N_128multimem_one_shot_all_reduceERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", ""},
		// outside the anonymous namespace, the old std::string ABI, another library
		{torchCUDA, "_ZN5other19one_shot_all_reduceERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", ""},
		{torchCUDA, "_ZN12_GLOBAL__N_119one_shot_all_reduceERKN2at6TensorESsSs", ""},
		{"/venv/lib/python3.12/site-packages/torch/lib/libtorch.so", "_ZN12_GLOBAL__N_119one_shot_all_reduceERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_", ""},
	}
	for _, c := range cases {
		got := ""
		for _, p := range ForLibrary(Table, c.path) {
			if p.Demangled.MatchString(demangle.Filter(c.symbol)) {
				got = p.Name
			}
		}
		if got != c.want {
			t.Errorf("%s in %s (%s): matched %q, want %q", c.symbol, c.path, demangle.Filter(c.symbol), got, c.want)
		}
	}
}

// The attach cookie carries a tensor offset in 8-byte words, 8 bits wide.
func TestTensorOffsetsFitTheCookie(t *testing.T) {
	for _, p := range Table {
		if p.TensorNumelOffset%8 != 0 || p.TensorNumelOffset >= 2048 {
			t.Errorf("%s: numel offset %d is not a multiple of 8 below 2048", p.Name, p.TensorNumelOffset)
		}
	}
}
