/* Ranks for linkprof's straggler tests: forks N processes that each create
 * rank r of one N-rank communicator and call ncclAllReduce ITERS times on
 * it. A process-shared barrier after each call stands in for the GPU: no
 * rank starts the next collective before every rank entered this one, as
 * with a real all-reduce that the host waits for.
 *
 *   ranks N ITERS SLOW DELAY_US
 *
 * Rank SLOW sleeps DELAY_US before each call (a known straggler). With
 * RANKS_STOP_AT=K it stops itself with SIGSTOP instead of its K-th call
 * (from 0), after writing "stop RANK PID MONO_NS" to the truth, so the
 * others enter collective K and wait for it forever.
 *
 * Truth ($DRIVER_TRUTH): "rank R PID" per rank, then "call R I MONO_NS"
 * for each call (the moment before it).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "api.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void run_rank(FILE *truth, pthread_barrier_t *bar, int rank, int n, long iters, int slow, long delay_us,
		     long stop_at)
{
	ncclUniqueId id;
	memset(&id, 9, sizeof(id));
	ncclComm_t comm;
	api.CommInitRank(&comm, n, id, rank);
	if (truth)
		fprintf(truth, "rank %d %d\n", rank, getpid());
	pthread_barrier_wait(bar);
	for (long i = 0; i < iters; i++) {
		if (rank == slow && i == stop_at) {
			if (truth)
				fprintf(truth, "stop %d %d %lu\n", rank, getpid(), (unsigned long)now_ns());
			kill(getpid(), SIGSTOP);
		}
		if (rank == slow && delay_us > 0)
			usleep((useconds_t)delay_us);
		if (truth)
			fprintf(truth, "call %d %ld %lu\n", rank, i, (unsigned long)now_ns());
		api.AllReduce((void *)0x10001000, (void *)0x10002000, 1 << 20, ncclFloat32, ncclSum, comm, (void *)0x7001);
		pthread_barrier_wait(bar);
	}
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: ranks N ITERS SLOW DELAY_US\n");
		return 2;
	}
	int n = atoi(argv[1]), slow = atoi(argv[3]);
	long iters = atol(argv[2]), delay_us = atol(argv[4]);
	const char *s = getenv("RANKS_STOP_AT");
	long stop_at = s ? atol(s) : -1;
	if (api_load() != 0)
		return 1;
	pthread_barrier_t *bar = mmap(NULL, sizeof(*bar), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_barrierattr_t attr;
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (bar == MAP_FAILED || pthread_barrier_init(bar, &attr, (unsigned)n) != 0) {
		perror("ranks: barrier");
		return 1;
	}
	for (int r = 0; r < n; r++) {
		if (fork() == 0) {
			run_rank(open_truth(), bar, r, n, iters, slow, delay_us, stop_at);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
