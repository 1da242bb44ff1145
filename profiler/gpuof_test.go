package profiler

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// gpuSampler samples nothing and says every process computes on GPU 3, as
// NVML's running compute processes would.
type gpuSampler struct{ asked chan uint32 }

func (s *gpuSampler) Run(ctx context.Context, w *trace.Writer) error { <-ctx.Done(); return nil }
func (s *gpuSampler) Rates() map[int]float64                         { return nil }
func (s *gpuSampler) GPUOf(pid uint32) int {
	select {
	case s.asked <- pid:
	default:
	}
	return 3
}

// A process's GPU, unknown from its environment, is learnt from NVML and
// written into its Process record.
func TestProcessGPUFromNVML(t *testing.T) {
	requirePrivileges(t)
	cfg := testConfig(t)
	cfg.Command = []string{progs.Driver, "all"}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + filepath.Join(t.TempDir(), "truth"))
	sampler := &gpuSampler{asked: make(chan uint32, 16)}
	cfg.Sampler = sampler
	_, tr := record(t, cfg, 20*time.Second)
	if len(tr.Processes) != 1 || tr.Processes[0].GPU != 3 {
		t.Fatalf("processes %+v, want the driver on GPU 3", tr.Processes)
	}
	if pid := <-sampler.asked; pid != tr.Processes[0].Pid {
		t.Errorf("NVML asked about pid %d, want %d", pid, tr.Processes[0].Pid)
	}
}
