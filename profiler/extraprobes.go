package profiler

import (
	"debug/elf"
	"fmt"
	"strings"

	"github.com/ianlancetaylor/demangle"

	"github.com/linkprof/linkprof/profiler/extra"
)

// extraProbe is a table entry's probe on symbol: its size argument fills
// count, read as SizeMode says (LP_COOKIE_SIZE_MODE and LP_COOKIE_TENSOR_OFF
// in bpf/event.h), its comm argument comm.
func extraProbe(p extra.Probe, symbol string) probeSpec {
	return probeSpec{symbol: symbol, kind: p.Kind, args: argMap{count: p.SizeArg, comm: p.CommArg},
		extra: uint64(p.SizeMode&0xf)<<20 | uint64(p.TensorNumelOffset/8&0xff)<<56}
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
			if e.Demangled.MatchString(demangle.Filter(s.Name, demangle.NoClones)) {
				specs = append(specs, extraProbe(e, s.Name))
				addrs[s.Name] = s.Value
			}
		}
	}
	return specs, addrs
}
