/* A fake libcudart: the graph functions linkprof probes, each calling the
 * driver function that does the work, as the real runtime does through its
 * driver entry-point table. So one runtime call makes two events (runtime,
 * then driver), which linkprof's graph model must count once. */
#include "cuda_runtime.h"
#include "cuda.h"

/* Runtime and driver error codes differ; the translation also keeps the
 * compiler from turning the driver call into a tail call. */
static cudaError_t rt(CUresult r) { return r == 0 ? 0 : 900 + r; }

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, enum cudaStreamCaptureMode mode)
{
	return rt(cuStreamBeginCapture_v2((CUstream)stream, (CUstreamCaptureMode)mode));
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t *pGraph)
{
	return rt(cuStreamEndCapture((CUstream)stream, (CUgraph *)pGraph));
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *pGraphExec, cudaGraph_t graph, unsigned long long flags)
{
	return rt(cuGraphInstantiateWithFlags((CUgraphExec *)pGraphExec, (CUgraph)graph, flags));
}

cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t *pGraphExec, cudaGraph_t graph, unsigned long long flags)
{
	return rt(cuGraphInstantiateWithFlags((CUgraphExec *)pGraphExec, (CUgraph)graph, flags));
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t graphExec, cudaStream_t stream)
{
	return rt(cuGraphLaunch((CUgraphExec)graphExec, (CUstream)stream));
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t graphExec)
{
	return rt(cuGraphExecDestroy((CUgraphExec)graphExec));
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph)
{
	return rt(cuGraphDestroy((CUgraph)graph));
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
	return rt(cuEventRecord((CUevent)event, (CUstream)stream));
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags)
{
	return rt(cuStreamWaitEvent((CUstream)stream, (CUevent)event, flags));
}

/* The calling thread's device: linkprof reads its argument (no work). */
cudaError_t cudaSetDevice(int device)
{
	static volatile int current;
	current = device;
	return 0;
}
