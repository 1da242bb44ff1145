/* A fake NCCL: every API function linkprof probes, with NCCL's exact
 * signatures and NCCL's symbol layout (pncclX with ncclX as a weak alias at
 * the same address). The calls move no data; they do a little work so the
 * compiler keeps them, and create communicator handles for init calls. */
#include <stdlib.h>
#include "nccl.h"

#define NCCL_API(ret, func, ...) \
	ret p##func(__VA_ARGS__); \
	ret func(__VA_ARGS__) __attribute__((weak, alias("p" #func))); \
	ret p##func(__VA_ARGS__)

struct ncclComm {
	int rank;
	int nranks;
};

/* Every call bumps this, so each function has a body and a distinct address. */
volatile unsigned long fake_nccl_calls;

/* Where real NCCL keeps its VERSION_STRING, linkprof looks for it too. */
const char fake_nccl_banner[] = "NCCL version 2.28.9+cuda13.0";

static ncclResult_t touch(size_t n)
{
	fake_nccl_calls += 1 + (n & 1);
	return ncclSuccess;
}

static ncclComm_t new_comm(int rank, int nranks)
{
	ncclComm_t c = malloc(sizeof(*c));
	c->rank = rank;
	c->nranks = nranks;
	return c;
}

NCCL_API(ncclResult_t, ncclGetVersion, int *version)
{
	*version = 22809;
	return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommInitRank, ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank)
{
	touch((size_t)commId.internal[0]);
	*comm = new_comm(rank, nranks);
	return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommInitRankConfig, ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank,
	 ncclConfig_t *config)
{
	touch((size_t)commId.internal[1] + (config ? 1 : 0));
	*comm = new_comm(rank, nranks);
	return ncclSuccess;
}

NCCL_API(ncclResult_t, ncclCommInitAll, ncclComm_t *comms, int ndev, const int *devlist)
{
	for (int i = 0; i < ndev; i++)
		comms[i] = new_comm(i, ndev);
	return touch(devlist ? (size_t)devlist[0] : 0);
}

NCCL_API(ncclResult_t, ncclCommSplit, ncclComm_t comm, int color, int key, ncclComm_t *newcomm,
	 ncclConfig_t *config)
{
	(void)config;
	*newcomm = new_comm(key, comm->nranks);
	return touch((size_t)color);
}

NCCL_API(ncclResult_t, ncclCommDestroy, ncclComm_t comm)
{
	free(comm);
	return touch(0);
}

NCCL_API(ncclResult_t, ncclAllReduce, const void *sendbuff, void *recvbuff, size_t count,
	 ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)op, (void)comm, (void)stream;
	return touch(count);
}

NCCL_API(ncclResult_t, ncclBroadcast, const void *sendbuff, void *recvbuff, size_t count,
	 ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)root, (void)comm, (void)stream;
	return touch(count + 1);
}

NCCL_API(ncclResult_t, ncclBcast, void *buff, size_t count, ncclDataType_t datatype, int root,
	 ncclComm_t comm, cudaStream_t stream)
{
	(void)buff, (void)datatype, (void)root, (void)comm, (void)stream;
	return touch(count + 2);
}

NCCL_API(ncclResult_t, ncclReduce, const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype,
	 ncclRedOp_t op, int root, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)op, (void)root, (void)comm, (void)stream;
	return touch(count + 3);
}

NCCL_API(ncclResult_t, ncclAllGather, const void *sendbuff, void *recvbuff, size_t sendcount,
	 ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)comm, (void)stream;
	return touch(sendcount + 4);
}

NCCL_API(ncclResult_t, ncclReduceScatter, const void *sendbuff, void *recvbuff, size_t recvcount,
	 ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)op, (void)comm, (void)stream;
	return touch(recvcount + 5);
}

NCCL_API(ncclResult_t, ncclAlltoAll, const void *sendbuff, void *recvbuff, size_t count,
	 ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)comm, (void)stream;
	return touch(count + 6);
}

NCCL_API(ncclResult_t, ncclGather, const void *sendbuff, void *recvbuff, size_t count,
	 ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)root, (void)comm, (void)stream;
	return touch(count + 7);
}

NCCL_API(ncclResult_t, ncclScatter, const void *sendbuff, void *recvbuff, size_t count,
	 ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)recvbuff, (void)datatype, (void)root, (void)comm, (void)stream;
	return touch(count + 8);
}

NCCL_API(ncclResult_t, ncclSend, const void *sendbuff, size_t count, ncclDataType_t datatype, int peer,
	 ncclComm_t comm, cudaStream_t stream)
{
	(void)sendbuff, (void)datatype, (void)peer, (void)comm, (void)stream;
	return touch(count + 9);
}

NCCL_API(ncclResult_t, ncclRecv, void *recvbuff, size_t count, ncclDataType_t datatype, int peer,
	 ncclComm_t comm, cudaStream_t stream)
{
	(void)recvbuff, (void)datatype, (void)peer, (void)comm, (void)stream;
	return touch(count + 10);
}

NCCL_API(ncclResult_t, ncclGroupStart, void)
{
	return touch(11);
}

NCCL_API(ncclResult_t, ncclGroupEnd, void)
{
	return touch(12);
}
