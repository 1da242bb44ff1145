package pprofout

import (
	"debug/elf"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/trace"
)

// symtab is one ELF file's function symbols, sorted by address, and the
// loadable segments that map file offsets to those addresses.
type symtab struct {
	syms  []elf.Symbol
	loads []elf.ProgHeader
	err   error
}

// Symbolizer resolves user addresses through a process's mappings and the
// mapped files' ELF symbol tables (.symtab, else .dynsym), read once per
// file. Files missing on this machine resolve to "file+0xoffset".
type Symbolizer struct {
	// Root is prepended to mapping paths (e.g. a copy of the target's root).
	Root  string
	files map[string]*symtab
}

// NewSymbolizer makes a symbolizer reading files under root ("" for /).
func NewSymbolizer(root string) *Symbolizer {
	return &Symbolizer{Root: root, files: map[string]*symtab{}}
}

func (s *Symbolizer) table(path string) *symtab {
	if t, ok := s.files[path]; ok {
		return t
	}
	t := &symtab{}
	s.files[path] = t
	f, err := elf.Open(filepath.Join(s.Root, path))
	if err != nil {
		t.err = err
		return t
	}
	defer f.Close()
	syms, err := f.Symbols()
	if errors.Is(err, elf.ErrNoSymbols) || len(syms) == 0 {
		syms, err = f.DynamicSymbols()
	}
	if err != nil {
		t.err = fmt.Errorf("reading symbols of %s: %w", path, err)
		return t
	}
	for _, sym := range syms {
		if elf.ST_TYPE(sym.Info) == elf.STT_FUNC && sym.Value != 0 {
			t.syms = append(t.syms, sym)
		}
	}
	sort.Slice(t.syms, func(i, j int) bool { return t.syms[i].Value < t.syms[j].Value })
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			t.loads = append(t.loads, p.ProgHeader)
		}
	}
	return t
}

// Func names the function at a file offset of path, demangled; ok is
// false when the file or a covering symbol is missing.
func (s *Symbolizer) Func(path string, fileOff uint64) (string, bool) {
	t := s.table(path)
	if t.err != nil || len(t.syms) == 0 {
		return "", false
	}
	addr := fileOff
	for _, p := range t.loads {
		if fileOff >= p.Off && fileOff < p.Off+p.Filesz {
			addr = fileOff - p.Off + p.Vaddr
			break
		}
	}
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Value > addr }) - 1
	if i < 0 {
		return "", false
	}
	sym := t.syms[i]
	if sym.Size > 0 && addr >= sym.Value+sym.Size {
		return "", false
	}
	return demangle.Filter(sym.Name, demangle.NoParams), true
}

// findMapping returns the mapping holding addr; later snapshots win, as
// libraries loaded later may reuse addresses.
func findMapping(maps []trace.Mapping, addr uint64) (trace.Mapping, bool) {
	for i := len(maps) - 1; i >= 0; i-- {
		if addr >= maps[i].Start && addr < maps[i].End {
			return maps[i], true
		}
	}
	return trace.Mapping{}, false
}

// fallbackName names an address without a symbol by file and offset.
func fallbackName(path string, off uint64) string {
	return fmt.Sprintf("%s+%#x", filepath.Base(strings.TrimSpace(path)), off)
}
