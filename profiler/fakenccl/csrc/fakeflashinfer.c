/* A fake FlashInfer communication module: the TVM-FFI exports
 * (__tvm_ffi_<op>) of trtllm_comm.so (-DTRTLLM_COMM), trtllm_mnnvl_comm.so
 * (-DMNNVL_COMM) or vllm_comm.so (-DVLLM_COMM). Each adds its arguments'
 * count to a counter, so it is not folded away. */
#include "fakeffi.h"

volatile int64_t fake_ffi_calls;

static int touch(const TVMFFIAny *args, int32_t num_args, TVMFFIAny *result)
{
	fake_ffi_calls += num_args + (args != 0);
	result->type_index = 0;
	return 0;
}

#ifdef TRTLLM_COMM
FFI_EXPORT(trtllm_custom_all_reduce) { return touch(args, num_args, result) + (self != 0); }
FFI_EXPORT(trtllm_allreduce_fusion) { return touch(args, num_args, result) + (self != 0); }
FFI_EXPORT(trtllm_moe_allreduce_fusion) { return touch(args, num_args, result) + (self != 0); }
FFI_EXPORT(trtllm_moe_finalize_allreduce_fusion) { return touch(args, num_args, result) + (self != 0); }
/* Not a collective: never probed. */
FFI_EXPORT(trtllm_lamport_initialize) { return touch(args, num_args, result) + (self != 0); }
#endif
#ifdef MNNVL_COMM
FFI_EXPORT(trtllm_mnnvl_allreduce_fusion) { return touch(args, num_args, result) + (self != 0); }
#endif
#ifdef VLLM_COMM
FFI_EXPORT(all_reduce) { return touch(args, num_args, result) + (self != 0); }
FFI_EXPORT(dispose) { return touch(args, num_args, result) + (self != 0); }
#endif
