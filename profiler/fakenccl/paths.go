package fakenccl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/linkprof/linkprof/profiler/extra"
)

// PathPrograms are the fakes of the collective libraries in
// profiler/extra/libraries.go, at paths like those the real ones have.
type PathPrograms struct {
	TrtllmComm, MNNVLComm, VLLMComm string // FlashInfer modules (TVM-FFI exports)
	DeepEPV1, DeepEPV2              string // deep_ep_cpp*.so, deep_ep/_C*.so
	Pplx                            string // pplx_kernels/libpplx_kernels.so
	NVSHMEM                         string // libnvshmem_host.so.3
	Driver                          string // paths-driver, linked against all of them
}

// BuildPaths compiles the library-path fakes into p.Dir/paths (Build
// first: it writes the sources). They need $CC and $CXX (else cc, g++).
func BuildPaths(p *Programs) (*PathPrograms, error) {
	dir, src := filepath.Join(p.Dir, "paths"), filepath.Join(p.Dir, "src")
	ops := filepath.Join(dir, "flashinfer", "cached_ops")
	g := &PathPrograms{
		TrtllmComm: filepath.Join(ops, "trtllm_comm", "trtllm_comm.so"),
		MNNVLComm:  filepath.Join(ops, "trtllm_mnnvl_comm", "trtllm_mnnvl_comm.so"),
		VLLMComm:   filepath.Join(ops, "vllm_comm", "vllm_comm.so"),
		DeepEPV1:   filepath.Join(dir, "deep_ep_cpp.cpython-312-x86_64-linux-gnu.so"),
		DeepEPV2:   filepath.Join(dir, "deep_ep", "_C.cpython-312-x86_64-linux-gnu.so"),
		Pplx:       filepath.Join(dir, "pplx_kernels", "libpplx_kernels.so"),
		NVSHMEM:    filepath.Join(dir, "nvidia", "nvshmem", "lib", "libnvshmem_host.so.3"),
		Driver:     filepath.Join(dir, "paths-driver"),
	}
	libs := []string{g.TrtllmComm, g.MNNVLComm, g.VLLMComm, g.DeepEPV1, g.DeepEPV2, g.Pplx, g.NVSHMEM}
	for _, l := range libs {
		if err := os.MkdirAll(filepath.Dir(l), 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", filepath.Dir(l), err)
		}
	}
	shared := func(out string, flags ...string) []string {
		return append([]string{"-O2", "-g", "-fPIC", "-shared", "-Wl,-soname," + filepath.Base(out), "-o", out}, flags...)
	}
	flashinfer := filepath.Join(src, "fakeflashinfer.c")
	for _, args := range [][]string{
		shared(g.TrtllmComm, "-DTRTLLM_COMM", flashinfer),
		shared(g.MNNVLComm, "-DMNNVL_COMM", flashinfer),
		shared(g.VLLMComm, "-DVLLM_COMM", flashinfer),
		shared(g.NVSHMEM, filepath.Join(src, "fakenvshmem.c")),
	} {
		if err := compile(args); err != nil {
			return nil, err
		}
	}
	offset := "-DNUMEL_OFFSET=" + strconv.Itoa(extra.TorchNumelOffset)
	driver := []string{"-O2", "-g", offset, "-I", src, "-o", g.Driver, filepath.Join(src, "pathsdriver.cpp")}
	for _, l := range libs {
		driver = append(driver, "-L", filepath.Dir(l), "-l:"+filepath.Base(l), "-Wl,-rpath,"+filepath.Dir(l))
	}
	for _, args := range [][]string{
		shared(g.DeepEPV1, offset, filepath.Join(src, "fakedeepep.cpp")),
		shared(g.DeepEPV2, offset, "-DDEEPEP_V2", filepath.Join(src, "fakedeepep.cpp")),
		shared(g.Pplx, offset, filepath.Join(src, "fakepplx.cpp")),
		driver,
	} {
		if err := compileWith("CXX", "g++", args); err != nil {
			return nil, err
		}
	}
	return g, nil
}
