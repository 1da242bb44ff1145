package profiler

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/linkprof/linkprof/profiler/extra"
)

// The fake libtorch_cuda.so's operators are local symbols: the dynamic
// table has none of them (only a same-named decoy), so the static table is
// read, and each operator is found once at its address, never a .cold
// clone, a helper or the decoy.
func TestExtraSpecsFindLocalOperators(t *testing.T) {
	lib := buildSymmProgs(t).Torch
	specs, addrs, err := extraSpecs(lib, extra.ForLibrary(extra.Table, lib))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	static, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	for _, s := range static {
		if elf.ST_BIND(s.Info) == elf.STB_LOCAL && elf.ST_TYPE(s.Info) == elf.STT_FUNC && isOperator(s.Name) {
			want[s.Name] = s.Value
		}
	}
	if len(want) != 10 || len(specs) != 10 {
		t.Fatalf("%d operators in the library, %d probes, want 10 each", len(want), len(specs))
	}
	for name, addr := range want {
		if addrs[name] != addr {
			t.Errorf("%s at %#x, found at %#x", name, addr, addrs[name])
		}
	}
}

// isOperator is the probed set written out: the entry points, by their
// mangled names as g++ makes them.
func isOperator(name string) bool {
	return slices.Contains([]string{
		"_ZN12_GLOBAL__N_119one_shot_all_reduceERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_",
		"_ZN12_GLOBAL__N_123one_shot_all_reduce_outERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_S1_",
		"_ZN12_GLOBAL__N_124one_shot_all_reduce_copyERKN2at6TensorES3_NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_",
		"_ZN12_GLOBAL__N_128one_shot_all_reduce_copy_outERKN2at6TensorES3_NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_S1_",
		"_ZN12_GLOBAL__N_120two_shot_all_reduce_EN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES7_",
		"_ZN12_GLOBAL__N_123two_shot_all_reduce_outEN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES7_S1_",
		"_ZN12_GLOBAL__N_118reduce_scatter_outEN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEbS1_",
		"_ZN12_GLOBAL__N_120multimem_all_reduce_ERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_",
		"_ZN12_GLOBAL__N_132multimem_one_shot_all_reduce_outERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES9_S1_",
		"_ZN12_GLOBAL__N_123multimem_all_gather_outERKN2at6TensorENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES1_",
	}, name)
}

// A library whose static string table claims more bytes than the file
// holds (a damaged copy) has nothing to probe there: no error, no probe,
// and InspectELF still reads it.
func TestExtraSpecsOnDamagedSymbolTable(t *testing.T) {
	lib := buildSymmProgs(t).Torch
	data, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(lib)
	if err != nil {
		t.Fatal(err)
	}
	index := slices.IndexFunc(f.Sections, func(s *elf.Section) bool { return s.Name == ".strtab" })
	f.Close()
	if index < 0 {
		t.Fatal("the fake library has no .strtab")
	}
	shoff := binary.LittleEndian.Uint64(data[0x28:]) // e_shoff of an ELF64 header
	size := shoff + uint64(index)*64 + 32            // sh_size of its Elf64_Shdr
	binary.LittleEndian.PutUint64(data[size:], 1<<40)
	damaged := filepath.Join(t.TempDir(), "torch", "lib", "libtorch_cuda.so")
	if err := os.MkdirAll(filepath.Dir(damaged), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(damaged, data, 0o644); err != nil {
		t.Fatal(err)
	}
	specs, _, err := extraSpecs(damaged, extra.ForLibrary(extra.Table, damaged))
	if err != nil || len(specs) != 0 {
		t.Errorf("damaged string table: %d probes, %v; want none and no error", len(specs), err)
	}
	info, err := InspectELF(damaged, map[string]bool{"fake_symm_mem_op": true})
	if err != nil || !info.Has("fake_symm_mem_op") {
		t.Errorf("InspectELF on the damaged library: %v; its dynamic symbols should still be found", err)
	}
}
