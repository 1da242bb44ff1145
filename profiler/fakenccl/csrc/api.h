/* The NCCL entry points the driver and demo call, as function pointers:
 * bound at link time (built with -DLINKED, NCCL is a DT_NEEDED library) or
 * with dlopen(DRIVER_NCCL) like vLLM's pynccl does. */
#ifndef LINKPROF_FAKE_API_H
#define LINKPROF_FAKE_API_H
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include "nccl.h"

static struct {
	__typeof__(ncclCommInitRank) *CommInitRank;
	__typeof__(ncclCommInitRankConfig) *CommInitRankConfig;
	__typeof__(ncclCommInitAll) *CommInitAll;
	__typeof__(ncclCommSplit) *CommSplit;
	__typeof__(ncclCommDestroy) *CommDestroy;
	__typeof__(ncclAllReduce) *AllReduce;
	__typeof__(ncclBroadcast) *Broadcast;
	__typeof__(ncclBcast) *Bcast;
	__typeof__(ncclReduce) *Reduce;
	__typeof__(ncclAllGather) *AllGather;
	__typeof__(ncclReduceScatter) *ReduceScatter;
	__typeof__(ncclAlltoAll) *AlltoAll;
	__typeof__(ncclGather) *Gather;
	__typeof__(ncclScatter) *Scatter;
	__typeof__(ncclSend) *Send;
	__typeof__(ncclRecv) *Recv;
	__typeof__(ncclGroupStart) *GroupStart;
	__typeof__(ncclGroupEnd) *GroupEnd;
	__typeof__(pncclAllReduce) *pAllReduce;
	__typeof__(pncclSend) *pSend;
} api;

#define API_FIELDS(X) \
	X(CommInitRank, ncclCommInitRank) X(CommInitRankConfig, ncclCommInitRankConfig) \
	X(CommInitAll, ncclCommInitAll) X(CommSplit, ncclCommSplit) X(CommDestroy, ncclCommDestroy) \
	X(AllReduce, ncclAllReduce) X(Broadcast, ncclBroadcast) X(Bcast, ncclBcast) X(Reduce, ncclReduce) \
	X(AllGather, ncclAllGather) X(ReduceScatter, ncclReduceScatter) X(AlltoAll, ncclAlltoAll) \
	X(Gather, ncclGather) X(Scatter, ncclScatter) X(Send, ncclSend) X(Recv, ncclRecv) \
	X(GroupStart, ncclGroupStart) X(GroupEnd, ncclGroupEnd) X(pAllReduce, pncclAllReduce) X(pSend, pncclSend)

/* open_truth opens $DRIVER_TRUTH for appending, line-buffered, so a test
 * reads every call a driver made, even one killed mid-run. NULL if unset or
 * unopenable (then it says why). */
static FILE *open_truth(void)
{
	const char *path = getenv("DRIVER_TRUTH");
	if (!path)
		return NULL;
	FILE *f = fopen(path, "a");
	if (!f) {
		perror("opening truth file");
		return NULL;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static int api_load(void)
{
	const char *path = getenv("DRIVER_NCCL");
	if (path) {
		void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
		if (!h) {
			fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
			return -1;
		}
#define LOOKUP(field, sym)                                            \
	if (!(*(void **)&api.field = dlsym(h, #sym))) {               \
		fprintf(stderr, "dlsym %s: %s\n", #sym, dlerror()); \
		return -1;                                            \
	}
		API_FIELDS(LOOKUP)
		return 0;
	}
#ifdef LINKED
#define BIND(field, sym) api.field = sym;
	API_FIELDS(BIND)
	return 0;
#else
	fprintf(stderr, "driver: built without NCCL; set DRIVER_NCCL\n");
	return -1;
#endif
}
#endif
