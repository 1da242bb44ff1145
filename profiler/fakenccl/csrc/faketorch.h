// The part of torch a fake libtorch_cuda.so and its driver share: at::Tensor
// with the calling convention torch's has (a user-provided copy constructor
// and destructor make it non-trivial for calls: passed by value through a
// hidden reference, returned through a hidden slot pointer), its TensorImpl
// with numel and the dtype at NUMEL_OFFSET, and the symmetric memory
// operators' signatures (torch/csrc/distributed/c10d/symm_mem/
// CUDASymmetricMemoryOps.cu), reached through function pointers as torch's
// dispatcher reaches them.
#ifndef LINKPROF_FAKE_TORCH_H
#define LINKPROF_FAKE_TORCH_H
#include <cstdint>
#include <string>

#ifndef NUMEL_OFFSET
#error "build with -DNUMEL_OFFSET=<offset of numel_ in TensorImpl>"
#endif

namespace at {
struct TensorImpl {
	char head[NUMEL_OFFSET];
	int64_t numel;
	uint16_t dtype; // c10::ScalarType: 5 Half, 6 Float, 15 BFloat16
};

class Tensor {
public:
	explicit Tensor(TensorImpl *impl) : impl_(impl) {}
	Tensor(const Tensor &other) : impl_(other.impl_) { copies++; }
	~Tensor() { impl_ = nullptr; }
	int64_t numel() const { return impl_->numel; }
	TensorImpl *impl_;
	static inline volatile int copies = 0;
};
} // namespace at

namespace symm {
using Str = std::string;
using AllReduce = at::Tensor (*)(const at::Tensor &, Str, Str);
using AllReduceOut = at::Tensor (*)(const at::Tensor &, Str, Str, at::Tensor);
using Copy = at::Tensor (*)(const at::Tensor &, const at::Tensor &, Str, Str);
using CopyOut = at::Tensor (*)(const at::Tensor &, const at::Tensor &, Str, Str, at::Tensor);
using TwoShot = at::Tensor (*)(at::Tensor, Str, Str);
using TwoShotOut = at::Tensor (*)(at::Tensor, Str, Str, at::Tensor);
using ReduceScatterOut = at::Tensor (*)(at::Tensor, Str, bool, at::Tensor);
using AllGatherOut = at::Tensor (*)(const at::Tensor &, Str, at::Tensor);
} // namespace symm

// The registered operator of that name (torch.ops.symm_mem.NAME), or null.
extern "C" void *fake_symm_mem_op(const char *name);
#endif
