package extra

import (
	"regexp"

	"github.com/linkprof/linkprof/trace"
)

// torch's symmetric memory collectives (torch.ops.symm_mem, in
// torch/csrc/distributed/c10d/symm_mem/CUDASymmetricMemoryOps.cu) are
// functions of an anonymous namespace in libtorch_cuda.so: local symbols,
// in .symtab only, whose mangled namespace differs per build, so they are
// matched by demangled name. The dispatcher calls the registered
// operators through function pointers (m.impl), so each call enters one
// of them out of line, once:
//
//   - the one-shot entries all call one_shot_all_reduce_out_impl and the
//     two-shot ones two_shot_all_reduce_impl; those helpers are not probed,
//     or each call would count twice;
//   - multimem_one_shot_all_reduce calls multimem_one_shot_all_reduce_out,
//     so only the latter is probed.
//
// Every operator returns an at::Tensor by value (HiddenReturn). Sizes come
// from the tensor the kernel's traffic scales with: the input (the
// symmetric buffer) of the all-reduces, the output of reduce_scatter_out
// (per rank, as NCCL's ReduceScatter recvcount), the input of
// multimem_all_gather_out (per rank, as AllGather's sendcount). The group
// is its name (CommIsName). Only libstdc++'s C++11 std::string is matched:
// a torch built with the pre-C++11 ABI (older Linux wheels) is not probed.
const (
	symmStr    = `std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >`
	symmTensor = `at::Tensor( const&)?`
	anonymous  = `^\(anonymous namespace\)::`
)

// symmOp is a pattern for one or more operators of the given names and
// argument lists (S a std::string, T an at::Tensor by value or const&, B a
// bool).
func symmOp(names, args string) *regexp.Regexp {
	r := regexp.MustCompile(`[STB]`).ReplaceAllStringFunc(args, func(a string) string {
		return map[string]string{"S": symmStr, "T": symmTensor, "B": "bool"}[a]
	})
	return regexp.MustCompile(anonymous + `(` + names + `)\(` + r + `\)$`)
}

var libtorchCUDA = regexp.MustCompile(`(^|/)libtorch_cuda\.so$`)

// symmMem are the entries for torch symmetric memory.
var symmMem = []Probe{
	{
		// one_shot_all_reduce(input, reduce_op, group_name) and _out(..., out);
		// multimem_one_shot_all_reduce_out (multicast) likewise.
		Name: "torch-symm-mem-one-shot-all-reduce", Framework: "torch",
		Library: libtorchCUDA, Contains: "one_shot_all_reduce",
		Demangled: symmOp(`one_shot_all_reduce|one_shot_all_reduce_out|multimem_one_shot_all_reduce_out`, `T, S, S(, T)?`),
		Kind:      trace.SymmMemOneShotAllReduce, HiddenReturn: true,
		CommArg: 3, CommIsName: true, SizeArg: 1, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
	{
		// one_shot_all_reduce_copy(symm_buffer, local_input, reduce_op,
		// group_name) and _out(..., out): the kernel reduces the buffer.
		Name: "torch-symm-mem-one-shot-all-reduce-copy", Framework: "torch",
		Library: libtorchCUDA, Contains: "one_shot_all_reduce_copy",
		Demangled: symmOp(`one_shot_all_reduce_copy|one_shot_all_reduce_copy_out`, `T, T, S, S(, T)?`),
		Kind:      trace.SymmMemOneShotAllReduce, HiddenReturn: true,
		CommArg: 4, CommIsName: true, SizeArg: 1, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
	{
		// two_shot_all_reduce_(input, reduce_op, group_name) and
		// _out(..., output).
		Name: "torch-symm-mem-two-shot-all-reduce", Framework: "torch",
		Library: libtorchCUDA, Contains: "two_shot_all_reduce",
		Demangled: symmOp(`two_shot_all_reduce_|two_shot_all_reduce_out`, `T, S, S(, T)?`),
		Kind:      trace.SymmMemTwoShotAllReduce, HiddenReturn: true,
		CommArg: 3, CommIsName: true, SizeArg: 1, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
	{
		// multimem_all_reduce_(input, reduce_op, group_name) (multicast):
		// the two-shot shape, a reduce-scatter then an all-gather.
		Name: "torch-symm-mem-multimem-all-reduce", Framework: "torch",
		Library: libtorchCUDA, Contains: "multimem_all_reduce_",
		Demangled: symmOp(`multimem_all_reduce_`, `T, S, S`),
		Kind:      trace.SymmMemTwoShotAllReduce, HiddenReturn: true,
		CommArg: 3, CommIsName: true, SizeArg: 1, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
	{
		// reduce_scatter_out(input, group_name, split_last_dim, output)
		Name: "torch-symm-mem-reduce-scatter", Framework: "torch",
		Library: libtorchCUDA, Contains: "reduce_scatter_out",
		Demangled: symmOp(`reduce_scatter_out`, `T, S, B, T`),
		Kind:      trace.SymmMemReduceScatter, HiddenReturn: true,
		CommArg: 2, CommIsName: true, SizeArg: 4, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
	{
		// multimem_all_gather_out(input, group_name, out) (multicast)
		Name: "torch-symm-mem-all-gather", Framework: "torch",
		Library: libtorchCUDA, Contains: "multimem_all_gather_out",
		Demangled: symmOp(`multimem_all_gather_out`, `T, S, T`),
		Kind:      trace.SymmMemAllGather, HiddenReturn: true,
		CommArg: 2, CommIsName: true, SizeArg: 1, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
}
