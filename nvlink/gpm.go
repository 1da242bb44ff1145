package nvlink

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/trace"
)

// gpmState holds the two GPM samples a GPM metric is computed between.
type gpmState struct {
	prev, cur nvml.GpmSample
	prevNs    int64 // monotonic ns of prev; 0: none yet
}

// setupGPM allocates GPM samples for the GPUs that support GPM. A GPU that
// does not gets a note and no GPM task.
func (s *Sampler) setupGPM() {
	for _, g := range s.gpus {
		if !g.sampled() {
			continue
		}
		sup, ret := g.dev.GpmQueryDeviceSupport()
		if ret != nvml.SUCCESS || sup.IsSupportedDevice == 0 {
			s.notes = append(s.notes, fmt.Sprintf("GPU %d: GPM not supported: no GPM NVLink samples", g.info.Index))
			continue
		}
		prev, r1 := s.lib.GpmSampleAlloc()
		cur, r2 := s.lib.GpmSampleAlloc()
		if r1 != nvml.SUCCESS || r2 != nvml.SUCCESS {
			s.notes = append(s.notes, fmt.Sprintf("GPU %d: allocating GPM samples failed: no GPM NVLink samples", g.info.Index))
			freeSample(prev, r1)
			freeSample(cur, r2)
			continue
		}
		g.gpm = &gpmState{prev: prev, cur: cur}
	}
}

func freeSample(smp nvml.GpmSample, ret nvml.Return) {
	if ret == nvml.SUCCESS && smp != nil {
		smp.Free()
	}
}

func (s *Sampler) freeGPM() {
	for _, g := range s.gpus {
		if g.gpm != nil {
			g.gpm.prev.Free()
			g.gpm.cur.Free()
			g.gpm = nil
		}
	}
}

// readGPMTo takes a GPM sample and, from the second on, writes the NVLink
// throughput between it and the previous one. A failed read is a gap.
func (s *Sampler) readGPMTo(g *gpuState, sink Sink, lock locker) error {
	st := g.gpm
	var m nvml.GpmMetricsGetType
	lock.Lock()
	now := s.clock.MonoNs()
	ret := g.dev.GpmSampleGet(st.cur)
	mret := nvml.ERROR_UNKNOWN
	if ret == nvml.SUCCESS && st.prevNs != 0 {
		m = nvml.GpmMetricsGetType{Version: nvml.GPM_METRICS_GET_VERSION, NumMetrics: 2, Sample1: st.prev, Sample2: st.cur}
		m.Metrics[0].MetricId = uint32(nvml.GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC)
		m.Metrics[1].MetricId = uint32(nvml.GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC)
		mret = s.lib.GpmMetricsGet(&m)
	}
	lock.Unlock()
	if st.prevNs == 0 {
		if ret == nvml.SUCCESS { // the first sample has nothing to compare with
			st.prev, st.cur, st.prevNs = st.cur, st.prev, now
		}
		return nil
	}
	out := trace.GPMSample{GPU: g.info.Index, MonoNs: now, IntervalNs: now - st.prevNs}
	if mret == nvml.SUCCESS && m.Metrics[0].NvmlReturn == uint32(nvml.SUCCESS) && m.Metrics[1].NvmlReturn == uint32(nvml.SUCCESS) {
		out.TxMiBps, out.RxMiBps, out.OK = m.Metrics[0].Value, m.Metrics[1].Value, true
	}
	if ret == nvml.SUCCESS {
		st.prev, st.cur, st.prevNs = st.cur, st.prev, now
	}
	if err := sink.WriteJSON(trace.RecGPUSamples, out); err != nil {
		return fmt.Errorf("writing GPM sample: %w", err)
	}
	return nil
}
