/* A fake libcuda.so.1: the graph functions linkprof probes. Graphs and
 * execs come from small pools that hand out the lowest free slot, so a
 * handle destroyed is the next one created: the handle reuse real drivers
 * show with malloc'd objects, made deterministic for tests. */
#include "cuda.h"

#define POOL 32

static char graphs[POOL], execs[POOL];
static struct CUgraph_st { char c; } graph_objs[POOL];
static struct CUgraphExec_st { char c; } exec_objs[POOL];
volatile unsigned long fake_cuda_calls;

static int take(char *used)
{
	for (int i = 0; i < POOL; i++)
		if (!used[i]) {
			used[i] = 1;
			return i;
		}
	return -1;
}

CUresult cuStreamBeginCapture(CUstream hStream)
{
	fake_cuda_calls += 1 + ((unsigned long)hStream & 1);
	return 0;
}

CUresult cuStreamBeginCapture_v2(CUstream hStream, CUstreamCaptureMode mode)
{
	fake_cuda_calls += 2 + (unsigned long)mode + ((unsigned long)hStream & 1);
	return 0;
}

CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph)
{
	int i = take(graphs);
	fake_cuda_calls += 3 + ((unsigned long)hStream & 1);
	if (i < 0)
		return 2; /* CUDA_ERROR_OUT_OF_MEMORY */
	*phGraph = &graph_objs[i];
	return 0;
}

static CUresult instantiate(CUgraphExec *phGraphExec, CUgraph hGraph)
{
	int i = take(execs);
	fake_cuda_calls += 4 + (hGraph != 0);
	if (i < 0)
		return 2;
	*phGraphExec = &exec_objs[i];
	return 0;
}

CUresult cuGraphInstantiate(CUgraphExec *phGraphExec, CUgraph hGraph, CUgraphNode *phErrorNode, char *logBuffer,
			    size_t bufferSize)
{
	(void)phErrorNode, (void)logBuffer, (void)bufferSize;
	return instantiate(phGraphExec, hGraph);
}

CUresult cuGraphInstantiate_v2(CUgraphExec *phGraphExec, CUgraph hGraph, CUgraphNode *phErrorNode, char *logBuffer,
			       size_t bufferSize)
{
	(void)phErrorNode, (void)logBuffer, (void)bufferSize;
	fake_cuda_calls++;
	return instantiate(phGraphExec, hGraph);
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags)
{
	fake_cuda_calls += flags & 1;
	return instantiate(phGraphExec, hGraph);
}

CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream)
{
	fake_cuda_calls += 5 + ((unsigned long)hGraphExec & 1) + ((unsigned long)hStream & 1);
	return 0;
}

/* The per-thread-stream name at the same address: linkprof must probe the
 * address once. */
CUresult cuGraphLaunch_ptsz(CUgraphExec hGraphExec, CUstream hStream) __attribute__((alias("cuGraphLaunch")));

CUresult cuGraphExecDestroy(CUgraphExec hGraphExec)
{
	execs[hGraphExec - exec_objs] = 0;
	return 0;
}

CUresult cuGraphDestroy(CUgraph hGraph)
{
	graphs[hGraph - graph_objs] = 0;
	return 0;
}

CUresult cuEventRecord(CUevent hEvent, CUstream hStream)
{
	fake_cuda_calls += 6 + ((unsigned long)hEvent & 1) + ((unsigned long)hStream & 1);
	return 0;
}

CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)
{
	fake_cuda_calls += 7 + ((unsigned long)hEvent & 1) + ((unsigned long)hStream & 1) + Flags;
	return 0;
}
