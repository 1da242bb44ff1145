package fakenccl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/linkprof/linkprof/profiler/extra"
)

// GraphPrograms are the fakes for CUDA graph and custom all-reduce tests.
type GraphPrograms struct {
	Cuda   string // libcuda.so.1: the driver API graph functions
	Cudart string // libcudart.so.13: the runtime ones, each calling the driver's
	VLLM   string // vllm/_C.abi3.so: all_reduce(long, at::Tensor&, at::Tensor&, long, long)
	SGLang string // sgl_kernel/common_ops.abi3.so: the same with num_ctas
	Driver string // graph-driver, linked against all of them and libnccl.so.2
}

// BuildGraphs compiles the graph fakes into p.Dir, beside the NCCL ones
// (Build first). The custom all-reduce libraries are C++: they need $CXX
// (else g++), which Build alone does not.
func BuildGraphs(p *Programs) (*GraphPrograms, error) {
	dir, src := p.Dir, filepath.Join(p.Dir, "src")
	g := &GraphPrograms{
		Cuda:   filepath.Join(dir, "libcuda.so.1"),
		Cudart: filepath.Join(dir, "libcudart.so.13"),
		VLLM:   filepath.Join(dir, "vllm", "_C.abi3.so"),
		SGLang: filepath.Join(dir, "sgl_kernel", "common_ops.abi3.so"),
		Driver: filepath.Join(dir, "graph-driver"),
	}
	for _, d := range []string{filepath.Dir(g.VLLM), filepath.Dir(g.SGLang)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	offset := "-DNUMEL_OFFSET=" + strconv.Itoa(extra.TorchNumelOffset)
	cxx := [][]string{
		{"-O2", "-g", "-fPIC", "-shared", offset, "-o", g.VLLM, filepath.Join(src, "customar.cpp")},
		{"-O2", "-g", "-fPIC", "-shared", offset, "-DSGLANG", "-o", g.SGLang, filepath.Join(src, "customar.cpp")},
	}
	for _, args := range cxx {
		if err := compileWith("CXX", "g++", args); err != nil {
			return nil, err
		}
	}
	cc := [][]string{
		{"-O2", "-g", "-fPIC", "-shared", "-Wl,-soname,libcuda.so.1", "-o", g.Cuda, filepath.Join(src, "fakecuda.c")},
		{"-O2", "-g", "-fPIC", "-shared", "-Wl,-soname,libcudart.so.13", "-o", g.Cudart,
			filepath.Join(src, "fakecudart.c"), "-L", dir, "-l:libcuda.so.1", "-Wl,-rpath," + dir},
		{"-O2", "-g", "-DLINKED", offset, "-I", src, "-o", g.Driver, filepath.Join(src, "graphdriver.c"),
			"-L", dir, "-l:libnccl.so.2", "-l:libcudart.so.13", "-l:libcuda.so.1",
			"-L", filepath.Dir(g.VLLM), "-l:_C.abi3.so", "-L", filepath.Dir(g.SGLang), "-l:common_ops.abi3.so",
			"-Wl,-rpath," + dir + ":" + filepath.Dir(g.VLLM) + ":" + filepath.Dir(g.SGLang)},
	}
	for _, args := range cc {
		if err := compile(args); err != nil {
			return nil, err
		}
	}
	return g, nil
}
