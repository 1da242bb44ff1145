package profiler

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// scanFuncSymbols calls visit for each defined function symbol of the
// table of type typ (SHT_DYNSYM or SHT_SYMTAB) whose raw name passes keep.
// Unlike elf.File.Symbols it makes no string and no Symbol for the names
// keep rejects: libtorch_cuda.so's .symtab holds hundreds of thousands of
// names, of which a handful are wanted (BenchmarkExtraSymtabScan). The
// name keep sees is only valid during the call. A file without the table
// is no error; fileSize bounds what a section may claim.
func scanFuncSymbols(f *elf.File, fileSize int64, typ elf.SectionType, keep func(name []byte) bool, visit func(name string, value uint64)) error {
	sec := f.SectionByType(typ)
	if sec == nil {
		return nil
	}
	if sec.Link == 0 || int(sec.Link) >= len(f.Sections) {
		return errors.New("symbol table names no string table")
	}
	syms, err := sectionBytes(sec, fileSize)
	if err != nil {
		return err
	}
	strs, err := sectionBytes(f.Sections[sec.Link], fileSize)
	if err != nil {
		return err
	}
	read := symReader(f)
	if read == nil {
		return fmt.Errorf("unsupported ELF class %v", f.Class)
	}
	for off := read.size; off+read.size <= len(syms); off += read.size { // entry 0 is the null symbol
		nameOff, info, shndx, value := read.entry(f.ByteOrder, syms[off:off+read.size])
		if elf.ST_TYPE(info) != elf.STT_FUNC || elf.SectionIndex(shndx) == elf.SHN_UNDEF || value == 0 ||
			int(nameOff) >= len(strs) {
			continue
		}
		name := strs[nameOff:]
		if end := bytes.IndexByte(name, 0); end >= 0 {
			name = name[:end]
		}
		if keep(name) {
			visit(string(name), value)
		}
	}
	return nil
}

// symLayout reads one symbol table entry of an ELF class.
type symLayout struct {
	size  int
	entry func(bo binary.ByteOrder, b []byte) (name uint32, info uint8, shndx uint16, value uint64)
}

func symReader(f *elf.File) *symLayout {
	switch f.Class {
	case elf.ELFCLASS64: // Elf64_Sym: name u32, info u8, other u8, shndx u16, value u64, size u64
		return &symLayout{size: 24, entry: func(bo binary.ByteOrder, b []byte) (uint32, uint8, uint16, uint64) {
			return bo.Uint32(b[0:]), b[4], bo.Uint16(b[6:]), bo.Uint64(b[8:])
		}}
	case elf.ELFCLASS32: // Elf32_Sym: name u32, value u32, size u32, info u8, other u8, shndx u16
		return &symLayout{size: 16, entry: func(bo binary.ByteOrder, b []byte) (uint32, uint8, uint16, uint64) {
			return bo.Uint32(b[0:]), b[12], bo.Uint16(b[14:]), uint64(bo.Uint32(b[4:]))
		}}
	}
	return nil
}

// sectionBytes reads a section into one buffer of its size (Section.Data
// grows its buffer in steps, allocating twice a big .strtab's size), after
// checking that size against the file's.
func sectionBytes(sec *elf.Section, fileSize int64) ([]byte, error) {
	if sec.Flags&elf.SHF_COMPRESSED != 0 {
		return sec.Data()
	}
	if sec.Type == elf.SHT_NOBITS || sec.Size > uint64(fileSize) {
		return nil, fmt.Errorf("section %s claims %d bytes of a %d-byte file", sec.Name, sec.Size, fileSize)
	}
	buf := make([]byte, sec.Size)
	if n, err := sec.ReadAt(buf, 0); n < len(buf) {
		return nil, fmt.Errorf("reading %s: %w", sec.Name, err)
	}
	return buf, nil
}
