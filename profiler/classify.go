package profiler

import (
	"bytes"
	"strings"

	"github.com/linkprof/linkprof/profiler/extra"
)

// Role names in Library records; a library may have several ("nccl+cudart"
// for NCCL and the CUDA runtime linked into one libtorch_cuda.so).
const (
	roleNameNCCL   = "nccl"
	roleNameCudart = "cudart"
	roleNameDriver = "cuda"
	roleNameExtra  = "extra"
)

// classified is what a library holds and the probes that go on it.
type classified struct {
	info  *LibraryInfo
	roles []string
	specs []probeSpec
}

func (c *classified) has(role string) bool {
	for _, r := range c.roles {
		if r == role {
			return true
		}
	}
	return false
}

func (c *classified) roleName() string { return strings.Join(c.roles, "+") }

// family is one kind of library linkprof probes, recognized by a marker.
type family struct {
	role   string
	marker string
	specs  []probeSpec
}

var families = []family{
	{roleNameNCCL, ncclMarker, ncclProbes},
	{roleNameCudart, cudartMarker, cudartProbes},
	{roleNameDriver, driverMarker, driverProbes},
}

// classify finds which families a library holds by their defined marker
// symbols, and which extra-table entries apply to its path.
func classify(host, path string, table []extra.Probe) (*classified, error) {
	c := &classified{}
	present := namesInStringTables(host, families)
	wanted := map[string]bool{}
	for _, f := range present {
		for _, s := range f.specs {
			wanted[s.symbol] = true
			wanted["p"+s.symbol] = true
		}
	}
	entries := extra.ForLibrary(table, path)
	if len(present) == 0 && len(entries) == 0 {
		return c, nil
	}
	info, err := InspectELF(host, wanted)
	if err != nil {
		return nil, err
	}
	c.info = info
	for _, f := range present {
		if _, ok := resolveSymbol(info, f.marker); ok {
			c.roles = append(c.roles, f.role)
			c.specs = append(c.specs, f.specs...)
		}
	}
	specs, addrs, err := extraSpecs(host, entries)
	if err != nil {
		return nil, err
	}
	if len(specs) > 0 {
		for name, addr := range addrs {
			info.Symbols[name] = addr
		}
		c.roles = append(c.roles, roleNameExtra)
		c.specs = append(c.specs, specs...)
	}
	return c, nil
}

// namesInStringTables is a cheap first look: which families' markers appear
// in the file's string tables at all? Parsing every symbol of every mapped
// library (a torch process maps hundreds, libtorch_cuda.so alone is huge)
// is slow. A name found here may still be an import, not a definition.
func namesInStringTables(path string, fams []family) []family {
	f, size, closeFile, err := openELF(path)
	if err != nil {
		return nil
	}
	defer closeFile()
	var out []family
	found := map[string]bool{}
	for _, name := range []string{".dynstr", ".strtab"} {
		sec := f.Section(name)
		if sec == nil {
			continue
		}
		data, err := sectionBytes(sec, size)
		if err != nil {
			continue
		}
		for _, fam := range fams {
			if !found[fam.role] && bytes.Contains(data, []byte(fam.marker)) {
				found[fam.role] = true
				out = append(out, fam)
			}
		}
	}
	return out
}
