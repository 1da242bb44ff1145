/* TVM-FFI's packed-call ABI as FlashInfer's modules export it
 * (tvm/ffi/c_api.h, dlpack/dlpack.h): the layouts linkprof reads. */
#pragma once
#include <stdint.h>

typedef struct {
	uint8_t code, bits;
	uint16_t lanes;
} DLDataType;

typedef struct {
	void *data;
	int32_t device_type, device_id;
	int32_t ndim;
	DLDataType dtype;
	int64_t *shape;
	int64_t *strides;
	uint64_t byte_offset;
} DLTensor;

/* TVMFFIObject: combined refcount, type index, padding, deleter: 24 bytes. */
typedef struct {
	uint64_t combined_ref_count;
	int32_t type_index;
	uint32_t padding;
	void (*deleter)(void *self, int flags);
} TVMFFIObject;

/* A tensor object: the DLTensor right after the object header. */
typedef struct {
	TVMFFIObject header;
	DLTensor tensor;
} FFITensorObj;

typedef struct {
	int32_t type_index;
	uint32_t zero_padding;
	union {
		int64_t v_int64;
		void *v_ptr;
	};
} TVMFFIAny;

enum { kTVMFFIInt = 1, kTVMFFIDLTensorPtr = 7, kTVMFFITensor = 70 };

#define FFI_EXPORT(name) \
	int __tvm_ffi_##name(void *self, const TVMFFIAny *args, int32_t num_args, TVMFFIAny *result)

FFI_EXPORT(trtllm_custom_all_reduce);
FFI_EXPORT(trtllm_allreduce_fusion);
FFI_EXPORT(trtllm_moe_allreduce_fusion);
FFI_EXPORT(trtllm_moe_finalize_allreduce_fusion);
FFI_EXPORT(trtllm_lamport_initialize);
FFI_EXPORT(trtllm_mnnvl_allreduce_fusion);
FFI_EXPORT(all_reduce);
FFI_EXPORT(dispose);
