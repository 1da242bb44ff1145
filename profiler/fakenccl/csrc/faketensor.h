// at::Tensor as linkprof reads it: the Tensor holds its TensorImpl* first;
// numel and the c10::ScalarType sit at NUMEL_OFFSET in the TensorImpl
// (profiler/extra's TorchNumelOffset). The destructor makes it, like the
// real one, non-trivial for calls. Same layout as customar.cpp's.
#pragma once
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
	TensorImpl *impl = nullptr;
	~Tensor() {}
};
} // namespace at
