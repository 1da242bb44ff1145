// Test driver for linkprof's torch symmetric memory probes: two ranks (this
// process and a forked child) call every operator of the fake
// libtorch_cuda.so through its registered function pointers, with tensors
// of known sizes and dtypes, on groups whose names are short (inline in
// std::string), long (on the heap) and longer than the 64 bytes the probe
// hashes; then each captures a two-shot and a one-shot all-reduce into a
// CUDA graph on its thread and launches it REPLAYS times.
//
//   symm-driver ROUNDS REPLAYS
//
// Truth ($DRIVER_TRUTH, appended by both ranks, one line per write): each
// call as it would be recorded, "PID KIND GROUP COUNT DTYPE" (dtype as
// ncclDataType_t), captured calls too, then "PID launches REPLAYS".
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include "faketorch.h"
extern "C" {
#include "cuda_runtime.h"
}

namespace {

FILE *truth;

// ncclDataType_t of a c10::ScalarType, as the probe maps it.
int nccl_dtype(uint16_t st) { return st == 15 ? 9 : st == 6 ? 7 : st == 5 ? 6 : -1; }

void note(const char *kind, const std::string &group, const at::Tensor &sized)
{
	if (truth)
		std::fprintf(truth, "%d %s %s %lld %d\n", getpid(), kind, group.c_str(), (long long)sized.numel(),
			nccl_dtype(sized.impl_->dtype));
}

template <typename F> F op(const char *name)
{
	void *fn = fake_symm_mem_op(name);
	if (!fn) {
		std::fprintf(stderr, "symm-driver: no operator %s\n", name);
		std::exit(1);
	}
	return reinterpret_cast<F>(fn);
}

struct Tensors {
	at::TensorImpl impls[8];
	at::Tensor make(int i, int64_t numel, uint16_t dtype)
	{
		impls[i].numel = numel;
		impls[i].dtype = dtype;
		return at::Tensor(&impls[i]);
	}
};

const char *one = "SymmMemOneShotAllReduce", *two = "SymmMemTwoShotAllReduce";

void eager_round(Tensors &ts, const std::string &world, const std::string &tp, const std::string &huge)
{
	at::Tensor buf = ts.make(0, 8192, 15), out = ts.make(1, 8192, 15);
	at::Tensor symm = ts.make(2, 16384, 6), local = ts.make(3, 1000, 6);
	at::Tensor big = ts.make(4, 1 << 20, 15), rs_out = ts.make(5, 1 << 19, 15);
	at::Tensor shard = ts.make(6, 4096, 5), gathered = ts.make(7, 8192, 5);

	op<symm::AllReduce>("one_shot_all_reduce")(buf, "sum", world);
	note(one, world, buf);
	op<symm::AllReduceOut>("one_shot_all_reduce_out")(buf, "sum", world, out);
	note(one, world, buf);
	op<symm::Copy>("one_shot_all_reduce_copy")(symm, local, "sum", tp);
	note(one, tp, symm);
	op<symm::CopyOut>("one_shot_all_reduce_copy_out")(symm, local, "sum", tp, out);
	note(one, tp, symm);
	op<symm::TwoShot>("two_shot_all_reduce_")(big, "sum", world);
	note(two, world, big);
	op<symm::TwoShotOut>("two_shot_all_reduce_out")(big, "sum", tp, big);
	note(two, tp, big);
	op<symm::ReduceScatterOut>("reduce_scatter_out")(big, world, false, rs_out);
	note("SymmMemReduceScatter", world, rs_out);
	op<symm::AllReduce>("multimem_all_reduce_")(buf, "sum", huge);
	note(two, huge, buf);
	op<symm::AllReduce>("multimem_one_shot_all_reduce")(buf, "sum", world);
	note(one, world, buf);
	op<symm::AllReduceOut>("multimem_one_shot_all_reduce_out")(buf, "sum", world, out);
	note(one, world, buf);
	op<symm::AllGatherOut>("multimem_all_gather_out")(shard, world, gathered);
	note("SymmMemAllGather", world, shard);
	op<symm::AllReduce>("other::one_shot_all_reduce")(buf, "sum", world); // not an operator
}

// A decode step's graph: captured on this thread, launched replays times.
void graph(Tensors &ts, const std::string &world, int replays)
{
	cudaStream_t s = reinterpret_cast<cudaStream_t>(0x7300 + getpid());
	at::Tensor big = ts.make(4, 1 << 20, 15), buf = ts.make(0, 8192, 15);
	cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
	op<symm::TwoShot>("two_shot_all_reduce_")(big, "sum", world);
	note(two, world, big);
	op<symm::AllReduce>("one_shot_all_reduce")(buf, "sum", world);
	note(one, world, buf);
	cudaGraph_t g;
	cudaStreamEndCapture(s, &g);
	cudaGraphExec_t e;
	cudaGraphInstantiateWithFlags(&e, g, 0);
	for (int i = 0; i < replays; i++)
		cudaGraphLaunch(e, s);
	if (truth)
		std::fprintf(truth, "%d launches %d\n", getpid(), replays);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: symm-driver ROUNDS REPLAYS\n");
		return 2;
	}
	int rounds = std::atoi(argv[1]), replays = std::atoi(argv[2]);
	pid_t child = fork();
	if (child < 0) {
		std::perror("fork");
		return 1;
	}
	if (const char *path = std::getenv("DRIVER_TRUTH")) {
		truth = std::fopen(path, "a");
		if (!truth) {
			std::perror("opening truth file");
			return 1;
		}
		setvbuf(truth, nullptr, _IOLBF, 0);
	}
	const std::string world = "0", tp = "tp:ranks-0-1:a-name-longer-than-the-inline-buffer";
	const std::string huge = "pp:" + std::string(80, 'x') + ":a-name-longer-than-the-64-bytes-hashed";
	Tensors ts;
	for (int i = 0; i < rounds; i++)
		eager_round(ts, world, tp, huge);
	graph(ts, world, replays);
	if (truth)
		std::fclose(truth);
	if (child == 0)
		return 0;
	int status = 0;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
