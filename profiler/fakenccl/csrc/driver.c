/* Test driver for linkprof: calls a (fake) NCCL in known patterns and writes
 * what it called, argument by argument, to a truth file, so tests compare
 * every recorded event with what really happened.
 *
 *   driver all            every op x every dtype, comm creation, groups, aliases
 *   driver loop N         N ncclAllReduce calls as fast as possible; prints ns/call
 *   driver spin           ncclAllReduce until SIGTERM/SIGINT; truth holds the count
 *   driver rate R S       about R ncclAllReduce calls per second for S seconds
 *   driver children K N   fork K children that each make N calls, then reap them
 *
 * Environment:
 *   DRIVER_TRUTH=FILE  where to write the truth (default: none)
 *   DRIVER_WAIT=FILE   wait until FILE exists before the first call
 *   DRIVER_NCCL=PATH   dlopen PATH instead of using the linked NCCL (driver-dl)
 *   DRIVER_HOLD=FILE   after the pattern, wait until FILE exists before exiting
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "api.h"

static FILE *truth;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void wait_for_file(const char *env)
{
	const char *path = getenv(env);
	if (!path)
		return;
	while (access(path, F_OK) != 0)
		usleep(1000);
}

static void note(const char *op, size_t count, int dtype, int redop, int peer, ncclComm_t comm, uintptr_t stream,
		 const void *send, const void *recv, int depth)
{
	if (!truth)
		return;
	fprintf(truth, "%d %s %zu %d %d %d %lu %lu %lu %lu %d\n", getpid(), op, count, dtype, redop, peer,
		(unsigned long)(uintptr_t)comm, (unsigned long)stream, (unsigned long)(uintptr_t)send,
		(unsigned long)(uintptr_t)recv, depth);
}

static void note_comm(const char *kind, ncclComm_t comm, int rank, int nranks)
{
	if (truth)
		fprintf(truth, "%d %s %lu %d %d\n", getpid(), kind, (unsigned long)(uintptr_t)comm, rank, nranks);
}

#define BUF(n) ((void *)(uintptr_t)(0x10000000UL + (n) * 0x1000UL))
#define STREAM(n) ((cudaStream_t)(uintptr_t)(0x7000UL + (n)))

static void comm_setup(ncclComm_t *main_comm)
{
	ncclUniqueId id;
	memset(&id, 7, sizeof(id));
	ncclConfig_t config = {sizeof(config), 0xcafebeef, 22809, 1};
	ncclComm_t c4, all[3], split;

	api.CommInitRank(main_comm, 2, id, 1);
	note_comm("CommInitRank", *main_comm, 1, 2);
	api.CommInitRankConfig(&c4, 4, id, 3, &config);
	note_comm("CommInitRankConfig", c4, 3, 4);
	int devs[3] = {0, 1, 2};
	api.CommInitAll(all, 3, devs);
	for (int i = 0; i < 3; i++)
		note_comm("CommInitAll", all[i], i, 3);
	api.CommSplit(c4, 5, 1, &split, NULL);
	note_comm("CommSplit", split, 1, -1);
	api.CommDestroy(split);
	note("CommDestroy", 0, -1, -1, -1, split, 0, 0, 0, 0);
}

/* One call of every collective for dtype d, each with arguments that say
 * which call it was. */
static void collectives(ncclComm_t c, int d, int depth)
{
	size_t n = 1000 + d;
	api.AllReduce(BUF(1), BUF(2), n + 10, d, d % 5, c, STREAM(1));
	note("AllReduce", n + 10, d, d % 5, -1, c, 0x7001, BUF(1), BUF(2), depth);
	api.AllGather(BUF(3), BUF(4), n + 20, d, c, STREAM(2));
	note("AllGather", n + 20, d, -1, -1, c, 0x7002, BUF(3), BUF(4), depth);
	api.ReduceScatter(BUF(5), BUF(6), n + 30, d, (d + 1) % 5, c, STREAM(3));
	note("ReduceScatter", n + 30, d, (d + 1) % 5, -1, c, 0x7003, BUF(5), BUF(6), depth);
	api.Broadcast(BUF(7), BUF(8), n + 40, d, 1, c, STREAM(4));
	note("Broadcast", n + 40, d, -1, 1, c, 0x7004, BUF(7), BUF(8), depth);
	api.Bcast(BUF(9), n + 50, d, 0, c, STREAM(5));
	note("Bcast", n + 50, d, -1, 0, c, 0x7005, BUF(9), BUF(9), depth);
	api.Reduce(BUF(10), BUF(11), n + 60, d, (d + 2) % 5, 1, c, STREAM(6));
	note("Reduce", n + 60, d, (d + 2) % 5, 1, c, 0x7006, BUF(10), BUF(11), depth);
	api.AlltoAll(BUF(12), BUF(13), n + 70, d, c, STREAM(7));
	note("AlltoAll", n + 70, d, -1, -1, c, 0x7007, BUF(12), BUF(13), depth);
	api.Gather(BUF(14), BUF(15), n + 80, d, 0, c, STREAM(8));
	note("Gather", n + 80, d, -1, 0, c, 0x7008, BUF(14), BUF(15), depth);
	api.Scatter(BUF(16), BUF(17), n + 90, d, 1, c, STREAM(9));
	note("Scatter", n + 90, d, -1, 1, c, 0x7009, BUF(16), BUF(17), depth);
}

static void pattern_all(void)
{
	ncclComm_t c;
	comm_setup(&c);
	for (int d = 0; d < 12; d++)
		collectives(c, d, 0);

	/* Grouped point-to-point, nested two deep, as torch's all_to_all does. */
	api.GroupStart();
	note("GroupStart", 0, -1, -1, -1, 0, 0, 0, 0, 0);
	api.GroupStart();
	note("GroupStart", 0, -1, -1, -1, 0, 0, 0, 0, 1);
	api.Send(BUF(20), 4096, ncclBfloat16, 0, c, STREAM(10));
	note("Send", 4096, ncclBfloat16, -1, 0, c, 0x700a, BUF(20), 0, 2);
	api.Recv(BUF(21), 4096, ncclBfloat16, 0, c, STREAM(10));
	note("Recv", 4096, ncclBfloat16, -1, 0, c, 0x700a, 0, BUF(21), 2);
	api.GroupEnd();
	note("GroupEnd", 0, -1, -1, -1, 0, 0, 0, 0, 2);
	api.GroupEnd();
	note("GroupEnd", 0, -1, -1, -1, 0, 0, 0, 0, 1);

	/* The profiling aliases reach the same code: one event each. */
	api.pAllReduce(BUF(22), BUF(23), 77, ncclFloat32, ncclMax, c, STREAM(11));
	note("AllReduce", 77, ncclFloat32, ncclMax, -1, c, 0x700b, BUF(22), BUF(23), 0);
	api.pSend(BUF(24), 88, ncclInt8, 1, c, STREAM(12));
	note("Send", 88, ncclInt8, -1, 1, c, 0x700c, BUF(24), 0, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pattern_loop(long n)
{
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		api.AllReduce(BUF(1), BUF(2), (size_t)i, ncclBfloat16, ncclSum, NULL, STREAM(1));
	uint64_t dt = now_ns() - t0;
	printf("calls %ld ns %lu ns_per_call %.1f\n", n, (unsigned long)dt, (double)dt / (double)n);
	if (truth)
		fprintf(truth, "%d loop %ld %lu\n", getpid(), n, (unsigned long)dt);
}

/* Calls until told to stop, then reports how many calls it made. The
 * checksum lets a soak test see that probing never changed results. */
static void pattern_spin(void)
{
	long n = 0;
	unsigned long sum = 0;
	while (!stop) {
		api.AllReduce(BUF(1), BUF(2), (size_t)n, ncclBfloat16, ncclSum, NULL, STREAM(1));
		sum += (unsigned long)n * 2654435761u;
		n++;
	}
	printf("calls %ld checksum %lu\n", n, sum);
	if (truth)
		fprintf(truth, "%d spin %ld %lu\n", getpid(), n, sum);
}

/* About rate calls per second for secs seconds, paced every millisecond. */
static void pattern_rate(long rate, long secs)
{
	long per_ms = rate / 1000, n = 0;
	uint64_t start = now_ns(), end = start + (uint64_t)secs * 1000000000ull;
	for (uint64_t tick = start; tick < end && now_ns() < end; tick += 1000000) {
		for (long i = 0; i < per_ms; i++, n++)
			api.AllReduce(BUF(1), BUF(2), (size_t)n, ncclBfloat16, ncclSum, NULL, STREAM(1));
		uint64_t next = tick + 1000000;
		struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	uint64_t dt = now_ns() - start;
	printf("calls %ld seconds %.3f\n", n, (double)dt / 1e9);
	if (truth)
		fprintf(truth, "%d rate %ld %lu\n", getpid(), n, (unsigned long)dt);
}

static void pattern_children(int k, long n)
{
	for (int i = 0; i < k; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (long j = 0; j < n; j++) {
				api.AllReduce(BUF(1), BUF(2), (size_t)(100 + i), ncclFloat16, ncclSum, NULL, STREAM(1));
				note("AllReduce", (size_t)(100 + i), ncclFloat16, ncclSum, -1, NULL, 0x7001, BUF(1), BUF(2), 0);
			}
			if (truth)
				fflush(truth);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: driver all|loop N|spin|children K N\n");
		return 2;
	}
	const char *truth_path = getenv("DRIVER_TRUTH");
	if (truth_path) {
		truth = fopen(truth_path, "a");
		if (!truth) {
			perror("opening truth file");
			return 1;
		}
		setvbuf(truth, NULL, _IOLBF, 0);
	}
	if (api_load() != 0)
		return 1;
	if (getenv("DRIVER_NCCL") && truth)
		fprintf(truth, "%d dlopen %lu\n", getpid(), (unsigned long)now_ns());
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	wait_for_file("DRIVER_WAIT");

	if (strcmp(argv[1], "all") == 0)
		pattern_all();
	else if (strcmp(argv[1], "loop") == 0 && argc > 2)
		pattern_loop(atol(argv[2]));
	else if (strcmp(argv[1], "spin") == 0)
		pattern_spin();
	else if (strcmp(argv[1], "rate") == 0 && argc > 3)
		pattern_rate(atol(argv[2]), atol(argv[3]));
	else if (strcmp(argv[1], "children") == 0 && argc > 3)
		pattern_children(atoi(argv[2]), atol(argv[3]));
	else {
		fprintf(stderr, "driver: unknown pattern %s\n", argv[1]);
		return 2;
	}
	wait_for_file("DRIVER_HOLD");
	if (truth)
		fclose(truth);
	return 0;
}
