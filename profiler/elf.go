package profiler

import (
	"bytes"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// ErrNotELF is returned for mapped files that are not ELF objects.
var ErrNotELF = errors.New("not an ELF file")

// LibraryInfo is what linkprof learns from a mapped ELF file.
type LibraryInfo struct {
	Symbols map[string]uint64 // the symbols asked for that the file defines
	BuildID string
	Version string // NCCL version string, when found
}

// Has reports whether the file defines sym.
func (l *LibraryInfo) Has(sym string) bool { _, ok := l.Symbols[sym]; return ok }

// InspectELF reads which of the wanted symbols an ELF file defines (dynamic
// symbols first; the static table too, for NCCL linked into another
// library), and its build id.
func InspectELF(path string, wanted map[string]bool) (*LibraryInfo, error) {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s: %w", path, ErrNotELF)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	info := &LibraryInfo{Symbols: map[string]uint64{}}
	dyn, _ := f.DynamicSymbols()
	addDefined(info.Symbols, dyn, wanted)
	if len(info.Symbols) == 0 && len(wanted) > 0 {
		// Nothing wanted (a library probed only for the extra table, such as
		// libtorch_cuda.so): its static table is large and of no use here.
		static, _ := f.Symbols()
		addDefined(info.Symbols, static, wanted)
	}
	info.BuildID = buildID(f)
	return info, nil
}

func addDefined(out map[string]uint64, syms []elf.Symbol, wanted map[string]bool) {
	for _, s := range syms {
		if wanted[s.Name] && s.Section != elf.SHN_UNDEF && s.Value != 0 &&
			elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			out[s.Name] = s.Value
		}
	}
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
