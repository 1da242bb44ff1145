package pipeline_test

import (
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/reportschema"
)

// The demo (trace-1.0-3ed88a0) records its ranks with no GPU: NVML lists
// no process on a simulated link, and each is placed by its communicator
// rank. report.json showed gpu -1 (the process record's) while the
// profile said 0 and 1: processes[].gpu is now the GPU the analysis
// placed the process on, the profile's gpu label for its calls.
func TestProcessGPUIsTheAnalysisPlacement(t *testing.T) {
	out := reportschema.Run(t, filepath.Join("testdata", "trace-1.0-3ed88a0"), correlate.Options{})
	profGPU := map[int64]int64{} // pid -> gpu label
	for _, s := range out.Profile.Sample {
		if pid, gpu := s.NumLabel["pid"], s.NumLabel["gpu"]; len(pid) == 1 && len(gpu) == 1 {
			profGPU[pid[0]] = gpu[0]
		}
	}
	ranks := 0
	for _, p := range out.Report.Processes {
		if p.Calls == 0 {
			if p.GPU != -1 || p.Rank != -1 {
				t.Errorf("launcher %+v, want rank and gpu -1", p)
			}
			continue
		}
		ranks++
		if g, ok := profGPU[int64(p.Pid)]; !ok || int64(p.GPU) != g || p.GPU != p.Rank {
			t.Errorf("process %d rank %d: report gpu %d, profile gpu %d (%v)", p.Pid, p.Rank, p.GPU, g, ok)
		}
	}
	if ranks != 2 {
		t.Errorf("%d ranks with calls, want 2: %+v", ranks, out.Report.Processes)
	}
}
