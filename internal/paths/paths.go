// Package paths lists the known ways serving frameworks move collective
// traffic over NVLink without calling NCCL, for the report to name when link
// bytes stay unattributed (docs/nccl-facts.md, "What real serving processes
// do"; docs/paths.md for the library paths and how each is probed).
package paths

// Path is one such way.
type Path struct {
	Name      string
	Framework string
	Probed    bool   // linkprof's probes record its calls (the extra-probe table, the graph probes)
	Explains  string // what traffic it causes
	ToNCCL    string // the setting that routes it through NCCL instead
	// Kinds is the trace.Kind.Path of the calls its probes record
	// ("custom-all-reduce", "deepep", ...); empty when none.
	Kinds string
}

// Known lists them, most common first.
var Known = []Path{
	{Name: "vllm custom all-reduce", Framework: "vllm", Probed: true,
		Explains: "all-reduces below the size limit at world size 2/4/6/8 (peer-to-peer IPC buffers, not NCCL)",
		ToNCCL:   "--disable-custom-all-reduce", Kinds: "custom-all-reduce"},
	{Name: "torch symmetric memory all-reduce", Framework: "vllm", Probed: true,
		Explains: "all-reduces vLLM routes to torch symmetric memory (VLLM_ALLREDUCE_USE_SYMM_MEM, on by default): torch.ops.symm_mem one-shot and two-shot all-reduce, reduce_scatter_out, in libtorch_cuda.so",
		ToNCCL:   "VLLM_ALLREDUCE_USE_SYMM_MEM=0", Kinds: "symm-mem"},
	{Name: "sglang custom all-reduce", Framework: "sglang", Probed: true,
		Explains: "all-reduces through sgl_kernel's custom all-reduce",
		ToNCCL:   "--disable-custom-all-reduce", Kinds: "custom-all-reduce"},
	{Name: "CUDA graph replay", Framework: "vllm, sglang", Probed: true,
		Explains: "collectives captured in a CUDA graph run again at every replay without a host call; linkprof expands cudaGraphLaunch into the captured sequence",
		ToNCCL:   "vllm --enforce-eager, sglang --disable-cuda-graph (eager calls instead of replays)"},
	{Name: "flashinfer all-reduce", Framework: "vllm, sglang", Probed: true,
		Explains: "all-reduces through FlashInfer's TensorRT-LLM kernels, most fused with RMSNorm or quantization (modules trtllm_comm, trtllm_mnnvl_comm, vllm_comm)",
		ToNCCL:   `vllm --compilation-config '{"pass_config": {"fuse_allreduce_rms": false}}', sglang without --enable-flashinfer-allreduce-fusion`,
		Kinds:    "flashinfer"},
	{Name: "deepep dispatch/combine", Framework: "vllm, sglang", Probed: true,
		Explains: "MoE token dispatch and combine between expert-parallel ranks through DeepEP (NVLink and NVSHMEM/NCCL-GIN kernels)",
		ToNCCL:   "vllm --all2all-backend allgather_reducescatter (the default), sglang --moe-a2a-backend none (the default)",
		Kinds:    "deepep"},
	{Name: "pplx dispatch/combine", Framework: "vllm", Probed: true,
		Explains: "MoE token dispatch and combine between expert-parallel ranks through pplx-kernels (NVSHMEM)",
		ToNCCL:   "vllm --all2all-backend allgather_reducescatter (the default)", Kinds: "pplx"},
	{Name: "nvshmem stream collectives", Framework: "flashinfer, nvshmem4py", Probed: true,
		Explains: "reduce, fcollect, alltoall and broadcast called through NVSHMEM's host API (nvshmemx_*_on_stream), as nvshmem4py and FlashInfer's NVSHMEMAllReduce do",
		ToNCCL:   "none: the program calls NVSHMEM itself (use torch.distributed instead)", Kinds: "nvshmem"},
}
