package profiler

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/profiler/fakenccl"
	"github.com/linkprof/linkprof/trace"
)

var (
	pathProgsOnce sync.Once
	pathProgs     *fakenccl.PathPrograms
	pathProgsErr  error
)

// buildPathProgs builds the library-path fakes beside the NCCL ones, once.
func buildPathProgs(t *testing.T) *fakenccl.PathPrograms {
	t.Helper()
	pathProgsOnce.Do(func() { pathProgs, pathProgsErr = fakenccl.BuildPaths(progs) })
	if pathProgsErr != nil {
		t.Fatalf("building library-path fakes: %v", pathProgsErr)
	}
	return pathProgs
}

// describePath renders a library-path event like paths-driver's truth lines.
func describePath(e trace.Event) string {
	return fmt.Sprintf("%d %s %d %d %d %d %d", e.Pid, e.Kind, e.Comm, e.Count, int32(e.DataType), e.Peer, e.Stream)
}

// recordPathsDriver runs paths-driver n times over under the recorder and
// returns the trace and the driver's truth.
func recordPathsDriver(t *testing.T, n int) (*trace.Trace, []string) {
	t.Helper()
	g := buildPathProgs(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{g.Driver, fmt.Sprint(n)}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	sum, tr := record(t, cfg, 30*time.Second)
	if sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("paths-driver exit %v", sum.ExitStatus)
	}
	if tr.Lost != 0 {
		t.Fatalf("lost %d events", tr.Lost)
	}
	return tr, readTruth(t, truth)
}

// Every FlashInfer, DeepEP (V1 and V2), pplx and NVSHMEM call the table
// names is recorded once, with its kind, its size and dtype read the way
// its entry says (a TVM-FFI packed tensor, a tensor behind a hidden return
// pointer, a count typed by the function's name), its group and stream;
// the decoys sharing their names' parts are not.
func TestLibraryPathCallsRecordedExactly(t *testing.T) {
	requirePrivileges(t)
	const n = 3
	tr, want := recordPathsDriver(t, n)
	var got []string
	for _, e := range tr.Events {
		if e.Kind.IsCustomCollective() {
			got = append(got, describePath(e))
		}
	}
	if len(want) != n*29 { // per round: 7 FlashInfer, 6 DeepEP V1, 6 V2, 4 pplx, 6 NVSHMEM
		t.Fatalf("paths-driver made %d calls, want %d", len(want), n*29)
	}
	diffLines(t, got, want)
	byPath := map[string]int{}
	for _, e := range tr.Events {
		byPath[e.Kind.Path()]++
	}
	wantPaths := map[string]int{"flashinfer": 7 * n, "deepep": 12 * n, "pplx": 4 * n, "nvshmem": 6 * n}
	if !maps.Equal(byPath, wantPaths) {
		t.Errorf("events by path %v, want %v", byPath, wantPaths)
	}
}

// Each fake library is recognised by its path and probed only on the
// entry points: pplx's local symbols are found in .symtab, the decoys
// (lamport_initialize, get_next_low_latency_combine_buffer, the Meta
// kernel, short and reduce-scatter variants) are left alone.
func TestLibraryPathsProbedBySymbol(t *testing.T) {
	requirePrivileges(t)
	g := buildPathProgs(t)
	tr, _ := recordPathsDriver(t, 1)
	probed := map[string]int{}
	for _, l := range tr.Libraries {
		probed[l.Path] = len(l.Probed)
		for _, s := range l.Probed {
			if strings.Contains(s, "lamport") || strings.Contains(s, "get_next") || strings.Contains(s, "fake_dispatch") ||
				strings.Contains(s, "short") || strings.Contains(s, "reducescatter") || strings.Contains(s, "dispose") {
				t.Errorf("%s: decoy %s probed", l.Path, s)
			}
		}
	}
	want := map[string]int{g.TrtllmComm: 4, g.MNNVLComm: 1, g.VLLMComm: 1, g.DeepEPV1: 6, g.DeepEPV2: 6,
		g.Pplx: 4, g.NVSHMEM: 6}
	for lib, n := range want {
		if probed[lib] != n {
			t.Errorf("%s: %d symbols probed, want %d (all: %v)", lib, probed[lib], n, probed)
		}
	}
	if !slices.ContainsFunc(tr.Libraries, func(l trace.Library) bool { return l.Path == g.Pplx && l.Role == "extra" }) {
		t.Errorf("pplx library not probed as extra")
	}
}

// The recording analysed as `linkprof record` does: the profile has, per
// library-path op, exactly the calls paths-driver made and their payload
// (count x dtype size as passed), and no NCCL op gains any.
func TestLibraryPathRecordingProfile(t *testing.T) {
	requirePrivileges(t)
	g := buildPathProgs(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{g.Driver, "2"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	if sum, _ := record(t, cfg, 30*time.Second); sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("paths-driver exit %v", sum.ExitStatus)
	}
	reportschema.WriteAll(t, cfg.Dir, true)
	wantCalls, wantPayload := map[string]int64{}, map[string]int64{}
	for _, l := range readTruth(t, truth) {
		var pid, count uint64
		var kind string
		var comm, peer, stream int64
		var dtype int32
		if _, err := fmt.Sscan(l, &pid, &kind, &comm, &count, &dtype, &peer, &stream); err != nil {
			t.Fatalf("truth line %q: %v", l, err)
		}
		wantCalls[kind]++
		wantPayload[kind] += int64(count * trace.DataType(dtype).Size())
	}
	f, err := os.Open(filepath.Join(cfg.Dir, pipeline.ProfileFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	calls, payload := map[string]int64{}, map[string]int64{}
	for _, s := range p.Sample {
		if op := s.Label["op"][0]; op != "unattributed" {
			calls[op] += s.Value[0]
			payload[op] += s.Value[1]
		}
	}
	if !maps.Equal(calls, wantCalls) || !maps.Equal(payload, wantPayload) {
		t.Errorf("profile calls %v payload %v,\nwant calls %v payload %v", calls, payload, wantCalls, wantPayload)
	}
}
