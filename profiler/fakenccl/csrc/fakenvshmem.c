/* A fake libnvshmem_host.so: the stream collectives the tests call, by
 * their C names. alltoallmem calls the char variant as NVSHMEM does
 * (src/host/coll/alltoall/alltoall_on_stream.cpp): through the PLT, since
 * the variant is an exported, interposable symbol. short and reducescatter
 * variants exist but are not probed. */
#include "fakenvshmem.h"

volatile int64_t fake_nvshmem_elements;

#define COLL(name, type) \
	int name(nvshmem_team_t team, type *dest, const type *src, size_t n, cudaStream_t stream) \
	{ \
		fake_nvshmem_elements += (int64_t)n + team + (dest != src) + (stream != 0); \
		return 0; \
	}

COLL(nvshmemx_float_sum_reduce_on_stream, float)
COLL(nvshmemx_bfloat16_max_reduce_on_stream, nv_bfloat16_bits)
COLL(nvshmemx_short_sum_reduce_on_stream, short)
COLL(nvshmemx_float_sum_reducescatter_on_stream, float)
COLL(nvshmemx_half_fcollect_on_stream, uint16_t)
COLL(nvshmemx_int64_alltoall_on_stream, int64_t)
COLL(nvshmemx_char_alltoall_on_stream, char)

int nvshmemx_alltoallmem_on_stream(nvshmem_team_t team, void *dest, const void *src, size_t nelem,
				   cudaStream_t stream)
{
	return nvshmemx_char_alltoall_on_stream(team, (char *)dest, (const char *)src, nelem, stream);
}

int nvshmemx_uint8_broadcast_on_stream(nvshmem_team_t team, uint8_t *dest, const uint8_t *src, size_t nelem,
				       int PE_root, cudaStream_t stream)
{
	fake_nvshmem_elements += (int64_t)nelem + team + PE_root + (dest != src) + (stream != 0);
	return 0;
}

int nvshmemx_barrier_on_stream(nvshmem_team_t team, cudaStream_t stream)
{
	fake_nvshmem_elements += team + (stream != 0);
	return 0;
}
