/* Ranks whose collectives move their bytes over TCP on 127.0.0.1, as
 * NCCL's socket transport does between the ranks of one host with
 * NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_SOCKET_IFNAME=lo: the truth of
 * linkprof's network link tests.
 *
 *   netranks N OP:BYTES:CALLS...
 *
 * Forks N ranks of one communicator (fake NCCL). Rank r sends to rank r+1
 * and receives from rank r-1 over TCP connections on lo. For each call it
 * calls the fake collective (OP allreduce or allgather; BYTES the payload:
 * an all-reduce's buffer, an all-gather's part per rank; float32), then
 * sends the ring algorithm's bytes for its rank (all-reduce 2(N-1)/N x
 * BYTES, all-gather (N-1) x BYTES) and waits until as many arrived from its
 * predecessor. Every rank passes a barrier before and after each phase;
 * phases are 300 ms apart.
 *
 * Truth ($DRIVER_TRUTH, rank 0): "phase OP BYTES CALLS SENT START_NS
 * END_NS" per phase, SENT the bytes all ranks sent in it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "api.h"

#define MAX_RANKS 8
#define CHUNK (1 << 20)

struct shared {
	pthread_barrier_t bar;
	int ports[MAX_RANKS];
};

struct phase {
	char op[16];
	long bytes, calls;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static _Atomic long received;

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	static char buf[CHUNK];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return NULL;
		atomic_fetch_add(&received, n);
	}
}

static int listen_lo(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_lo(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	return fd;
}

static int send_all(int fd, long n)
{
	static char buf[CHUNK];
	while (n > 0) {
		ssize_t w = write(fd, buf, n < CHUNK ? n : CHUNK);
		if (w <= 0)
			return -1;
		n -= w;
	}
	return 0;
}

/* ring_bytes is what one rank sends for one call. */
static long ring_bytes(const struct phase *p, int n)
{
	if (strcmp(p->op, "allgather") == 0)
		return (long)(n - 1) * p->bytes;
	return 2 * (long)(n - 1) * p->bytes / n;
}

static void collective(const struct phase *p, ncclComm_t comm)
{
	size_t count = (size_t)p->bytes / 4;
	if (strcmp(p->op, "allgather") == 0)
		api.AllGather((void *)0x10001000, (void *)0x10002000, count, ncclFloat32, comm, (void *)0x7001);
	else
		api.AllReduce((void *)0x10001000, (void *)0x10002000, count, ncclFloat32, ncclSum, comm, (void *)0x7001);
}

static int run_rank(struct shared *sh, int rank, int n, struct phase *ph, int nph)
{
	FILE *truth = rank == 0 ? open_truth() : NULL;
	ncclUniqueId id;
	memset(&id, 7, sizeof(id));
	ncclComm_t comm;
	api.CommInitRank(&comm, n, id, rank);
	int lfd = listen_lo(&sh->ports[rank]);
	pthread_barrier_wait(&sh->bar);
	int out = connect_lo(sh->ports[(rank + 1) % n]);
	int in = accept(lfd, NULL, NULL);
	if (lfd < 0 || out < 0 || in < 0) {
		perror("netranks: sockets");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, drain, &in);
	long expected = 0;
	for (int i = 0; i < nph; i++) {
		pthread_barrier_wait(&sh->bar);
		uint64_t start = now_ns();
		long ring = ring_bytes(&ph[i], n);
		for (long c = 0; c < ph[i].calls; c++) {
			collective(&ph[i], comm);
			if (send_all(out, ring) != 0) {
				perror("netranks: send");
				return 1;
			}
			expected += ring;
			while (atomic_load(&received) < expected)
				usleep(20);
		}
		pthread_barrier_wait(&sh->bar);
		if (truth)
			fprintf(truth, "phase %s %ld %ld %ld %lu %lu\n", ph[i].op, ph[i].bytes, ph[i].calls, ring * ph[i].calls * n,
				(unsigned long)start, (unsigned long)now_ns());
		usleep(300000);
	}
	shutdown(out, SHUT_WR);
	pthread_join(t, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0;
	if (n < 2 || n > MAX_RANKS) {
		fprintf(stderr, "usage: netranks N OP:BYTES:CALLS... (2 <= N <= %d)\n", MAX_RANKS);
		return 2;
	}
	int nph = argc - 2;
	struct phase *ph = calloc((size_t)nph, sizeof(*ph));
	for (int i = 0; i < nph; i++)
		if (sscanf(argv[i + 2], "%15[a-z]:%ld:%ld", ph[i].op, &ph[i].bytes, &ph[i].calls) != 3) {
			fprintf(stderr, "netranks: bad phase %s\n", argv[i + 2]);
			return 2;
		}
	if (api_load() != 0)
		return 1;
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_barrierattr_t attr;
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (sh == MAP_FAILED || pthread_barrier_init(&sh->bar, &attr, (unsigned)n) != 0) {
		perror("netranks: barrier");
		return 1;
	}
	for (int r = 0; r < n; r++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(run_rank(sh, r, n, ph, nph));
	}
	int failed = 0, st;
	while (wait(&st) > 0)
		failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	return failed;
}
