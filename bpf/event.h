/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one definition of the event linkprof's probes write to the ring buffer.
 * Go gets the same layout from bpf2go (-type lp_event); event_test.go checks
 * the sizes agree. The trace stores these bytes unchanged, so any change here
 * is a trace format change (docs/trace-format.md). */
#ifndef __LINKPROF_EVENT_H
#define __LINKPROF_EVENT_H

/* Event kinds. Values are part of the trace format: append, never renumber. */
enum lp_kind {
	LP_KIND_NONE = 0,
	LP_ALL_REDUCE = 1,
	LP_ALL_GATHER = 2,
	LP_REDUCE_SCATTER = 3,
	LP_BROADCAST = 4,
	LP_BCAST = 5,
	LP_REDUCE = 6,
	LP_ALL_TO_ALL = 7,
	LP_GATHER = 8,
	LP_SCATTER = 9,
	LP_SEND = 10,
	LP_RECV = 11,
	LP_GROUP_START = 12,
	LP_GROUP_END = 13,
	LP_COMM_INIT_RANK = 14,
	LP_COMM_INIT_RANK_CONFIG = 15,
	LP_COMM_INIT_ALL = 16,
	LP_COMM_SPLIT = 17,
	LP_COMM_DESTROY = 18,
	LP_LIBRARY_LOAD = 19, /* the dynamic loader's r_brk hook fired: rescan maps */
	/* CUDA graphs (libcudart and libcuda.so.1); fields per kind in
	 * docs/trace-format.md, "CUDA graph and custom collective events". */
	LP_STREAM_BEGIN_CAPTURE = 20,
	LP_STREAM_END_CAPTURE = 21, /* return probe: the captured graph */
	LP_GRAPH_INSTANTIATE = 22,  /* return probe: the new exec */
	LP_GRAPH_LAUNCH = 23,
	LP_GRAPH_EXEC_DESTROY = 24,
	LP_GRAPH_DESTROY = 25,
	/* Collectives outside NCCL, from the extra-probe table (profiler/extra). */
	LP_CUSTOM_ALL_REDUCE = 26,
	/* Stream joins: a stream that waits on an event recorded on a
	 * capturing stream joins that capture (torch's NCCL stream does). */
	LP_EVENT_RECORD = 27,
	LP_STREAM_WAIT_EVENT = 28,
	/* cudaSetDevice: no event, the thread's device for communicator
	 * creation (docs/trace-format.md, count of creation events). */
	LP_SET_DEVICE = 29,
	/* Collectives outside NCCL by path (profiler/extra's table). */
	LP_SYMM_MEM_ONE_SHOT_ALL_REDUCE = 30,
	LP_SYMM_MEM_TWO_SHOT_ALL_REDUCE = 31,
	LP_SYMM_MEM_REDUCE_SCATTER = 32,
	LP_SYMM_MEM_ALL_GATHER = 33,
	LP_FLASH_INFER_ALL_REDUCE = 34,
	LP_FLASH_INFER_ALL_REDUCE_FUSION = 35,
	LP_DEEP_EP_DISPATCH = 36,
	LP_DEEP_EP_COMBINE = 37,
	LP_PPLX_DISPATCH = 38,
	LP_PPLX_COMBINE = 39,
	LP_NVSHMEM_ALL_REDUCE = 40,
	LP_NVSHMEM_ALL_GATHER = 41,
	LP_NVSHMEM_ALL_TO_ALL = 42,
	LP_NVSHMEM_BROADCAST = 43,
	LP_KIND_MAX,
};

/* Event flags. */
enum lp_flag {
	LP_FLAG_RETURN = 1 << 0, /* written by a return probe; ret is valid */
	LP_FLAG_DRIVER = 1 << 1, /* a driver API call (libcuda); a runtime call may nest one */
	/* comm is the FNV-1a hash of a group name, the std::string the cookie's
	 * comm argument points to (torch symmetric memory): the same in every
	 * process of the group. Set by the extra-probe table through the cookie. */
	LP_FLAG_COMM_NAME = 1 << 2,
};

/* At most this many bytes of a group name are hashed. */
#define LP_GROUP_NAME_MAX 64

/* The attach cookie: which function fired and how to read it, packed by
 * the probe tables (profiler/probes.go, profiler/cuda.go, the extra-probe
 * table). The low 16 bits are enum lp_kind; bits 16-19 are or'ed into the
 * event's flags. A call whose fields are its arguments (collectives, NCCL's
 * and the extra table's; capture begin) names each field's argument: 4 bits
 * per enum lp_arg from bit 24, the 1-based argument, 0 none. */
#define LP_COOKIE_KIND(c) ((__u16)((c) & 0xffff))
#define LP_COOKIE_FLAGS(c) ((__u16)(((c) >> 16) & 0xf))
#define LP_COOKIE_SIZE_MODE(c) ((int)(((c) >> 20) & 0xf)) /* enum lp_size_mode */
#define LP_COOKIE_ARG(c, field) ((int)(((c) >> (24 + 4 * (field))) & 0xf))
#define LP_COOKIE_SIZE_PARAM(c) ((__u32)(((c) >> 56) & 0xff)) /* per enum lp_size_mode */
#define LP_COOKIE_TENSOR_OFF(c) (LP_COOKIE_SIZE_PARAM(c) * 8) /* LP_SIZE_TENSOR: bytes */

/* The event fields a cookie can fill from arguments, in cookie order. */
enum lp_arg {
	LP_ARG_SENDBUFF = 0,
	LP_ARG_RECVBUFF = 1,
	LP_ARG_COUNT = 2,
	LP_ARG_DTYPE = 3,
	LP_ARG_REDOP = 4,
	LP_ARG_PEER = 5,
	LP_ARG_COMM = 6,
	LP_ARG_STREAM = 7,
};

/* How the count argument is read (extra probes). The cookie's top byte
 * (LP_COOKIE_SIZE_PARAM) is the mode's parameter. */
enum lp_size_mode {
	LP_SIZE_NONE = 0,   /* an element count, dtype from its own argument */
	LP_SIZE_BYTES = 1,  /* a byte count: count = it, dtype = uint8 */
	LP_SIZE_TENSOR = 2, /* an at::Tensor&: count = TensorImpl numel, dtype
			       from its ScalarType; numel at the parameter x 8
			       bytes, the dtype's uint16 right after it */
	LP_SIZE_TYPED = 3,  /* an element count whose dtype the function's name
			       fixes: dtype = the parameter (ncclDataType_t) */
	LP_SIZE_FFI_TENSOR = 4, /* a TVM-FFI packed call's `const TVMFFIAny* args`:
				   the tensor at args[parameter]; count = the
				   product of its DLTensor shape, dtype from its
				   DLDataType */
};

struct lp_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u32 pid;         /* thread group id */
	__u32 tid;
	__u16 kind;        /* enum lp_kind */
	__u16 flags;       /* enum lp_flag */
	__s32 stack_id;    /* user stack in the stacks map, or -1 */
	__u64 count;       /* element count as passed (per rank / per peer) */
	__u64 comm;        /* ncclComm_t handle (for init: the new handle) */
	__u64 stream;      /* cudaStream_t */
	__u64 sendbuff;    /* comm init (return): FNV-1a 64 of the ncclUniqueId, 0 none */
	__u64 recvbuff;
	__u64 aux;         /* comm init: address of the ncclComm_t* slot;
	                      split: parent comm */
	__s32 dtype;       /* ncclDataType_t, -1 if none */
	__s32 redop;       /* ncclRedOp_t, -1 if none */
	__s32 peer;        /* root or peer, -1 if none; split: color */
	__s32 group_depth; /* ncclGroupStart nesting of the thread at entry */
	__s32 rank;        /* comm init: rank; split: key */
	__s32 nranks;      /* comm init: nranks or ndev */
	__s32 ret;         /* return probes: ncclResult_t */
	__u32 _pad;
};

#endif
