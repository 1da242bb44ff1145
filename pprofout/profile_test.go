package pprofout_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/pprofout"
	"github.com/linkprof/linkprof/trace"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func simProfile(t *testing.T) *profile.Profile {
	t.Helper()
	return profileOf(t, sim.Config{Ranks: 2, Steps: 4, Seed: 1, StepGapNs: 20_000_000, Stacks: true,
		Ops: []sim.Op{
			{Kind: trace.AllReduce, Count: 16 << 20, DType: trace.DataType(9)},
			{Kind: trace.AllGather, Count: 1 << 10, DType: trace.DataType(7)},
		},
		Blobs: []sim.Blob{{AtNs: 45_000_000, GPU: 0, Bytes: 64 << 20}}})
}

// graphProfile: each rank captures an all-reduce and a custom all-reduce
// at step 0 and replays them at steps 1-3, an eager all-gather per step.
func graphProfile(t *testing.T) *profile.Profile {
	t.Helper()
	return profileOf(t, sim.Config{Ranks: 2, Steps: 4, Seed: 1, StepGapNs: 20_000_000, Stacks: true,
		Ops: []sim.Op{{Kind: trace.AllGather, Count: 1 << 10, DType: trace.DataType(7)}},
		Graph: &sim.Graph{Ops: []sim.Op{
			{Kind: trace.AllReduce, Count: 16 << 20, DType: trace.DataType(9)},
			{Kind: trace.CustomAllReduce, Count: 1 << 20, DType: trace.DataType(9)},
		}}})
}

func profileOf(t *testing.T, cfg sim.Config) *profile.Profile {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	_, err := sim.Write(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := pprofout.NewBuilder()
	res, err := correlate.Analyze(dir, correlate.Options{}, b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Profile(res, pprofout.NewSymbolizer(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProfileGolden(t *testing.T) { checkGolden(t, simProfile(t), "sim.golden") }

// Replays carry the capture site's stack and phase graph-replay; the
// capture-time calls are samples with calls and payload, no link bytes.
func TestGraphProfileGolden(t *testing.T) { checkGolden(t, graphProfile(t), "graphs.golden") }

func checkGolden(t *testing.T, p *profile.Profile, name string) {
	t.Helper()
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	got := p.String()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("profile differs from %s (run go test -update):\n%s", golden, got)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != got {
		t.Errorf("round trip changed the profile:\n%s", back.String())
	}
}

func TestStackShape(t *testing.T) {
	p := simProfile(t)
	var unattributed int64
	for _, s := range p.Sample {
		var names []string
		for _, l := range s.Location {
			names = append(names, l.Line[0].Function.Name)
		}
		if s.Label["op"][0] == "unattributed" {
			unattributed += s.Value[2]
			if strings.Join(names, ";") != "unattributed;GPU 0" {
				t.Errorf("unattributed stack %v", names)
			}
			continue
		}
		leaf, root := names[0], names[len(names)-1]
		if leaf != "nccl"+s.Label["op"][0] || root != fmt.Sprintf("rank %d", s.NumLabel["rank"][0]) {
			t.Errorf("stack %v: want leaf nccl%s and root rank %d", names, s.Label["op"][0], s.NumLabel["rank"][0])
		}
		// NCCL's own frame is dropped; the cut at the wild address drops
		// the frame after it.
		if len(names) != 6 || names[1] != "server+0x"+map[string]string{"AllReduce": "1010", "AllGather": "1020"}[s.Label["op"][0]] ||
			names[3] != "server+0x3000" || names[4] != "python3" {
			t.Errorf("stack %v", names)
		}
	}
	if unattributed < 60<<20 {
		t.Errorf("unattributed tx %d, want the 64 MiB blob", unattributed)
	}
}
