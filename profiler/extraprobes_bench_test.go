package profiler

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/link"
	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/profiler/extra"
)

// bigLibSymbols is the size of the synthetic libtorch_cuda.so's .symtab:
// torch's is of this order (hundreds of thousands of local and global
// functions with long mangled names).
const bigLibSymbols = 300_000

// buildBigLib assembles a shared library whose static table holds
// bigLibSymbols local functions with torch-like mangled names (one in a
// thousand contains "all_reduce" without being an operator), the symmetric
// memory operators among them, and a small dynamic table.
func buildBigLib(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	src := filepath.Join(dir, "big.s")
	lib := filepath.Join(dir, "torch", "lib", "libtorch_cuda.so")
	if err := writeBigAsm(src); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(lib), 0o755); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("cc", "-shared", "-nostdlib", "-o", lib, src).CombinedOutput(); err != nil {
		b.Fatalf("assembling: %v: %s", err, out)
	}
	return lib
}

func writeBigAsm(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, ".text")
	fn := func(name string, global bool) {
		if global {
			fmt.Fprintf(w, ".globl %s\n", name)
		}
		fmt.Fprintf(w, ".type %s,@function\n%s:\nret\n", name, name)
	}
	str := "NSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE"
	for i := range bigLibSymbols {
		id := fmt.Sprintf("kernel_launcher_%d_for_dtype_and_layout", i)
		if i%1000 == 0 {
			id = fmt.Sprintf("all_reduce_coalesced_%d", i)
		}
		fn(fmt.Sprintf("_ZN2at6native12_GLOBAL__N_1%d%sERKNS_6TensorES4_%sb", len(id), id, str), i%20 == 0)
	}
	// libtorch_cuda.so imports NCCL: its name in .dynstr makes classify
	// look for NCCL linked in, in the static table too.
	fmt.Fprintln(w, ".globl call_nccl\n.type call_nccl,@function\ncall_nccl:\ncall ncclAllReduce@PLT\nret")
	for _, op := range []string{"one_shot_all_reduce", "two_shot_all_reduce_", "multimem_all_reduce_"} {
		fn(fmt.Sprintf("_ZN12_GLOBAL__N_1%d%sERKN2at6TensorE%sS9_", len(op), op, str), false)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// Attach-time cost of finding torch's symmetric memory operators in a
// library with a big static table: classify (all linkprof does before
// attaching: the marker look in the string tables, NCCL's symbols looked
// for in both tables, the extra table's scan), extraSpecs alone (the table
// scanned in place, names made only for candidates), the same scan with
// elf.File.Symbols (a string and a Symbol per name), and cilium/ebpf's own
// symbol load, which attaching by name would pay once more per library
// (probes are attached by file offset: LibraryInfo.FileOffset).
//
//	go test -run ^$ -bench ExtraSymtab -benchmem ./profiler/
func BenchmarkExtraSymtabScan(b *testing.B) {
	path := buildBigLib(b)
	entries := extra.ForLibrary(extra.Table, path)
	b.Run("classify", func(b *testing.B) {
		for b.Loop() {
			c, err := classify(path, path, extra.Table)
			if err != nil || len(c.specs) != 3 || c.roleName() != roleNameExtra {
				b.Fatalf("%s with %d probes, %v", c.roleName(), len(c.specs), err)
			}
		}
	})
	b.Run("extraSpecs", func(b *testing.B) {
		for b.Loop() {
			specs, _, err := extraSpecs(path, entries)
			if err != nil || len(specs) != 3 {
				b.Fatalf("%d probes, %v", len(specs), err)
			}
		}
	})
	b.Run("elf.Symbols", func(b *testing.B) {
		for b.Loop() {
			if n := stdlibMatch(b, path, entries); n != 3 {
				b.Fatalf("%d probes", n)
			}
		}
	})
	b.Run("cilium-load", func(b *testing.B) {
		for b.Loop() {
			ex, err := link.OpenExecutable(path)
			if err != nil {
				b.Fatal(err)
			}
			ex.Symbol(0) // loads every symbol: what attaching by name does first
		}
	})
}

// stdlibMatch is extraSpecs' static pass the plain way.
func stdlibMatch(b *testing.B, path string, entries []extra.Probe) int {
	f, err := elf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, s := range syms {
		for _, e := range entries {
			if strings.Contains(s.Name, e.Contains) && e.Demangled.MatchString(demangle.Filter(s.Name)) {
				n++
				break
			}
		}
	}
	return n
}
