/* Test driver for linkprof: calls a (fake) NCCL in known patterns and writes
 * what it called, argument by argument, to a truth file, so tests compare
 * every recorded event with what really happened.
 *
 *   driver all            every op x every dtype, comm creation, groups, aliases
 *   driver loop N         N ncclAllReduce calls as fast as possible; prints ns/call
 *   driver spin           ncclAllReduce until SIGTERM/SIGINT; truth holds the count
 *   driver rate R S       about R ncclAllReduce calls per second for S seconds
 *   driver children K N   fork K children that each make N calls, then reap them
 *   driver forkspin M     until SIGTERM/SIGINT: M calls, then a child that makes
 *                         M calls and exits, reaped before the next round
 *   driver reload K N     K times: copy $DRIVER_NCCL to $DRIVER_RELOAD (a new
 *                         inode), dlopen it, wait for $DRIVER_GATES<k>, make N
 *                         calls, dlclose it and check it is really unloaded
 *
 * Environment:
 *   DRIVER_TRUTH=FILE  where to write the truth (default: none)
 *   DRIVER_WAIT=FILE   wait until FILE exists before the first call
 *   DRIVER_NCCL=PATH   dlopen PATH instead of using the linked NCCL (driver-dl)
 *   DRIVER_HOLD=FILE   after the pattern, wait until FILE exists before exiting
 *   DRIVER_RELOAD=PATH, DRIVER_GATES=PREFIX   for reload
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "api.h"

static FILE *truth; /* what the program called, for the tests (DRIVER_TRUTH) */
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

/* One spin call: the count argument numbers the calls, and the checksum
 * folds in what the library returned, so a soak test sees that probing never
 * changed results (sum of n * 2654435761 over n < calls, mod 2^64). */
static unsigned long spin_call(long n)
{
	ncclResult_t r = api.AllReduce(BUF(1), BUF(2), (size_t)n, ncclBfloat16, ncclSum, NULL, STREAM(1));
	return (unsigned long)n * 2654435761u + (unsigned long)r;
}

/* Calls until told to stop, then reports how many calls it made, the
 * checksum, and how long it ran (so tests can compute its call rate). */
static void pattern_spin(void)
{
	long n = 0;
	unsigned long sum = 0;
	uint64_t t0 = now_ns();
	while (!stop) {
		sum += spin_call(n);
		n++;
	}
	printf("calls %ld checksum %lu ns %lu\n", n, sum, (unsigned long)(now_ns() - t0));
	if (truth)
		fprintf(truth, "%d spin %ld %lu\n", getpid(), n, sum);
}

/* Spin, but every round also forks a child that carries the numbering on,
 * so the calls 0..calls-1 are spread over the parent and its children. */
static void pattern_forkspin(long m)
{
	long n = 0, children = 0, failed = 0;
	unsigned long sum = 0;
	uint64_t t0 = now_ns();
	while (!stop) {
		for (long i = 0; i < m; i++, n++)
			sum += spin_call(n);
		pid_t pid = fork();
		if (pid == 0) {
			for (long i = 0; i < m; i++)
				spin_call(n + i);
			_exit(0);
		}
		int status = 0;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			failed++;
			continue;
		}
		for (long i = 0; i < m; i++, n++)
			sum += (unsigned long)n * 2654435761u;
		children++;
	}
	printf("calls %ld checksum %lu ns %lu children %ld failed %ld\n", n, sum,
	       (unsigned long)(now_ns() - t0), children, failed);
}

/* Copies src to dst as a new file (unlink first: a new inode, as a package
 * upgrade would leave). */
static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t k;
	int in = open(src, O_RDONLY), out;
	unlink(dst);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0755);
	if (in < 0 || out < 0)
		return -1;
	while ((k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k)
			return -1;
	close(in);
	return close(out);
}

static int reload_cycle(const char *src, const char *dst, const char *gates, int k, long n)
{
	char gate[4096];
	struct stat st;
	if (copy_file(src, dst) != 0 || stat(dst, &st) != 0) {
		perror("copying NCCL");
		return -1;
	}
	void *h = dlopen(dst, RTLD_NOW | RTLD_LOCAL);
	__typeof__(ncclAllReduce) *allreduce = h ? dlsym(h, "ncclAllReduce") : NULL;
	if (!allreduce) {
		fprintf(stderr, "loading %s: %s\n", dst, dlerror());
		return -1;
	}
	if (truth)
		fprintf(truth, "%d reload %d %lu\n", getpid(), k, (unsigned long)st.st_ino);
	snprintf(gate, sizeof(gate), "%s%d", gates, k);
	while (access(gate, F_OK) != 0)
		usleep(1000);
	for (long i = 0; i < n; i++) {
		allreduce(BUF(1), BUF(2), (size_t)(k * 1000 + i), ncclFloat32, ncclSum, NULL, STREAM(1));
		note("AllReduce", (size_t)(k * 1000 + i), ncclFloat32, ncclSum, -1, NULL, 0x7001, BUF(1), BUF(2), 0);
	}
	dlclose(h);
	if (dlopen(dst, RTLD_NOW | RTLD_NOLOAD)) {
		fprintf(stderr, "%s still loaded after dlclose\n", dst);
		return -1;
	}
	return 0;
}

static int pattern_reload(int k, long n)
{
	const char *src = getenv("DRIVER_NCCL"), *dst = getenv("DRIVER_RELOAD"), *gates = getenv("DRIVER_GATES");
	if (!src || !dst || !gates) {
		fprintf(stderr, "reload needs DRIVER_NCCL, DRIVER_RELOAD and DRIVER_GATES\n");
		return -1;
	}
	for (int i = 0; i < k; i++)
		if (reload_cycle(src, dst, gates, i, n) != 0)
			return -1;
	return 0;
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
		fprintf(stderr, "usage: driver all|loop N|spin|rate R S|children K N|forkspin M|reload K N\n");
		return 2;
	}
	truth = open_truth();
	if (getenv("DRIVER_TRUTH") && !truth)
		return 1;
	/* reload loads its own copies of NCCL, one at a time. */
	if (strcmp(argv[1], "reload") == 0)
		return argc > 3 && pattern_reload(atoi(argv[2]), atol(argv[3])) == 0 ? 0 : 1;
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
	else if (strcmp(argv[1], "forkspin") == 0 && argc > 2)
		pattern_forkspin(atol(argv[2]));
	else {
		fprintf(stderr, "driver: unknown pattern %s\n", argv[1]);
		return 2;
	}
	wait_for_file("DRIVER_HOLD");
	if (truth)
		fclose(truth);
	return 0;
}
