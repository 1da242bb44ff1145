// A fake custom all-reduce library, compiled as C++ so its symbols carry
// the real mangled names: vLLM's vllm/_C.abi3.so and SGLang's sgl_kernel
// export `all_reduce(long, at::Tensor&, at::Tensor&, long, long[, long])`.
// at::Tensor holds its TensorImpl* first; numel and the dtype sit at
// NUMEL_OFFSET in the TensorImpl, as linkprof's table expects of torch.
#include <cstdint>

#ifndef NUMEL_OFFSET
#error "build with -DNUMEL_OFFSET=<offset of numel_ in TensorImpl>"
#endif

namespace at {
struct TensorImpl {
	char head[NUMEL_OFFSET];
	int64_t numel;
	uint16_t dtype;
};
struct Tensor {
	TensorImpl *impl;
};
} // namespace at

volatile int64_t fake_custom_ar_elements;

#ifdef SGLANG
void all_reduce(long fa, at::Tensor &inp, at::Tensor &out, long reg_buffer, long reg_buffer_sz_bytes, long num_ctas)
{
	fake_custom_ar_elements += inp.impl->numel + num_ctas + (fa & 1) + (reg_buffer & 1) + (reg_buffer_sz_bytes & 1);
	out.impl->numel = inp.impl->numel;
}
#else
void all_reduce(long fa, at::Tensor &inp, at::Tensor &out, long reg_buffer, long reg_buffer_sz_bytes)
{
	fake_custom_ar_elements += inp.impl->numel + (fa & 1) + (reg_buffer & 1) + (reg_buffer_sz_bytes & 1);
	out.impl->numel = inp.impl->numel;
}
#endif

// Same base name, other namespace: the demangled-name pattern must not match.
namespace other {
void all_reduce(long fa, at::Tensor &inp, at::Tensor &out, long reg_buffer, long reg_buffer_sz_bytes)
{
	fake_custom_ar_elements -= inp.impl->numel + fa + reg_buffer + reg_buffer_sz_bytes + (out.impl != 0);
}
} // namespace other
