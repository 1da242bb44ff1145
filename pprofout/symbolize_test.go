package pprofout

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildFrames compiles testdata/frames.cc into a shared library.
func buildFrames(t *testing.T) string {
	t.Helper()
	so := filepath.Join(t.TempDir(), "libframes.so")
	out, err := exec.Command("g++", "-O0", "-shared", "-fPIC", "-o", so, "testdata/frames.cc").CombinedOutput()
	if err != nil {
		t.Fatalf("building the test library (needs g++): %v\n%s", err, out)
	}
	return so
}

// fileOffset is where symbol name's code lies in the file.
func fileOffset(t *testing.T, path, name string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name != name {
			continue
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && s.Value >= p.Vaddr && s.Value < p.Vaddr+p.Filesz {
				return s.Value - p.Vaddr + p.Off
			}
		}
	}
	t.Fatalf("%s not in %s", name, path)
	return 0
}

func TestSymbolizeSharedLibrary(t *testing.T) {
	so := buildFrames(t)
	stripped := filepath.Join(filepath.Dir(so), "libstripped.so")
	if out, err := exec.Command("strip", "-o", stripped, so).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	want := map[string]string{
		"_ZN8linkprof5serve5layerEi":       "linkprof::serve::layer",
		"_ZN8linkprof5serve6Engine4stepEi": "linkprof::serve::Engine::step",
	}
	for _, path := range []string{so, stripped} {
		s := NewSymbolizer("")
		for mangled, name := range want {
			off := fileOffset(t, path, mangled)
			if got, ok := s.Func(path, off+4); !ok || got != name {
				t.Errorf("%s: Func(%s+4) = %q, %v; want %q", filepath.Base(path), mangled, got, ok, name)
			}
		}
		if got, ok := s.Func(path, 0x10); ok {
			t.Errorf("%s: offset 0x10 (ELF header) resolved to %q", filepath.Base(path), got)
		}
	}
	if _, ok := NewSymbolizer("").Func("/nonexistent/lib.so", 0x1000); ok {
		t.Error("a missing file resolved")
	}
}

func TestSymbolizerRoot(t *testing.T) {
	so := buildFrames(t)
	s := NewSymbolizer(filepath.Dir(so))
	off := fileOffset(t, so, "_ZN8linkprof5serve5layerEi")
	if got, ok := s.Func("/"+filepath.Base(so), off); !ok || got != "linkprof::serve::layer" {
		t.Errorf("under root: %q, %v", got, ok)
	}
}
