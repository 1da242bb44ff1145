// Package fakenccl builds the fake NCCL libraries and the C programs that
// call them: the test driver and the demo workload. The C sources are
// embedded, so `linkprof demo` needs only a C compiler, not this tree.
package fakenccl

import (
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed csrc
var sources embed.FS

// Programs are the built files.
type Programs struct {
	Dir          string
	Lib          string // libnccl.so.2: NCCL as its own library
	Embedded     string // libfaketorch.so: NCCL linked into another library
	Driver       string // driver linked against libnccl.so.2 (DT_NEEDED)
	DriverDL     string // driver that dlopens $DRIVER_NCCL
	DriverStatic string // driver linked against libfaketorch.so
	Demo         string // the demo workload, which dlopens libnccl.so.2
	Ranks        string // N ranks of one communicator, one of them late or stopped
	Job          string // one host's ranks of a job several hosts (recorders) share
}

// Build compiles everything into dir.
func Build(dir string) (*Programs, error) {
	src := filepath.Join(dir, "src")
	if err := writeSources(src); err != nil {
		return nil, err
	}
	p := &Programs{
		Dir:          dir,
		Lib:          filepath.Join(dir, "libnccl.so.2"),
		Embedded:     filepath.Join(dir, "libfaketorch.so"),
		Driver:       filepath.Join(dir, "driver"),
		DriverDL:     filepath.Join(dir, "driver-dl"),
		DriverStatic: filepath.Join(dir, "driver-static"),
		Demo:         filepath.Join(dir, "demo"),
		Ranks:        filepath.Join(dir, "ranks"),
		Job:          filepath.Join(dir, "job"),
	}
	lib := filepath.Join(src, "fakenccl.c")
	steps := [][]string{
		{"-O2", "-g", "-fPIC", "-shared", "-Wl,-soname,libnccl.so.2", "-o", p.Lib, lib},
		{"-O2", "-g", "-fPIC", "-shared", "-Wl,-soname,libfaketorch.so", "-o", p.Embedded, lib},
		{"-O2", "-g", "-DLINKED", "-I", src, "-o", p.Driver, filepath.Join(src, "driver.c"),
			"-L", dir, "-l:libnccl.so.2", "-Wl,-rpath," + dir},
		{"-O2", "-g", "-I", src, "-o", p.DriverDL, filepath.Join(src, "driver.c"), "-ldl"},
		{"-O2", "-g", "-DLINKED", "-I", src, "-o", p.DriverStatic, filepath.Join(src, "driver.c"),
			"-L", dir, "-l:libfaketorch.so", "-Wl,-rpath," + dir},
		{"-O2", "-g", "-I", src, "-o", p.Demo, filepath.Join(src, "demo.c"), "-ldl", "-lm"},
		{"-O2", "-g", "-DLINKED", "-pthread", "-I", src, "-o", p.Ranks, filepath.Join(src, "ranks.c"),
			"-L", dir, "-l:libnccl.so.2", "-Wl,-rpath," + dir},
		{"-O2", "-g", "-DLINKED", "-I", src, "-o", p.Job, filepath.Join(src, "job.c"),
			"-L", dir, "-l:libnccl.so.2", "-Wl,-rpath," + dir},
	}
	for _, args := range steps {
		if err := compile(args); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func writeSources(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating build folder: %w", err)
	}
	entries, err := sources.ReadDir("csrc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := sources.ReadFile("csrc/" + e.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", e.Name(), err)
		}
	}
	return nil
}

// compile runs the C compiler ($CC, else cc).
func compile(args []string) error { return compileWith("CC", "cc", args) }

// compileWith runs the compiler named by env, else def.
func compileWith(env, def string, args []string) error {
	cc := os.Getenv(env)
	if cc == "" {
		cc = def
	}
	out, err := exec.Command(cc, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("compiling demo programs with %s (is a C compiler installed?): %v: %s", cc, err, firstLine(out))
	}
	return nil
}

func firstLine(b []byte) string {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i])
		}
	}
	return string(b)
}
