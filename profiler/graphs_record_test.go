package profiler

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/profiler/fakenccl"
	"github.com/linkprof/linkprof/trace"
)

var (
	graphProgsOnce sync.Once
	graphProgs     *fakenccl.GraphPrograms
	graphProgsErr  error
)

// buildGraphProgs builds the CUDA graph fakes beside the NCCL ones, once.
func buildGraphProgs(t *testing.T) *fakenccl.GraphPrograms {
	t.Helper()
	graphProgsOnce.Do(func() { graphProgs, graphProgsErr = fakenccl.BuildGraphs(progs) })
	if graphProgsErr != nil {
		t.Fatalf("building graph fakes: %v", graphProgsErr)
	}
	return graphProgs
}

// describeGraph renders an event like graph-driver's truth lines: NCCL
// events as describe does, graph and custom events with their own fields.
func describeGraph(e trace.Event) string {
	if !e.Kind.IsGraph() && !e.Kind.IsCustomCollective() {
		return describe(e)
	}
	return fmt.Sprintf("%d %s %d %d %d %d %d %d %d %d", e.Pid, e.Kind, e.Stream, e.Comm, e.Aux, e.Count,
		int32(e.DataType), e.Peer, e.Ret, e.Flags)
}

// recordGraphDriver runs graph-driver under the recorder and returns the
// trace and the driver's truth.
func recordGraphDriver(t *testing.T, n, m int) (*trace.Trace, []string) {
	t.Helper()
	g := buildGraphProgs(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{g.Driver, "graphs", fmt.Sprint(n), fmt.Sprint(m)}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	sum, tr := record(t, cfg, 30*time.Second)
	if sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("graph-driver exit %v", sum.ExitStatus)
	}
	if tr.Lost != 0 {
		t.Fatalf("lost %d events", tr.Lost)
	}
	return tr, readTruth(t, truth)
}

// Every CUDA graph call (runtime and the driver call inside it, driver-only
// callers, the old one-argument cuStreamBeginCapture and five-argument
// cuGraphInstantiate), every NCCL call and every custom all-reduce is
// recorded with its exact handles and sizes, and the returned graph and
// exec handles are read on return, also when reused after destroy.
func TestGraphCallsRecordedExactly(t *testing.T) {
	requirePrivileges(t)
	tr, want := recordGraphDriver(t, 5, 3)
	got := make([]string, len(tr.Events))
	for i, e := range tr.Events {
		got[i] = describeGraph(e)
	}
	if len(want) != 67 { // 20 setup and graph A, 4 graph B, 18 replays, 4 destroy, 13 graph C, 8 graph D
		t.Fatalf("graph-driver made %d calls, want 67", len(want))
	}
	diffLines(t, got, want)
}

// Libraries are recognized by what they define, not their names, and the
// custom all-reduce by its demangled name: other::all_reduce is not probed.
func TestGraphLibrariesClassified(t *testing.T) {
	requirePrivileges(t)
	tr, _ := recordGraphDriver(t, 1, 1)
	roles := map[string]string{}
	probed := map[string][]string{}
	for _, l := range tr.Libraries {
		rel := strings.TrimPrefix(l.Path, progs.Dir+"/")
		roles[rel] = l.Role
		probed[rel] = l.Probed
	}
	want := map[string]string{"libnccl.so.2": "nccl", "libcudart.so.13": "cudart", "libcuda.so.1": "cuda",
		"vllm/_C.abi3.so": "extra", "sgl_kernel/common_ops.abi3.so": "extra"}
	for lib, role := range want {
		if roles[lib] != role {
			t.Errorf("%s: role %q, want %q (all: %v)", lib, roles[lib], role, roles)
		}
	}
	if p := probed["vllm/_C.abi3.so"]; !slices.Equal(p, []string{"_Z10all_reducelRN2at6TensorES1_ll"}) {
		t.Errorf("vllm library probed %v, want only all_reduce(long, at::Tensor&, at::Tensor&, long, long)", p)
	}
	if p := probed["sgl_kernel/common_ops.abi3.so"]; !slices.Equal(p, []string{"_Z10all_reducelRN2at6TensorES1_lll"}) {
		t.Errorf("sglang library probed %v, want only the six-argument all_reduce", p)
	}
	wantCudart := []string{"cudaStreamBeginCapture", "cudaStreamEndCapture", "cudaGraphInstantiate",
		"cudaGraphInstantiateWithFlags", "cudaGraphLaunch", "cudaGraphExecDestroy", "cudaGraphDestroy",
		"cudaEventRecord", "cudaStreamWaitEvent", "cudaSetDevice"}
	if p := probed["libcudart.so.13"]; !slices.Equal(p, wantCudart) {
		t.Errorf("libcudart probed %v, want %v", p, wantCudart)
	}
}

// The recorded graph-driver run, expanded: executed calls per op are the
// eager calls plus launches x captured, never capture-time calls; each
// graph lists what it captured and how often it ran, also the graph whose
// handles were those of a destroyed one.
func TestGraphExpansionCounts(t *testing.T) {
	requirePrivileges(t)
	const n, m = 5, 3
	tr, _ := recordGraphDriver(t, n, m)
	calls, gs := graphs.Expand(tr.Events)
	executed, captured := map[string]int{}, map[string]int{}
	for _, c := range calls {
		switch {
		case c.Executed():
			executed[c.Event.Kind.Op()]++
		case c.Phase == graphs.Capture:
			captured[c.Event.Kind.Op()]++
		}
	}
	wantExec := map[string]int{
		// eager 100, 5 (stream 2 during capture), 9 (stream 5 after), n x 7; replays of A: n x (1000, 3000, 11)
		"AllReduce":       3 + n + 3*n,
		"AllGather":       n,
		"ReduceScatter":   (n + 1) / 2, // graph B every other iteration
		"Broadcast":       m,
		"CustomAllReduce": 1 + n,
	}
	if !maps.Equal(executed, wantExec) {
		t.Errorf("executed %v, want %v", executed, wantExec)
	}
	wantCapt := map[string]int{"AllReduce": 3, "AllGather": 1, "CustomAllReduce": 1, "ReduceScatter": 1, "Broadcast": 1}
	if !maps.Equal(captured, wantCapt) {
		t.Errorf("captured %v, want %v", captured, wantCapt)
	}
	var got []string
	for _, g := range gs {
		s := g.Summary()
		var ops []string
		for _, c := range s.Captured {
			ops = append(ops, fmt.Sprintf("%s:%d", c.Op, c.Count))
		}
		got = append(got, fmt.Sprintf("%d [%s] x%d destroyed=%v payload=%d", s.ID, strings.Join(ops, " "),
			s.Launches, s.Destroyed, s.PayloadBytes))
	}
	want := []string{
		fmt.Sprintf("1 [AllReduce:1000 AllGather:2000 AllReduce:3000 AllReduce:11 CustomAllReduce:8192] x%d destroyed=true payload=%d",
			n, n*2*(1000+2000+3000+11+8192)),
		fmt.Sprintf("2 [ReduceScatter:300] x%d destroyed=false payload=%d", (n+1)/2, (n+1)/2*4*300),
		fmt.Sprintf("3 [Broadcast:42] x%d destroyed=false payload=%d", m, m*4*42),
		"4 [] x3 destroyed=true payload=0",
	}
	diffLines(t, got, want)
	if gs[0].Handle != gs[2].Handle || !slices.Equal(gs[0].Execs, gs[2].Execs) {
		t.Errorf("graph C should reuse graph A's handles: %#x %v vs %#x %v", gs[0].Handle, gs[0].Execs, gs[2].Handle, gs[2].Execs)
	}
}

// A process creating communicators on several CUDA devices (nccl-tests
// -g 2: cudaSetDevice then ncclCommInitRank; ncclCommInitAll with and
// without a device list): each creation event carries its device, read by
// the real probes (the thread's last cudaSetDevice, InitAll's list), and
// the communicator records say it too.
func TestCommunicatorDevicesRecorded(t *testing.T) {
	g := buildGraphProgs(t)
	truth := filepath.Join(t.TempDir(), "truth")
	cfg := testConfig(t)
	cfg.Command = []string{g.Driver, "devices"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + truth)
	sum, tr := record(t, cfg, 30*time.Second)
	if sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("graph-driver exit %v", sum.ExitStatus)
	}
	var got []string
	for _, e := range tr.Events {
		if e.Kind.IsCommCreate() && e.Flags&trace.FlagReturn != 0 {
			dev := -1
			if d := e.CommDevice(); d != nil {
				dev = *d
			}
			got = append(got, fmt.Sprintf("%d %d", e.Rank, dev))
		}
	}
	if want := readTruth(t, truth); !slices.Equal(got, want) {
		t.Errorf("creations (rank device) %q, want %q", got, want)
	}
	var recorded int
	for _, c := range tr.Comms {
		if c.CUDADevice != nil {
			recorded++
		}
	}
	if recorded != len(got) {
		t.Errorf("%d of %d communicator records carry their device", recorded, len(got))
	}
}
