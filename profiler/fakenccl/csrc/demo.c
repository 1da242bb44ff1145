/* linkprof's built-in demo workload: a 2-rank tensor-parallel decode loop
 * on a fake NCCL. The parent forks one worker per rank (as vLLM and SGLang
 * spawn their TP workers, as new programs with RANK and LOCAL_RANK set);
 * each worker dlopens NCCL (as pynccl does), creates
 * a communicator and runs decode steps: a per-layer all-reduce, an
 * all-gather of logits, grouped send/recv, an all-to-all, idle gaps.
 *
 * There is no GPU, so each worker also writes the ground truth of a
 * simulated NVLink: when each collective would run on its GPU and how many
 * bytes it would move (ring algorithm, protocol factor, launch lag, jitter),
 * plus some "background" traffic no NCCL call explains. linkprof's simulated
 * NVML reads that file, and tests compare attribution with it.
 *
 * Environment: DEMO_NCCL (library to dlopen, required), DEMO_SCHEDULE (the
 * ground-truth file, optional), DEMO_STEPS (default 400), DEMO_SEED.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "nccl.h"

#define RANKS 2
#define LAYERS 8
#define HIDDEN 8192
#define BATCH 4
#define VOCAB_SHARD 16000

/* The simulated link: per-direction rate and a fixed per-collective cost. */
#define LINK_BYTES_PER_NS 360.0 /* 360 GB/s achieved of a 450 GB/s peak */
#define LAUNCH_NS 8000.0
#define LAG_NS 15000
#define JITTER_NS 10000

static struct {
	__typeof__(ncclCommInitRank) *CommInitRank;
	__typeof__(ncclAllReduce) *AllReduce;
	__typeof__(ncclAllGather) *AllGather;
	__typeof__(ncclAlltoAll) *AlltoAll;
	__typeof__(ncclSend) *Send;
	__typeof__(ncclRecv) *Recv;
	__typeof__(ncclGroupStart) *GroupStart;
	__typeof__(ncclGroupEnd) *GroupEnd;
	__typeof__(ncclCommDestroy) *CommDestroy;
} nccl;

static int schedule_fd = -1;
static int rank;
static double gpu_free_ns; /* when the simulated GPU's stream is next idle */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* Bytes one rank puts on the wire, docs/nccl-facts.md: ring algorithm on n ranks
 * times the protocol factor NCCL picks by message size. Thresholds as
 * measured on H200 with NCCL 2.28 (docs/validation.md): 64 KiB and 1 MiB
 * all-reduces ran LL (DATA_TX 2.0x), 32 MiB ran Simple (1.0x). */
static double protocol_factor(double msg)
{
	if (msg <= 1024 * 1024)
		return 2.0; /* LL: data + flags */
	if (msg <= 8 * 1024 * 1024)
		return 128.0 / 120.0; /* LL128 */
	return 1.0; /* Simple */
}

static void emit(double start, double end, double bytes, const char *label)
{
	if (schedule_fd < 0)
		return;
	char line[160];
	int n = snprintf(line, sizeof(line), "%d %.0f %.0f %.0f %.0f %s\n", rank, start, end, bytes, bytes, label);
	/* One write per line: O_APPEND keeps both ranks' lines whole. */
	if (write(schedule_fd, line, n) != n)
		perror("writing schedule");
}

/* Models the collective just enqueued at host time t on this rank's stream. */
static void transfer(uint64_t t, double msg, double wire_share, const char *label)
{
	double wire = msg * wire_share * protocol_factor(msg);
	double start = (double)t + LAG_NS + (double)(rand() % JITTER_NS);
	if (start < gpu_free_ns)
		start = gpu_free_ns;
	double end = start + LAUNCH_NS + wire / LINK_BYTES_PER_NS;
	gpu_free_ns = end;
	emit(start, end, wire, label);
}

#define SHARE(n) ((double)((n) - 1) / (double)(n))
#define BUF(i) ((void *)(uintptr_t)(0x20000000UL + (i) * 0x100000UL))
#define STREAM ((cudaStream_t)(uintptr_t)0x9000)

static void all_reduce(ncclComm_t c, size_t count)
{
	uint64_t t = now_ns();
	nccl.AllReduce(BUF(0), BUF(0), count, ncclBfloat16, ncclSum, c, STREAM);
	transfer(t, (double)count * 2, 2 * SHARE(RANKS), "AllReduce");
}

static void all_gather(ncclComm_t c, size_t sendcount)
{
	uint64_t t = now_ns();
	nccl.AllGather(BUF(1), BUF(2), sendcount, ncclFloat16, c, STREAM);
	transfer(t, (double)sendcount * 2 * RANKS, SHARE(RANKS), "AllGather");
}

static void send_recv(ncclComm_t c, size_t count)
{
	int peer = 1 - rank;
	nccl.GroupStart();
	nccl.Send(BUF(3), count, ncclBfloat16, peer, c, STREAM);
	nccl.Recv(BUF(4), count, ncclBfloat16, peer, c, STREAM);
	uint64_t t = now_ns();
	nccl.GroupEnd(); /* grouped operations launch here */
	transfer(t, (double)count * 2, 1.0, "Send");
}

static void all_to_all(ncclComm_t c, size_t count)
{
	uint64_t t = now_ns();
	nccl.AlltoAll(BUF(5), BUF(6), count, ncclBfloat16, c, STREAM);
	transfer(t, (double)count * 2 * RANKS, SHARE(RANKS), "AlltoAll");
}

/* Traffic no NCCL call explains, like vLLM's custom all-reduce. */
static void background(double bytes)
{
	double start = (double)now_ns() + LAG_NS;
	if (start < gpu_free_ns)
		start = gpu_free_ns;
	double end = start + LAUNCH_NS + bytes / LINK_BYTES_PER_NS;
	gpu_free_ns = end;
	emit(start, end, bytes, "background");
}

static void decode_step(ncclComm_t c, int step)
{
	size_t tokens = step == 0 ? 512 : BATCH; /* the first step is a prefill */
	for (int layer = 0; layer < LAYERS; layer++) {
		sleep_us(60); /* attention and MLP */
		all_reduce(c, HIDDEN * tokens);
	}
	all_gather(c, VOCAB_SHARD * BATCH);
	if (step % 4 == 0) {
		send_recv(c, 512 * 1024);
		all_to_all(c, 1024 * 1024);
	}
	if (step % 8 == 3)
		background(256 * 1024);
}

static int load_nccl(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "demo: dlopen %s: %s\n", path, dlerror());
		return -1;
	}
#define SYM(f) if (!(*(void **)&nccl.f = dlsym(h, "nccl" #f))) return -1;
	SYM(CommInitRank) SYM(AllReduce) SYM(AllGather) SYM(AlltoAll) SYM(Send) SYM(Recv)
	SYM(GroupStart) SYM(GroupEnd) SYM(CommDestroy)
	return 0;
}

static int worker(int r, int steps)
{
	rank = r;
	srand(1234 + r + (getenv("DEMO_SEED") ? atoi(getenv("DEMO_SEED")) : 0));
	if (load_nccl(getenv("DEMO_NCCL")) != 0)
		return 1;
	sleep_us(200000); /* loading weights */
	ncclUniqueId id;
	memset(&id, 1, sizeof(id));
	ncclComm_t comm;
	nccl.CommInitRank(&comm, RANKS, id, rank);
	for (int step = 0; step < steps; step++) {
		decode_step(comm, step);
		sleep_us(step % 50 == 49 ? 40000 : 1500); /* between requests : between tokens */
	}
	nccl.CommDestroy(comm);
	return 0;
}

int main(void)
{
	if (!getenv("DEMO_NCCL")) {
		fprintf(stderr, "demo: set DEMO_NCCL to the NCCL library to load\n");
		return 2;
	}
	int steps = getenv("DEMO_STEPS") ? atoi(getenv("DEMO_STEPS")) : 400;
	const char *schedule = getenv("DEMO_SCHEDULE");
	if (schedule) {
		schedule_fd = open(schedule, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (schedule_fd < 0) {
			perror("demo: opening schedule");
			return 1;
		}
		if (!getenv("DEMO_RANK") && write(schedule_fd, "# linkprof simulated link schedule v1\n", 38) != 38) {
			perror("demo: writing schedule");
			return 1;
		}
	}
	if (getenv("DEMO_RANK"))
		return worker(atoi(getenv("DEMO_RANK")), steps);
	/* Like torchrun and multiprocessing's spawn: each rank is a new
	 * program whose environment says its rank. */
	pid_t workers[RANKS];
	for (int r = 0; r < RANKS; r++) {
		workers[r] = fork();
		if (workers[r] == 0) {
			char rank[16];
			snprintf(rank, sizeof(rank), "%d", r);
			setenv("DEMO_RANK", rank, 1);
			setenv("RANK", rank, 1);
			setenv("LOCAL_RANK", rank, 1);
			setenv("WORLD_SIZE", "2", 1);
			/* By its real path, so the rank's process name stays "demo". */
			char self[4096];
			ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
			if (n <= 0)
				_exit(127);
			self[n] = 0;
			execl(self, "demo", (char *)NULL);
			_exit(127);
		}
	}
	int failed = 0;
	for (int r = 0; r < RANKS; r++) {
		int status;
		waitpid(workers[r], &status, 0);
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	return failed;
}
