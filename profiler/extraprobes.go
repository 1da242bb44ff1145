package profiler

import (
	"debug/elf"
	"fmt"
	"runtime"
	"strings"

	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/profiler/extra"
	"github.com/linkprof/linkprof/trace"
)

// extraProbe is a table entry's probe on symbol: its size argument fills
// count, read as SizeMode says (LP_COOKIE_SIZE_MODE and LP_COOKIE_SIZE_PARAM
// in bpf/event.h), its comm, peer and stream arguments those fields. dtype
// is the element type the symbol's name fixes (SizeTyped).
func extraProbe(p extra.Probe, symbol string, dtype trace.DataType) probeSpec {
	at := abiArg(p.HiddenReturn, runtime.GOARCH)
	args := argMap{count: at(p.SizeArg), comm: at(p.CommArg), peer: at(p.PeerArg), stream: at(p.StreamArg)}
	return probeSpec{symbol: symbol, kind: p.Kind, args: args,
		extra: uint64(p.SizeMode&0xf)<<20 | uint64(sizeParam(p, dtype))<<56}
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
// demangled name, and returns their probes and addresses. Only names
// containing an entry's Contains string are demangled.
func extraSpecs(path string, entries []extra.Probe) ([]probeSpec, map[string]uint64, error) {
	if len(entries) == 0 {
		return nil, nil, nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	syms, _ := f.DynamicSymbols()
	specs, addrs := matchExtra(syms, entries)
	if len(specs) == 0 {
		static, _ := f.Symbols()
		specs, addrs = matchExtra(static, entries)
	}
	return specs, addrs, nil
}

func matchExtra(syms []elf.Symbol, entries []extra.Probe) ([]probeSpec, map[string]uint64) {
	var specs []probeSpec
	addrs := map[string]uint64{}
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || s.Value == 0 || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		for _, e := range entries {
			if !strings.Contains(s.Name, e.Contains) || addrs[s.Name] != 0 {
				continue
			}
			if dtype, ok := e.Match(demangle.Filter(s.Name, demangle.NoClones)); ok {
				specs = append(specs, extraProbe(e, s.Name, dtype))
				addrs[s.Name] = s.Value
			}
		}
	}
	return specs, addrs
}
