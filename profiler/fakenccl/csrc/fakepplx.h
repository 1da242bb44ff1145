// pplx-kernels' torch ops as the fake registers them: the op functions live
// in an anonymous namespace (csrc/bindings/all_to_all_ops.cpp), so only
// their addresses leave the library, as torch's dispatcher gets them.
#pragma once
#include <optional>

#include "faketensor.h"

using pplx_dispatch_fn = void (*)(long ptr, at::Tensor &out_expert_num_tokens, at::Tensor &out_expert_x,
				  const std::optional<at::Tensor> &out_expert_x_scale, const at::Tensor &dp_x,
				  const std::optional<at::Tensor> &dp_x_scale, const at::Tensor &indices,
				  const std::optional<at::Tensor> &bound_m, bool do_send, bool do_recv);
using pplx_combine_fn = void (*)(long ptr, at::Tensor &out_tokens, const at::Tensor &indices,
				 const at::Tensor &weights, const at::Tensor &expert_y,
				 const std::optional<at::Tensor> &bound_m, bool do_send, bool do_recv);

struct pplx_ops {
	pplx_dispatch_fn intranode_dispatch, internode_dispatch, meta_dispatch;
	pplx_combine_fn intranode_combine, internode_combine;
};

// Fills ops, as TORCH_LIBRARY(pplx_kernels, m) registers them.
extern "C" void fake_pplx_register(pplx_ops *ops);
