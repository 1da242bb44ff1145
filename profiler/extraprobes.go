package profiler

import (
	"bytes"
	"debug/elf"
	"log/slog"
	"runtime"
	"strings"

	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/profiler/extra"
	"github.com/linkprof/linkprof/trace"
)

// extraProbe is a table entry's probe on symbol: its size argument fills
// count, read as SizeMode says (LP_COOKIE_SIZE_MODE and LP_COOKIE_SIZE_PARAM
// in bpf/event.h), its comm, peer and stream arguments those fields; a comm
// that is a group name is hashed (LP_FLAG_COMM_NAME, or'ed into the event's
// flags). dtype is the element type the symbol's name fixes (SizeTyped).
func extraProbe(p extra.Probe, symbol string, dtype trace.DataType) probeSpec {
	at := abiArg(p.HiddenReturn, runtime.GOARCH)
	args := argMap{count: at(p.SizeArg), comm: at(p.CommArg), peer: at(p.PeerArg), stream: at(p.StreamArg)}
	cookie := uint64(p.SizeMode&0xf)<<20 | uint64(sizeParam(p, dtype))<<56
	if p.CommIsName {
		cookie |= uint64(trace.FlagCommName) << 16
	}
	return probeSpec{symbol: symbol, kind: p.Kind, args: args, extra: cookie}
}

// sizeParam is the cookie's parameter byte for the entry's size mode.
func sizeParam(p extra.Probe, dtype trace.DataType) uint8 {
	switch p.SizeMode {
	case extra.SizeTensor:
		return uint8(p.TensorNumelOffset / 8)
	case extra.SizeTyped:
		return uint8(dtype)
	case extra.SizeFFITensor:
		return p.FFIArg
	}
	return 0
}

// abiArg maps a C++ argument number to the register-order one the BPF
// program reads: a class returned in memory takes the first register on
// x86-64 (System V) and x8 on arm64, where nothing moves.
func abiArg(hiddenReturn bool, goarch string) func(int) int {
	return func(n int) int {
		if n > 0 && hiddenReturn && goarch == "amd64" {
			return n + 1
		}
		return n
	}
}

// extraSpecs finds the functions the table entries name in a library, by
// demangled name, and returns their probes and addresses. Each entry looks
// in the dynamic symbols, and in the static ones (.symtab: local functions,
// torch's symmetric memory operators) only when the dynamic ones have none
// of its functions. Only names containing an entry's Contains string are
// demangled.
func extraSpecs(path string, entries []extra.Probe) ([]probeSpec, map[string]uint64, error) {
	if len(entries) == 0 {
		return nil, nil, nil
	}
	f, size, closeFile, err := openELF(path)
	if err != nil {
		return nil, nil, err
	}
	defer closeFile()
	m := newExtraMatcher(entries)
	// A table that cannot be read holds nothing to probe; the library's
	// other probes (NCCL linked in) still go on.
	if err := scanFuncSymbols(f, size, elf.SHT_DYNSYM, m.candidate, m.visit); err != nil {
		slog.Debug("reading dynamic symbols for the extra table", "path", path, "err", err)
	}
	if m.unmatched() {
		m.staticPass = true
		if err := scanFuncSymbols(f, size, elf.SHT_SYMTAB, m.candidate, m.visit); err != nil {
			slog.Debug("reading static symbols for the extra table", "path", path, "err", err)
		}
	}
	return m.specs, m.addrs, nil
}

// extraMatcher matches symbols against table entries. In the static pass
// only the entries the dynamic pass left without a function take part.
type extraMatcher struct {
	entries    []extra.Probe
	contains   [][]byte
	matched    []bool // per entry: a function was found in the dynamic pass
	staticPass bool
	specs      []probeSpec
	addrs      map[string]uint64
}

func newExtraMatcher(entries []extra.Probe) *extraMatcher {
	m := &extraMatcher{entries: entries, matched: make([]bool, len(entries)), addrs: map[string]uint64{}}
	for _, e := range entries {
		m.contains = append(m.contains, []byte(e.Contains))
	}
	return m
}

func (m *extraMatcher) unmatched() bool {
	for _, ok := range m.matched {
		if !ok {
			return true
		}
	}
	return false
}

func (m *extraMatcher) active(i int) bool { return !m.staticPass || !m.matched[i] }

// candidate is the cheap test on a raw name: no clone (a name with a dot:
// .cold, .isra.0, .part.1 are pieces or variants of a function, which its
// callers reach through the function itself), and some active entry's
// Contains in it.
func (m *extraMatcher) candidate(name []byte) bool {
	if bytes.IndexByte(name, '.') >= 0 {
		return false
	}
	for i, c := range m.contains {
		if m.active(i) && bytes.Contains(name, c) {
			return true
		}
	}
	return false
}

// visit demangles a candidate and probes it for the first entry it matches.
func (m *extraMatcher) visit(name string, value uint64) {
	if m.addrs[name] != 0 {
		return
	}
	demangled := demangle.Filter(name)
	for i, e := range m.entries {
		if !m.active(i) || !strings.Contains(name, e.Contains) {
			continue
		}
		dtype, ok := e.Match(demangled)
		if !ok {
			continue
		}
		m.specs = append(m.specs, extraProbe(e, name, dtype))
		m.addrs[name] = value
		if !m.staticPass {
			m.matched[i] = true
		}
		return
	}
}
