package profiler

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
)

// ErrNotELF is returned for mapped files that are not ELF objects.
var ErrNotELF = errors.New("not an ELF file")

// LibraryInfo is what linkprof learns from a mapped ELF file.
type LibraryInfo struct {
	Symbols map[string]uint64 // the symbols asked for that the file defines
	BuildID string
	Version string           // NCCL version string, when found
	text    []elf.ProgHeader // executable PT_LOAD segments (FileOffset)
}

// Has reports whether the file defines sym.
func (l *LibraryInfo) Has(sym string) bool { _, ok := l.Symbols[sym]; return ok }

// FileOffset is where the code at virtual address va lies in the file: the
// offset a uprobe is placed at. Probes are attached by offset, so the probe
// library never reads the file's symbols again (all of libtorch_cuda.so's,
// BenchmarkExtraSymtabScan) and a local name defined twice is no question.
func (l *LibraryInfo) FileOffset(va uint64) (uint64, bool) {
	for _, p := range l.text {
		if p.Vaddr <= va && va < p.Vaddr+p.Memsz && va-p.Vaddr < p.Filesz {
			return va - p.Vaddr + p.Off, true
		}
	}
	return 0, false
}

// InspectELF reads which of the wanted symbols an ELF file defines (dynamic
// symbols first; the static table too, for NCCL linked into another
// library), and its build id.
func InspectELF(path string, wanted map[string]bool) (*LibraryInfo, error) {
	f, size, closeFile, err := openELF(path)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	info := &LibraryInfo{Symbols: map[string]uint64{}}
	keep := func(name []byte) bool { return wanted[string(name)] }
	add := func(name string, value uint64) { info.Symbols[name] = value }
	// Unreadable tables only leave symbols unfound, as a file without them.
	_ = scanFuncSymbols(f, size, elf.SHT_DYNSYM, keep, add)
	if len(info.Symbols) == 0 && len(wanted) > 0 {
		// Nothing wanted (a library probed only for the extra table) skips
		// the static table: libtorch_cuda.so's is large.
		_ = scanFuncSymbols(f, size, elf.SHT_SYMTAB, keep, add)
	}
	info.BuildID = buildID(f)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			info.text = append(info.text, p.ProgHeader)
		}
	}
	return info, nil
}

// openELF opens an ELF file and says its size (scanFuncSymbols' bound).
func openELF(path string) (f *elf.File, size int64, closeFile func() error, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	st, err := file.Stat()
	if err == nil {
		f, err = elf.NewFile(file)
	}
	if err != nil {
		file.Close()
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, 0, nil, fmt.Errorf("%s: %w", path, ErrNotELF)
		}
		return nil, 0, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return f, st.Size(), file.Close, nil
}

// buildID returns the GNU build id note as hex, or "".
func buildID(f *elf.File) string {
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	namesz := f.ByteOrder.Uint32(data[0:])
	descsz := f.ByteOrder.Uint32(data[4:])
	start := 12 + (namesz+3)&^3
	if uint64(start)+uint64(descsz) > uint64(len(data)) {
		return ""
	}
	return hex.EncodeToString(data[start : start+descsz])
}

// ncclVersionPattern matches NCCL's compiled-in VERSION_STRING, e.g.
// "2.28.9+cuda13.0", which NCCL_DEBUG=INFO prints as "NCCL version ...".
var ncclVersionPattern = regexp.MustCompile(`\b2\.\d{1,3}\.\d{1,3}\+cuda\d+\.\d+`)

// maxVersionScan bounds the read-only data searched for the version: NCCL
// linked into libtorch_cuda.so makes .rodata very large.
const maxVersionScan = 256 << 20

// NCCLVersion finds the NCCL version string in an ELF file's read-only
// data, or returns "".
func NCCLVersion(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".rodata")
	if sec == nil {
		return ""
	}
	return scanVersion(io.LimitReader(sec.Open(), maxVersionScan))
}

// scanVersion searches r in chunks that overlap by the longest match.
func scanVersion(r io.Reader) string {
	const chunk, overlap = 4 << 20, 64
	buf := make([]byte, 0, chunk+overlap)
	tmp := make([]byte, chunk)
	for {
		n, err := io.ReadFull(r, tmp)
		buf = append(buf, tmp[:n]...)
		if m := ncclVersionPattern.Find(buf); m != nil {
			return string(m)
		}
		if err != nil {
			return ""
		}
		keep := buf[len(buf)-min(overlap, len(buf)):]
		buf = append(buf[:0], bytes.Clone(keep)...)
	}
}
