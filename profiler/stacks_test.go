package profiler

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/trace"
)

// With --stacks every collective carries a user stack whose leaf is the
// probed NCCL function, and the return address into its direct caller (which
// a frame-pointer walk from a function's first instruction skips).
func TestStacksNameTheCaller(t *testing.T) {
	requirePrivileges(t)
	cfg := testConfig(t)
	cfg.Probe.Stacks = true
	cfg.Command = []string{progs.Driver, "all"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + filepath.Join(t.TempDir(), "truth"))
	_, tr := record(t, cfg, 20*time.Second)
	stacks := map[int32]trace.Stack{}
	for _, s := range tr.Stacks {
		stacks[s.ID] = s
	}
	maps := tr.Mappings[len(tr.Mappings)-1].Mappings
	checked := 0
	for _, e := range tr.Events {
		if !e.Kind.IsCollective() {
			continue
		}
		st, ok := stacks[e.StackID]
		if !ok || len(st.Addrs) == 0 {
			t.Fatalf("%s event without a stack (id %d)", e.Kind, e.StackID)
		}
		if lib := mappedFile(maps, st.Addrs[0]); filepath.Base(lib) != "libnccl.so.2" {
			t.Errorf("%s stack leaf %#x is in %q, want libnccl.so.2", e.Kind, st.Addrs[0], lib)
		}
		// -O2 inlines the driver's helpers into main.
		if fn := symbolAt(t, maps, e.Aux); fn != "main" && fn != "pattern_all" && fn != "collectives" {
			t.Errorf("%s caller %#x is in %q, want the driver's code that called it", e.Kind, e.Aux, fn)
		}
		checked++
	}
	if checked != 112 {
		t.Errorf("checked %d collectives, want 112", checked)
	}
	checkProfileStacks(t, cfg.Dir)
}

// checkProfileStacks: in the pprof profile every collective's leaf is the
// NCCL call and the next frame is the driver code that made it.
func checkProfileStacks(t *testing.T, dir string) {
	t.Helper()
	reportschema.WriteAll(t, dir, true)
	f, err := os.Open(filepath.Join(dir, "profile.pb.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	withCaller := 0
	for _, s := range p.Sample {
		leaf := s.Location[0].Line[0].Function.Name
		if !strings.HasPrefix(leaf, "nccl") || len(s.Location) < 2 {
			continue
		}
		if caller := s.Location[1].Line[0].Function.Name; caller != "main" {
			t.Errorf("%s called from %q in the profile, want main", leaf, caller)
		}
		withCaller++
	}
	if withCaller == 0 {
		t.Error("no collective sample in the profile has a native caller frame")
	}
}

func mappedFile(maps []trace.Mapping, addr uint64) string {
	for _, m := range maps {
		if addr >= m.Start && addr < m.End {
			return m.Path
		}
	}
	return ""
}

// symbolAt names the function of the driver that holds addr.
func symbolAt(t *testing.T, maps []trace.Mapping, addr uint64) string {
	t.Helper()
	for _, m := range maps {
		if addr < m.Start || addr >= m.End || m.Path != progs.Driver {
			continue
		}
		f, err := elf.Open(m.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		off := addr - m.Start + m.Offset
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && off >= p.Off && off < p.Off+p.Filesz {
				return funcAt(f, off-p.Off+p.Vaddr)
			}
		}
	}
	return ""
}

func funcAt(f *elf.File, vaddr uint64) string {
	syms, _ := f.Symbols()
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && vaddr >= s.Value && vaddr < s.Value+s.Size {
			return s.Name
		}
	}
	return ""
}
