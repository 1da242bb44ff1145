package extra

import (
	"testing"

	"github.com/ianlancetaylor/demangle"
)

// The shipped entries match the libraries and mangled names vLLM and
// SGLang ship, and nothing that merely shares the base name.
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
