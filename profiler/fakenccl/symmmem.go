package fakenccl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/linkprof/linkprof/profiler/extra"
)

// SymmPrograms are the fakes for torch symmetric memory tests.
type SymmPrograms struct {
	Torch  string // torch/lib/libtorch_cuda.so: the operators as local symbols
	Driver string // symm-driver, linked against it and the fake CUDA runtime
}

// BuildSymmMem compiles the symmetric memory fakes into p.Dir, beside the
// graph fakes (BuildGraphs first: the driver captures through the fake
// runtime). C++: it needs $CXX, else g++.
func BuildSymmMem(p *Programs, g *GraphPrograms) (*SymmPrograms, error) {
	dir, src := p.Dir, filepath.Join(p.Dir, "src")
	s := &SymmPrograms{
		Torch:  filepath.Join(dir, "torch", "lib", "libtorch_cuda.so"),
		Driver: filepath.Join(dir, "symm-driver"),
	}
	lib := filepath.Dir(s.Torch)
	if err := os.MkdirAll(lib, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", lib, err)
	}
	offset := "-DNUMEL_OFFSET=" + strconv.Itoa(extra.TorchNumelOffset)
	steps := [][]string{
		{"-O2", "-g", "-fPIC", "-shared", "-std=c++17", offset, "-o", s.Torch, filepath.Join(src, "symmmem.cpp")},
		{"-O2", "-g", "-std=c++17", offset, "-I", src, "-o", s.Driver, filepath.Join(src, "symmdriver.cpp"),
			"-L", lib, "-l:libtorch_cuda.so", "-L", dir, "-l:" + filepath.Base(g.Cudart),
			"-Wl,-rpath," + lib + ":" + dir},
	}
	for _, args := range steps {
		if err := compileWith("CXX", "g++", args); err != nil {
			return nil, err
		}
	}
	return s, nil
}
