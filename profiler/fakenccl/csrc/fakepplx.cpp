// A fake pplx-kernels library (libpplx_kernels.so): dispatch<Kernel> and
// combine<Kernel> in an anonymous namespace with the real parameter types,
// so their local symbols carry the real mangled names; fake_dispatch is the
// Meta kernel, not a collective.
#include "fakepplx.h"

volatile int64_t fake_pplx_elements;

namespace pplx {
struct AllToAllIntraNode {};
struct AllToAllInterNode {};
} // namespace pplx

namespace {

template <typename Kernel>
void dispatch(long ptr, at::Tensor &, at::Tensor &, const std::optional<at::Tensor> &, const at::Tensor &dpX,
	      const std::optional<at::Tensor> &, const at::Tensor &, const std::optional<at::Tensor> &, bool doSend,
	      bool doRecv)
{
	fake_pplx_elements += dpX.impl->numel + (ptr & 1) + doSend + doRecv + (int)sizeof(Kernel);
}

template <typename Kernel>
void combine(long ptr, at::Tensor &outTokens, const at::Tensor &, const at::Tensor &, const at::Tensor &,
	     const std::optional<at::Tensor> &, bool doSend, bool doRecv)
{
	fake_pplx_elements += outTokens.impl->numel + (ptr & 1) + doSend + doRecv + 2 * (int)sizeof(Kernel);
}

void fake_dispatch(long ptr, at::Tensor &, at::Tensor &, const std::optional<at::Tensor> &, const at::Tensor &dpX,
		   const std::optional<at::Tensor> &, const at::Tensor &, const std::optional<at::Tensor> &, bool, bool)
{
	fake_pplx_elements -= dpX.impl->numel + ptr;
}

} // namespace

extern "C" void fake_pplx_register(pplx_ops *ops)
{
	ops->intranode_dispatch = &dispatch<pplx::AllToAllIntraNode>;
	ops->internode_dispatch = &dispatch<pplx::AllToAllInterNode>;
	ops->meta_dispatch = &fake_dispatch;
	ops->intranode_combine = &combine<pplx::AllToAllIntraNode>;
	ops->internode_combine = &combine<pplx::AllToAllInterNode>;
}
