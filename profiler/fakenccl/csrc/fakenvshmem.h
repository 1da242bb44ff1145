/* NVSHMEM's host stream collectives (src/include/host/nvshmemx_coll_api.h),
 * those the tests call. nvshmem_team_t is int32_t; TEAM_WORLD is 0. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
typedef int32_t nvshmem_team_t;
typedef struct CUstream_st *cudaStream_t;
typedef uint16_t nv_bfloat16_bits; /* __nv_bfloat16's storage */

int nvshmemx_float_sum_reduce_on_stream(nvshmem_team_t team, float *dest, const float *src, size_t nreduce,
					cudaStream_t stream);
int nvshmemx_bfloat16_max_reduce_on_stream(nvshmem_team_t team, nv_bfloat16_bits *dest, const nv_bfloat16_bits *src,
					   size_t nreduce, cudaStream_t stream);
int nvshmemx_short_sum_reduce_on_stream(nvshmem_team_t team, short *dest, const short *src, size_t nreduce,
					cudaStream_t stream);
int nvshmemx_float_sum_reducescatter_on_stream(nvshmem_team_t team, float *dest, const float *src, size_t nreduce,
					       cudaStream_t stream);
int nvshmemx_half_fcollect_on_stream(nvshmem_team_t team, uint16_t *dest, const uint16_t *src, size_t nelem,
				     cudaStream_t stream);
int nvshmemx_int64_alltoall_on_stream(nvshmem_team_t team, int64_t *dest, const int64_t *src, size_t nelem,
				      cudaStream_t stream);
int nvshmemx_char_alltoall_on_stream(nvshmem_team_t team, char *dest, const char *src, size_t nelem,
				     cudaStream_t stream);
int nvshmemx_alltoallmem_on_stream(nvshmem_team_t team, void *dest, const void *src, size_t nelem,
				   cudaStream_t stream);
int nvshmemx_uint8_broadcast_on_stream(nvshmem_team_t team, uint8_t *dest, const uint8_t *src, size_t nelem,
				       int PE_root, cudaStream_t stream);
int nvshmemx_barrier_on_stream(nvshmem_team_t team, cudaStream_t stream);
#ifdef __cplusplus
}
#endif
