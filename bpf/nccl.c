//go:build ignore
/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Entry probes on NCCL's API, the CUDA graph API (runtime and driver) and
 * table-driven collectives outside NCCL. One entry program; the attach
 * cookie says which function fired (enum lp_kind) and so how to read its
 * arguments. Hot paths are entry-only: return probes exist only where a new
 * handle is known only on return: communicator creation, capture end, graph
 * instantiation (docs/nccl-facts.md, "Kernel and eBPF": uretprobes and seccomp). */
#include "headers/common.h"
#include "headers/bpf_helpers.h"
#include "event.h"

char __license[] SEC("license") = "Dual BSD/GPL";

/* Keep the event types in BTF for bpf2go -type. */
const struct lp_event *unused_event __attribute__((unused));
const enum lp_kind *unused_kind __attribute__((unused));
const enum lp_flag *unused_flag __attribute__((unused));

/* Set by the loader before load. */
volatile const __u64 wakeup_bytes = 256 * 1024; /* wake the reader once this much is queued */
volatile const __u8 capture_stacks = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by the loader */
} events SEC(".maps");

/* Thread group ids being recorded. Probes sit on library inodes for every
 * process that maps them; this map keeps the ones we were asked for. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* Parents whose new child processes become targets (--children). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} follow_children SEC(".maps");

/* Events the ring buffer had no room for, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* ncclGroupStart nesting per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __s32);
} group_depth SEC(".maps");

struct pending_init {
	__u64 slot;    /* user address of the ncclComm_t* argument */
	__u64 uid;     /* InitRank, InitRankConfig: unique_id_hash of the id, 0 none */
	__u64 parent;  /* split: parent comm */
	__u64 devlist; /* InitAll: user address of its device list, 0 none */
	__s32 rank;    /* split: key */
	__s32 nranks;
	__s32 color;
	__u16 kind;
	__u16 _pad;
};

/* Each thread's current CUDA device, from cudaSetDevice: the device a
 * communicator created on the thread lives on (a process may drive
 * several GPUs, nccl-tests -g 2). No event: torch sets the device often. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __s32);
} thread_device SEC(".maps");

/* Communicator creations between entry and return, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct pending_init);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

/* Arguments by position, per docs/nccl-facts.md. On x86-64 the 7th and 8th integer
 * arguments are on the stack at sp+8 and sp+16 at function entry. */
#if defined(__TARGET_ARCH_x86)
static __always_inline __u64 arg(struct pt_regs *ctx, int n)
{
	__u64 v = 0;
	switch (n) {
	case 1: return ctx->di;
	case 2: return ctx->si;
	case 3: return ctx->dx;
	case 4: return ctx->cx;
	case 5: return ctx->r8;
	case 6: return ctx->r9;
	case 7: bpf_probe_read_user(&v, sizeof(v), (void *)(ctx->sp + 8)); return v;
	case 8: bpf_probe_read_user(&v, sizeof(v), (void *)(ctx->sp + 16)); return v;
	}
	return 0;
}
static __always_inline __u64 retval(struct pt_regs *ctx) { return ctx->ax; }
/* At function entry the return address is the word at sp. */
static __always_inline __u64 entry_return_address(struct pt_regs *ctx)
{
	__u64 ra = 0;
	bpf_probe_read_user(&ra, sizeof(ra), (void *)ctx->sp);
	return ra;
}
#elif defined(__TARGET_ARCH_arm64)
/* Untested: arm64 passes the first eight integer arguments in x0-x7. */
static __always_inline __u64 arg(struct pt_regs *ctx, int n)
{
	struct user_pt_regs *r = (struct user_pt_regs *)ctx;
	if (n >= 1 && n <= 8)
		return r->regs[n - 1];
	return 0;
}
static __always_inline __u64 retval(struct pt_regs *ctx) { return ((struct user_pt_regs *)ctx)->regs[0]; }
/* At function entry the return address is in the link register, x30. */
static __always_inline __u64 entry_return_address(struct pt_regs *ctx)
{
	return ((struct user_pt_regs *)ctx)->regs[30];
}
#else
#error "unsupported architecture"
#endif

static __always_inline int is_target(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&targets, &tgid) != 0;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += 1;
}

/* Reserves an event with every field set to its "none" value. */
static __always_inline struct lp_event *begin(struct pt_regs *ctx, __u16 kind)
{
	if (!is_target())
		return 0;
	struct lp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__s32 *depth = bpf_map_lookup_elem(&group_depth, &tid);

	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = tid;
	e->kind = kind;
	e->flags = 0;
	e->stack_id = capture_stacks ? bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK) : -1;
	e->count = 0;
	e->comm = 0;
	e->stream = 0;
	e->sendbuff = 0;
	e->recvbuff = 0;
	/* A frame-pointer walk from a function's first instruction skips its
	 * direct caller (the frame is not set up yet): keep that caller's
	 * return address so analysis can put it back. Return probes overwrite
	 * aux with their own meaning. */
	e->aux = capture_stacks ? entry_return_address(ctx) : 0;
	e->dtype = -1;
	e->redop = -1;
	e->peer = -1;
	e->group_depth = depth ? *depth : 0;
	e->rank = -1;
	e->nranks = -1;
	e->ret = 0;
	e->_pad = 0;
	return e;
}

/* Wakes the reader only when enough is queued: the per-event wakeup costs
 * more than the probe itself (docs/nccl-facts.md). The reader also polls on a timer. */
static __always_inline void submit(struct lp_event *e)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, queued >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* The first six integer arguments, read at constant offsets: the verifier
 * refuses a ctx read at an offset chosen at run time, so the cookie chooses
 * among these copies instead. */
struct reg_args {
	__u64 v[6];
};

static __always_inline void read_regs(struct pt_regs *ctx, struct reg_args *r)
{
	r->v[0] = arg(ctx, 1);
	r->v[1] = arg(ctx, 2);
	r->v[2] = arg(ctx, 3);
	r->v[3] = arg(ctx, 4);
	r->v[4] = arg(ctx, 5);
	r->v[5] = arg(ctx, 6);
}

/* Argument n (1-8), or none when n is 0. */
static __always_inline __u64 arg_at(struct pt_regs *ctx, const struct reg_args *r, int n, __u64 none)
{
	switch (n) {
	case 1: return r->v[0];
	case 2: return r->v[1];
	case 3: return r->v[2];
	case 4: return r->v[3];
	case 5: return r->v[4];
	case 6: return r->v[5];
	case 7: return arg(ctx, 7);
	case 8: return arg(ctx, 8);
	}
	return none;
}

/* c10::ScalarType -> ncclDataType_t, for the dtypes collectives use. */
static __always_inline __s32 scalar_type_to_nccl(__u16 st)
{
	switch (st) {
	case 0: return 1;   /* Byte -> uint8 */
	case 1: return 0;   /* Char -> int8 */
	case 3: return 2;   /* Int -> int32 */
	case 4: return 4;   /* Long -> int64 */
	case 5: return 6;   /* Half -> float16 */
	case 6: return 7;   /* Float -> float32 */
	case 7: return 8;   /* Double -> float64 */
	case 15: return 9;  /* BFloat16 */
	case 23: return 11; /* Float8_e5m2 */
	case 24: return 10; /* Float8_e4m3fn */
	}
	return -1;
}

/* Reads an at::Tensor& argument into count and dtype (count 0, dtype -1
 * when unreadable): the Tensor holds its TensorImpl* first; numel and the
 * dtype sit at a torch-version-specific offset in it. */
static __always_inline void read_tensor_size(struct lp_event *e, __u64 tensor, __u32 off)
{
	__u64 impl = 0;
	__s64 numel = 0;
	__u16 st = 0xffff;
	e->count = 0;
	e->dtype = -1;
	if (bpf_probe_read_user(&impl, sizeof(impl), (void *)tensor) || !impl)
		return;
	if (bpf_probe_read_user(&numel, sizeof(numel), (void *)(impl + off)) || numel < 0)
		return;
	bpf_probe_read_user(&st, sizeof(st), (void *)(impl + off + 8));
	e->count = (__u64)numel;
	e->dtype = scalar_type_to_nccl(st);
}

/* DLPack's (code, bits) -> ncclDataType_t, for the dtypes collectives use
 * (dlpack.h: kDLInt 0, kDLUInt 1, kDLFloat 2, kDLBfloat 4, kDLFloat8_e4m3fn
 * 10, kDLFloat8_e5m2 12). */
static __always_inline __s32 dlpack_to_nccl(__u8 code, __u8 bits)
{
	switch (code << 8 | bits) {
	case 0 << 8 | 8: return 0;   /* int8 */
	case 1 << 8 | 8: return 1;   /* uint8 */
	case 0 << 8 | 32: return 2;  /* int32 */
	case 1 << 8 | 32: return 3;  /* uint32 */
	case 0 << 8 | 64: return 4;  /* int64 */
	case 1 << 8 | 64: return 5;  /* uint64 */
	case 2 << 8 | 16: return 6;  /* float16 */
	case 2 << 8 | 32: return 7;  /* float32 */
	case 2 << 8 | 64: return 8;  /* float64 */
	case 4 << 8 | 16: return 9;  /* bfloat16 */
	case 10 << 8 | 8: return 10; /* fp8 e4m3fn */
	case 12 << 8 | 8: return 11; /* fp8 e5m2 */
	}
	return -1;
}

/* TVM-FFI (tvm/ffi/c_api.h): a TVMFFIAny is 16 bytes, its type index first
 * and its value at 8. A tensor arrives as a DLTensor* (kTVMFFIDLTensorPtr,
 * 7) or as a tensor object (kTVMFFITensor, 70) whose DLTensor follows the
 * 24-byte TVMFFIObject header. */
#define LP_FFI_DLTENSOR_PTR 7
#define LP_FFI_TENSOR 70
#define LP_FFI_OBJECT_HEADER 24
#define LP_FFI_MAX_NDIM 8

struct ffi_any {
	__s32 type_index;
	__u32 pad;
	__u64 v;
};

/* DLTensor from its ndim on (dlpack.h): ndim at 16, dtype at 20, shape at 24. */
struct dltensor_tail {
	__s32 ndim;
	__u8 code;
	__u8 bits;
	__u16 lanes;
	__u64 shape;
};

/* Reads the tensor at args[index] of a TVM-FFI packed call into count and
 * dtype (count 0, dtype -1 when unreadable or not a tensor). */
static __always_inline void read_ffi_tensor_size(struct lp_event *e, __u64 args, __u32 index)
{
	struct ffi_any any = {};
	struct dltensor_tail t = {};
	__u64 dl;
	e->count = 0;
	e->dtype = -1;
	if (!args || bpf_probe_read_user(&any, sizeof(any), (void *)(args + 16 * (__u64)index)))
		return;
	if (any.type_index == LP_FFI_DLTENSOR_PTR)
		dl = any.v;
	else if (any.type_index == LP_FFI_TENSOR)
		dl = any.v + LP_FFI_OBJECT_HEADER;
	else
		return;
	if (bpf_probe_read_user(&t, sizeof(t), (void *)(dl + 16)))
		return;
	if (t.ndim < 0 || t.ndim > LP_FFI_MAX_NDIM || t.lanes != 1)
		return;
	__u64 numel = 1;
	for (int i = 0; i < LP_FFI_MAX_NDIM; i++) {
		__s64 d = 0;
		if (i >= t.ndim)
			break;
		if (bpf_probe_read_user(&d, sizeof(d), (void *)(t.shape + 8 * i)) || d < 0)
			return;
		numel *= (__u64)d;
	}
	e->count = numel;
	e->dtype = dlpack_to_nccl(t.code, t.bits);
}

/* FNV-1a (64-bit) of the first LP_GROUP_NAME_MAX bytes of a std::string
 * (libstdc++: data pointer, then length), passed by reference or, being
 * non-trivially copyable, by invisible reference: arg is its address.
 * 0 when unreadable. The analysis needs only equality across processes. */
static __always_inline __u64 hash_group_name(__u64 str)
{
	struct {
		__u64 data;
		__u64 len;
	} s = {};
	char buf[LP_GROUP_NAME_MAX];
	if (!str || bpf_probe_read_user(&s, sizeof(s), (void *)str))
		return 0;
	__u32 n = s.len < LP_GROUP_NAME_MAX ? (__u32)s.len : LP_GROUP_NAME_MAX;
	if (n && bpf_probe_read_user(buf, n, (void *)s.data))
		return 0;
	__u64 h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < LP_GROUP_NAME_MAX; i++) {
		if (i >= n)
			break;
		h ^= (__u8)buf[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A call whose event fields are its arguments: NCCL's collectives, the
 * extra table's, capture begin. The cookie names each field's argument
 * (LP_COOKIE_ARG), and how the count argument is read. */
static __always_inline int args_event(struct pt_regs *ctx, __u64 cookie)
{
	struct lp_event *e = begin(ctx, LP_COOKIE_KIND(cookie));
	if (!e)
		return 0;
	struct reg_args r;
	read_regs(ctx, &r);
	e->flags |= LP_COOKIE_FLAGS(cookie);
	e->sendbuff = arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_SENDBUFF), 0);
	e->recvbuff = arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_RECVBUFF), 0);
	e->count = arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_COUNT), 0);
	e->dtype = (__s32)arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_DTYPE), -1);
	e->redop = (__s32)arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_REDOP), -1);
	e->peer = (__s32)arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_PEER), -1);
	e->comm = arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_COMM), 0);
	e->stream = arg_at(ctx, &r, LP_COOKIE_ARG(cookie, LP_ARG_STREAM), 0);
	if (e->flags & LP_FLAG_COMM_NAME)
		e->comm = hash_group_name(e->comm);
	if (LP_COOKIE_ARG(cookie, LP_ARG_COUNT)) {
		switch (LP_COOKIE_SIZE_MODE(cookie)) {
		case LP_SIZE_BYTES:
			e->dtype = 1; /* uint8: payload = count */
			break;
		case LP_SIZE_TENSOR:
			read_tensor_size(e, e->count, LP_COOKIE_TENSOR_OFF(cookie));
			break;
		case LP_SIZE_TYPED:
			e->dtype = (__s32)LP_COOKIE_SIZE_PARAM(cookie);
			break;
		case LP_SIZE_FFI_TENSOR:
			read_ffi_tensor_size(e, e->count, LP_COOKIE_SIZE_PARAM(cookie));
			break;
		}
	}
	submit(e);
	return 0;
}

static __always_inline void emit_simple(struct pt_regs *ctx, __u16 kind)
{
	struct lp_event *e = begin(ctx, kind);
	if (e)
		submit(e);
}

static __always_inline int group_start(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	emit_simple(ctx, LP_GROUP_START);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__s32 one = 1;
	__s32 *depth = bpf_map_lookup_elem(&group_depth, &tid);
	if (depth)
		__sync_fetch_and_add(depth, 1);
	else
		bpf_map_update_elem(&group_depth, &tid, &one, BPF_ANY);
	return 0;
}

static __always_inline int group_end(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__s32 *depth = bpf_map_lookup_elem(&group_depth, &tid);
	if (depth && *depth > 0)
		__sync_fetch_and_add(depth, -1);
	/* GroupEnd reports the depth it closes, like the ops inside it. */
	struct lp_event *e = begin(ctx, LP_GROUP_END);
	if (!e)
		return 0;
	if (depth)
		e->group_depth = *depth + 1;
	submit(e);
	return 0;
}

static __always_inline void remember_init(struct pending_init *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &id, p, BPF_ANY);
}

/* FNV-1a (64-bit) over the 128 bytes of an ncclUniqueId. Every rank of a
 * communicator gets the same bytes from its job's bootstrap (rank 0 calls
 * ncclGetUniqueId and broadcasts them), so the hash names the communicator
 * across processes and hosts (linkprof merge); 0 when the id could not be
 * read. Go's hash/fnv New64a gives the same value. */
#define LP_UNIQUE_ID_BYTES 128
static __always_inline __u64 unique_id_hash(const void *id)
{
	__u8 b[LP_UNIQUE_ID_BYTES];
	if (bpf_probe_read_user(b, sizeof(b), id))
		return 0;
	__u64 h = 0xcbf29ce484222325ULL;
#pragma unroll
	for (int i = 0; i < LP_UNIQUE_ID_BYTES; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* ncclCommInitRank(comm*, nranks, ncclUniqueId id, rank) and
 * ncclCommInitRankConfig(comm*, nranks, id, rank, config*). On x86-64 the
 * 128-byte id travels by value on the caller's stack (at sp+8 at entry)
 * and takes no register, so rank is in the third register; on arm64 a
 * composite over 16 bytes is passed as a pointer to a copy: the id's
 * address is x2 and rank is x3. The id is hashed at entry: the caller's
 * copy may be gone by the return. */
static __always_inline int comm_init_rank(struct pt_regs *ctx, __u16 kind)
{
	if (!is_target())
		return 0;
	struct pending_init p = {};
	p.kind = kind;
	p.slot = arg(ctx, 1);
	p.nranks = (__s32)arg(ctx, 2);
#if defined(__TARGET_ARCH_x86)
	p.rank = (__s32)arg(ctx, 3);
	p.uid = unique_id_hash((void *)(ctx->sp + 8));
#else
	p.rank = (__s32)arg(ctx, 4);
	p.uid = unique_id_hash((void *)arg(ctx, 3));
#endif
	remember_init(&p);
	return 0;
}

/* ncclCommInitAll(comm* comms, int ndev, const int* devlist) */
static __always_inline int comm_init_all(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	struct pending_init p = {};
	p.kind = LP_COMM_INIT_ALL;
	p.slot = arg(ctx, 1);
	p.nranks = (__s32)arg(ctx, 2);
	p.devlist = arg(ctx, 3);
	remember_init(&p);
	return 0;
}

/* ncclCommSplit(comm, color, key, newcomm*, config*) */
static __always_inline int comm_split(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	struct pending_init p = {};
	p.kind = LP_COMM_SPLIT;
	p.parent = arg(ctx, 1);
	p.color = (__s32)arg(ctx, 2);
	p.rank = (__s32)arg(ctx, 3);
	p.slot = arg(ctx, 4);
	p.nranks = -1;
	remember_init(&p);
	return 0;
}

#define MAX_INIT_ALL 16

/* Return of a communicator creation: the handle is in *slot now. */
static __always_inline int comm_init_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending_init *p = bpf_map_lookup_elem(&pending, &id);
	if (!p)
		return 0;
	struct pending_init init = *p;
	bpf_map_delete_elem(&pending, &id);

	int handles = init.kind == LP_COMM_INIT_ALL ? init.nranks : 1;
	__s32 *cur = bpf_map_lookup_elem(&thread_device, &id);
	__s32 thread_dev = cur ? *cur : -1;
	for (int i = 0; i < MAX_INIT_ALL; i++) {
		if (i >= handles)
			break;
		struct lp_event *e = begin(ctx, init.kind);
		if (!e)
			return 0;
		__u64 handle = 0;
		bpf_probe_read_user(&handle, sizeof(handle), (void *)(init.slot + i * sizeof(__u64)));
		e->flags = LP_FLAG_RETURN;
		e->ret = (__s32)retval(ctx);
		e->comm = handle;
		e->aux = init.kind == LP_COMM_SPLIT ? init.parent : init.slot;
		e->nranks = init.nranks;
		e->rank = init.kind == LP_COMM_INIT_ALL ? i : init.rank;
		e->peer = init.kind == LP_COMM_SPLIT ? init.color : -1;
		e->sendbuff = init.uid; /* the unique id's hash (docs/trace-format.md) */
		/* count: the CUDA device plus one, 0 unknown (docs/trace-format.md). */
		__s32 dev = thread_dev;
		if (init.kind == LP_COMM_INIT_ALL) {
			dev = i;
			if (init.devlist)
				bpf_probe_read_user(&dev, sizeof(dev), (void *)(init.devlist + i * sizeof(__s32)));
		}
		e->count = dev >= 0 ? (__u64)dev + 1 : 0;
		submit(e);
	}
	return 0;
}

/* cudaSetDevice(int device): remember the thread's device. */
static __always_inline int set_device(struct pt_regs *ctx)
{
	if (!is_target())
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__s32 dev = (__s32)arg(ctx, 1);
	/* torch sets the same device again and again: a lookup is lock-free,
	 * an update of the LRU map is not. */
	__s32 *cur = bpf_map_lookup_elem(&thread_device, &id);
	if (cur && *cur == dev)
		return 0;
	bpf_map_update_elem(&thread_device, &id, &dev, BPF_ANY);
	return 0;
}

/* ncclCommDestroy(comm) */
static __always_inline int comm_destroy(struct pt_regs *ctx)
{
	struct lp_event *e = begin(ctx, LP_COMM_DESTROY);
	if (!e)
		return 0;
	e->comm = arg(ctx, 1);
	submit(e);
	return 0;
}

/* The dynamic loader calls _dl_debug_state (r_brk) around every library
 * load and unload: tell the reader at once to rescan this process's maps. */
static __always_inline int library_load(struct pt_regs *ctx)
{
	struct lp_event *e = begin(ctx, LP_LIBRARY_LOAD);
	if (!e)
		return 0;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

#include "graphs.h"

/* Every entry probe: the attach cookie names the function (enum lp_kind)
 * and, for most, which argument goes where. One program for all of them lets
 * a library's probes share one uprobe_multi link: attached and detached in
 * one step (perf-event uprobes detach one RCU grace period at a time). */
SEC("uprobe")
int nccl_entry(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u16 kind = LP_COOKIE_KIND(cookie);
	switch (kind) {
	case LP_ALL_REDUCE:
	case LP_ALL_GATHER:
	case LP_REDUCE_SCATTER:
	case LP_BROADCAST:
	case LP_BCAST:
	case LP_REDUCE:
	case LP_ALL_TO_ALL:
	case LP_GATHER:
	case LP_SCATTER:
	case LP_SEND:
	case LP_RECV:
	case LP_CUSTOM_ALL_REDUCE:
	/* torch symmetric memory (profiler/extra/symmmem.go). */
	case LP_SYMM_MEM_ONE_SHOT_ALL_REDUCE:
	case LP_SYMM_MEM_TWO_SHOT_ALL_REDUCE:
	case LP_SYMM_MEM_REDUCE_SCATTER:
	case LP_SYMM_MEM_ALL_GATHER:
	/* Library paths (profiler/extra/libraries.go). */
	case LP_FLASH_INFER_ALL_REDUCE:
	case LP_FLASH_INFER_ALL_REDUCE_FUSION:
	case LP_DEEP_EP_DISPATCH:
	case LP_DEEP_EP_COMBINE:
	case LP_PPLX_DISPATCH:
	case LP_PPLX_COMBINE:
	case LP_NVSHMEM_ALL_REDUCE:
	case LP_NVSHMEM_ALL_GATHER:
	case LP_NVSHMEM_ALL_TO_ALL:
	case LP_NVSHMEM_BROADCAST:
		return args_event(ctx, cookie);
	case LP_GROUP_START:
		return group_start(ctx);
	case LP_GROUP_END:
		return group_end(ctx);
	case LP_COMM_INIT_RANK:
	case LP_COMM_INIT_RANK_CONFIG:
		return comm_init_rank(ctx, kind);
	case LP_COMM_INIT_ALL:
		return comm_init_all(ctx);
	case LP_COMM_SPLIT:
		return comm_split(ctx);
	case LP_COMM_DESTROY:
		return comm_destroy(ctx);
	case LP_LIBRARY_LOAD:
		return library_load(ctx);
	case LP_STREAM_BEGIN_CAPTURE:
		return begin_capture(ctx, cookie);
	case LP_STREAM_END_CAPTURE:
	case LP_GRAPH_INSTANTIATE:
		return graph_call(ctx, cookie);
	case LP_GRAPH_LAUNCH:
	case LP_GRAPH_EXEC_DESTROY:
	case LP_GRAPH_DESTROY:
	case LP_EVENT_RECORD:
	case LP_STREAM_WAIT_EVENT:
		return graph_handle(ctx, cookie);
	case LP_SET_DEVICE:
		return set_device(ctx);
	}
	return 0;
}

/* Every return probe: communicator creation, capture end, instantiation.
 * These return their new handle through a pointer argument. */
SEC("uretprobe")
int nccl_return(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	switch (LP_COOKIE_KIND(cookie)) {
	case LP_STREAM_END_CAPTURE:
	case LP_GRAPH_INSTANTIATE:
		return graph_return(ctx, cookie);
	}
	return comm_init_return(ctx);
}

/* Minimal task_struct for CO-RE: only the fields read here. */
struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

/* New processes whose parent process is followed become targets (and are
 * followed) before they run a single instruction of their own. */
SEC("tp_btf/sched_process_fork")
int follow_fork(__u64 *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx[0];
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 ptgid = parent->tgid;
	__u32 cpid = child->pid;
	__u32 ctgid = child->tgid;
	if (cpid != ctgid)
		return 0; /* a new thread, not a new process */
	if (!bpf_map_lookup_elem(&follow_children, &ptgid))
		return 0;
	__u8 one = 1;
	bpf_map_update_elem(&targets, &ctgid, &one, BPF_ANY);
	bpf_map_update_elem(&follow_children, &ctgid, &one, BPF_ANY);
	return 0;
}
