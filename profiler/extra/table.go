// Package extra is the data-driven table of collectives that do not go
// through NCCL (vLLM's and SGLang's custom all-reduce, torch symmetric
// memory in symmmem.go; FlashInfer, DeepEP, pplx-kernels and NVSHMEM in
// libraries.go), which linkprof probes by demangled symbol name.
// docs/paths.md lists them.
package extra

import (
	"regexp"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// SizeMode says how a probe reads the collective's size.
type SizeMode int

// Values equal enum lp_size_mode in bpf/event.h.
const (
	SizeNone      SizeMode = iota // not readable: count 0, dtype -1
	SizeBytes                     // the argument is a byte count
	SizeTensor                    // the argument is an at::Tensor&: numel and dtype from its TensorImpl
	SizeTyped                     // an element count; the dtype is fixed by the function's name (DTypes)
	SizeFFITensor                 // a TVM-FFI packed call's args array: the tensor at FFIArg
)

// Probe is one table entry: which functions in which libraries are a
// collective, and how to read their arguments.
type Probe struct {
	Name      string
	Framework string         // vllm, sglang
	Library   *regexp.Regexp // matched against the path the process maps
	// Contains is a substring of the mangled name, a cheap filter applied
	// before demangling every symbol of a large library.
	Contains  string
	Demangled *regexp.Regexp // matched against the demangled name
	Kind      trace.Kind
	// CommArg is the 1-based argument that identifies the group (the
	// custom all-reduce object), stored as the event's comm; 0 none.
	CommArg int
	// CommIsName says CommArg is a std::string group name (by reference or
	// by value, which is by invisible reference): the comm is its FNV-1a
	// hash, the same in every process of the group (trace.FlagCommName).
	CommIsName bool
	// SizeArg is the 1-based argument holding the size; 0 none.
	SizeArg  int
	SizeMode SizeMode
	// PeerArg (a broadcast's root) and StreamArg (the cudaStream_t) are
	// 1-based arguments; 0 none.
	PeerArg, StreamArg int
	// HiddenReturn says the function returns a class by value in memory:
	// on x86-64 its address is a hidden first argument (the System V ABI),
	// so every argument above sits one further (on arm64 it is in x8 and
	// nothing moves). Argument numbers here are the C++ ones, `this` 1.
	HiddenReturn bool
	// DTypes (SizeTyped) maps the text Demangled captures in its group
	// named "type" to the element's ncclDataType_t; a name with no entry is
	// not probed.
	DTypes map[string]trace.DataType
	// FFIArg (SizeFFITensor) is the 0-based index in the packed arguments
	// of the tensor that gives the size.
	FFIArg uint8
	// TensorNumelOffset is the byte offset of numel_ in c10::TensorImpl
	// (SizeTensor), a multiple of 8 below 2048 (the attach cookie's room);
	// the dtype's uint16 follows it. Torch-version specific:
	// scripts/gpu_graphs.py prints the offset of the torch it runs.
	TensorNumelOffset uint16
}

// TorchNumelOffset is numel_'s offset in c10::TensorImpl for torch 2.x on
// 64-bit Linux as read from c10/core/TensorImpl.h (vtable + refcounts 16,
// storage 8, autograd_meta 8, extra_meta 8, version_counter 8, pyobj_slot
// 16, sizes_and_strides 88, storage_offset 8). Not yet measured on a GPU
// box: scripts/gpu_graphs.py prints the real one.
const TorchNumelOffset = 160

// customAllReduce matches the custom all-reduce entry points vLLM
// (csrc/custom_all_reduce.cu) and SGLang's sgl_kernel (csrc/allreduce) export:
// all_reduce(fptr_t fa, Tensor& inp, Tensor& out, fptr_t reg_buffer,
// int64 reg_buffer_sz_bytes[, int64 num_ctas]) and the ROCm
// all_reduce_reg/all_reduce_unreg. reg_buffer_sz_bytes is the staging
// buffer's size, not the message's: the size comes from inp.
var customAllReduce = regexp.MustCompile(`^all_reduce(_reg|_unreg)?\(long, at::Tensor( const)?&, `)

// Table is the shipped list of extra probes.
var Table = slices.Concat(customAllReduces, symmMem, libraryProbes)

// customAllReduces are vLLM's and SGLang's custom all-reduce.
var customAllReduces = []Probe{
	{
		Name: "vllm-custom-all-reduce", Framework: "vllm",
		Library:  regexp.MustCompile(`/vllm/_C[^/]*\.so[^/]*$`),
		Contains: "all_reduce", Demangled: customAllReduce, Kind: trace.CustomAllReduce,
		CommArg: 1, SizeArg: 2, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
	{
		Name: "sglang-custom-all-reduce", Framework: "sglang",
		Library:  regexp.MustCompile(`/sgl_kernel/(.*/)?[^/]*\.so[^/]*$`),
		Contains: "all_reduce", Demangled: customAllReduce, Kind: trace.CustomAllReduce,
		CommArg: 1, SizeArg: 2, SizeMode: SizeTensor, TensorNumelOffset: TorchNumelOffset,
	},
}

// Match reports whether demangled is one of the entry's functions, and
// the element dtype its name fixes (SizeTyped; -1 otherwise).
func (p Probe) Match(demangled string) (trace.DataType, bool) {
	if p.SizeMode != SizeTyped {
		return -1, p.Demangled.MatchString(demangled)
	}
	m := p.Demangled.FindStringSubmatch(demangled)
	i := p.Demangled.SubexpIndex("type")
	if m == nil || i < 0 {
		return -1, false
	}
	dt, ok := p.DTypes[m[i]]
	return dt, ok
}

// ForLibrary returns the entries whose library pattern matches path.
func ForLibrary(table []Probe, path string) []Probe {
	var out []Probe
	for _, p := range table {
		if p.Library.MatchString(path) {
			out = append(out, p)
		}
	}
	return out
}
