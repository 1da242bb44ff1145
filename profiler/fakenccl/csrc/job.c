/* One host's share of a multi-host job, for linkprof merge's tests: several
 * of these, each started by its own recorder (each recorder a "host"), make
 * one job, as torchrun's agents do on several machines.
 *
 *   job N ITERS
 *
 * Environment, as a job's launcher and bootstrap would hand it over:
 *   JOB_IDS          comma-separated ncclUniqueIds in hex (up to 128 bytes
 *                    each, the rest zero): the world communicator's, then
 *                    one per rank group (rank r is in group r % G of G;
 *                    each group is its own communicator). Every host gets
 *                    the same list: in a real job rank 0 of each group calls
 *                    ncclGetUniqueId and the bootstrap broadcasts the bytes.
 *   JOB_BARRIER      a file of at least 4096 zero bytes every process of
 *                    the job maps: the barrier after each collective, which
 *                    stands in for the GPU (no rank starts the next one
 *                    before every rank entered this one)
 *   JOB_FIRST_RANK   the first global rank on this host (default 0)
 *   JOB_LOCAL_RANKS  how many ranks this host runs (default N)
 *   JOB_CONFIG=1     create communicators with ncclCommInitRankConfig
 *   JOB_VARY=1       vary the world all-reduce's count with the iteration,
 *                    1 Mi + 256 x ((i x 2654435761 mod 2^32) >> 24 mod 61)
 *                    floats (a hash of i: no period), and set the groups
 *                    apart: group g all-gathers 64 Ki + 1 Ki x g bfloat16
 *   JOB_PAUSE_US     sleep this long before each iteration (a slow job, for
 *                    recorders to attach to while it runs)
 *   DRIVER_TRUTH     "rank R PID" per rank, "call R I MONO_NS" before each
 *                    world all-reduce, "gcall R I MONO_NS" before each group
 *                    all-gather
 *
 * The launcher forks and re-executes itself once per local rank with RANK,
 * LOCAL_RANK and WORLD_SIZE set, as torchrun starts its workers. Each worker
 * creates the world communicator and its group's, then ITERS times: an
 * all-reduce of 1 Mi floats on the world, an all-gather of 64 Ki bfloat16
 * per rank on its group, each followed by the barrier. */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "api.h"

#define MAX_IDS 8

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* A sense barrier in memory shared by unrelated processes: it needs no
 * initialisation beyond zero bytes, so every host can map the same file. */
struct barrier {
	uint32_t count;
	uint32_t gen;
};

static void barrier_wait(struct barrier *b, uint32_t n)
{
	uint32_t gen = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == n) {
		__atomic_store_n(&b->count, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&b->gen, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &b->gen, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
		return;
	}
	while (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) == gen)
		syscall(SYS_futex, &b->gen, FUTEX_WAIT, gen, NULL, NULL, 0);
}

static struct barrier *map_barrier(void)
{
	const char *path = getenv("JOB_BARRIER");
	int fd = path ? open(path, O_RDWR) : -1;
	if (fd < 0) {
		fprintf(stderr, "job: JOB_BARRIER must name a file of zero bytes\n");
		return NULL;
	}
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* parse_ids reads JOB_IDS into ids; returns how many, -1 on a bad list. */
static int parse_ids(ncclUniqueId *ids)
{
	const char *s = getenv("JOB_IDS");
	if (!s || !*s)
		return -1;
	int n = 0;
	memset(ids, 0, MAX_IDS * sizeof(*ids));
	while (n < MAX_IDS) {
		int i = 0;
		while (*s && *s != ',') {
			int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;
			if (hi < 0 || lo < 0 || i >= NCCL_UNIQUE_ID_BYTES)
				return -1;
			ids[n].internal[i++] = (char)(hi << 4 | lo);
			s += 2;
		}
		n++;
		if (!*s)
			return n;
		s++;
	}
	return -1;
}

static ncclComm_t create(int nranks, ncclUniqueId id, int rank)
{
	ncclComm_t comm;
	ncclConfig_t cfg = {sizeof(cfg), 0xcafebeef, 22809, 1};
	const char *c = getenv("JOB_CONFIG");
	if (c && strcmp(c, "1") == 0)
		api.CommInitRankConfig(&comm, nranks, id, rank, &cfg);
	else
		api.CommInitRank(&comm, nranks, id, rank);
	return comm;
}

/* world_count is the world all-reduce's count at iteration i. */
static size_t world_count(long i)
{
	const char *v = getenv("JOB_VARY");
	if (v && strcmp(v, "1") == 0)
		return (1u << 20) + 256u * (size_t)((((uint32_t)i * 2654435761u) >> 24) % 61);
	return 1u << 20;
}

/* group_count is group g's all-gather count. */
static size_t group_count(int g)
{
	const char *v = getenv("JOB_VARY");
	if (v && strcmp(v, "1") == 0)
		return (1u << 16) + 1024u * (size_t)g;
	return 1u << 16;
}

static int worker(int n, long iters, int rank)
{
	ncclUniqueId ids[MAX_IDS];
	int nids = parse_ids(ids);
	struct barrier *bar = map_barrier();
	if (nids < 1 || !bar || api_load() != 0) {
		fprintf(stderr, "job: rank %d: bad JOB_IDS or JOB_BARRIER\n", rank);
		return 1;
	}
	int groups = nids - 1;
	FILE *truth = open_truth();
	ncclComm_t world = create(n, ids[0], rank), group = NULL;
	if (groups > 0)
		group = create(n / groups, ids[1 + rank % groups], rank / groups);
	if (truth)
		fprintf(truth, "rank %d %d\n", rank, getpid());
	barrier_wait(bar, (uint32_t)n);
	const char *p = getenv("JOB_PAUSE_US");
	useconds_t pause = p ? (useconds_t)atoi(p) : 0;
	for (long i = 0; i < iters; i++) {
		if (pause)
			usleep(pause);
		if (truth)
			fprintf(truth, "call %d %ld %lu\n", rank, i, (unsigned long)now_ns());
		api.AllReduce((void *)0x10001000, (void *)0x10002000, world_count(i), ncclFloat32, ncclSum, world, (void *)0x7001);
		barrier_wait(bar, (uint32_t)n);
		if (group) {
			if (truth)
				fprintf(truth, "gcall %d %ld %lu\n", rank, i, (unsigned long)now_ns());
			api.AllGather((void *)0x10003000, (void *)0x10004000, group_count(rank % groups), ncclBfloat16, group, (void *)0x7001);
			barrier_wait(bar, (uint32_t)n);
		}
	}
	return 0;
}

/* launch starts the local ranks as torchrun does: RANK, LOCAL_RANK and
 * WORLD_SIZE in each worker's own environment. */
static int launch(char **argv, int n)
{
	const char *f = getenv("JOB_FIRST_RANK"), *l = getenv("JOB_LOCAL_RANKS");
	int first = f ? atoi(f) : 0, local = l ? atoi(l) : n;
	/* Its own path, so the workers keep the name "job" (not "exe"). */
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 1;
	self[len] = 0;
	for (int i = 0; i < local; i++) {
		if (fork() == 0) {
			char v[16];
			snprintf(v, sizeof(v), "%d", first + i);
			setenv("RANK", v, 1);
			snprintf(v, sizeof(v), "%d", i);
			setenv("LOCAL_RANK", v, 1);
			snprintf(v, sizeof(v), "%d", n);
			setenv("WORLD_SIZE", v, 1);
			execv(self, argv);
			perror("job: exec");
			_exit(1);
		}
	}
	int failed = 0, status;
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	return failed;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: job N ITERS\n");
		return 2;
	}
	int n = atoi(argv[1]);
	long iters = atol(argv[2]);
	const char *rank = getenv("RANK");
	if (rank)
		return worker(n, iters, atoi(rank));
	return launch(argv, n);
}
