package nvmlfake

import (
	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// gpmSample is a fake GPM sample: the GPU's aggregate DATA counters at a time.
type gpmSample struct {
	gpu    int
	monoNs int64
	tx, rx uint64 // KiB
	ok     bool
}

func (g *gpmSample) Free() nvml.Return                   { return nvml.SUCCESS }
func (g *gpmSample) Get(nvml.Device) nvml.Return         { return nvml.ERROR_NOT_SUPPORTED }
func (g *gpmSample) MigGet(nvml.Device, int) nvml.Return { return nvml.ERROR_NOT_SUPPORTED }

func (s *Server) gpmGet(gpu int, smp nvml.GpmSample) nvml.Return {
	g, ok := smp.(*gpmSample)
	if !ok {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	s.serialize(gpu, 1, func(mono int64) {
		g.gpu, g.monoNs, g.ok = gpu, mono, true
		if s.opts.Counters != nil {
			g.tx, _ = s.opts.Counters(gpu, nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, 0xFFFFFFFF, mono)
			g.rx, _ = s.opts.Counters(gpu, nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, 0xFFFFFFFF, mono)
		}
	})
	return nvml.SUCCESS
}

// gpmMetrics serves the NVLink throughput metrics (MiB/s) between two samples.
func (s *Server) gpmMetrics(m *nvml.GpmMetricsGetType) nvml.Return {
	a, ok1 := m.Sample1.(*gpmSample)
	b, ok2 := m.Sample2.(*gpmSample)
	if !ok1 || !ok2 || !a.ok || !b.ok || a.gpu != b.gpu || b.monoNs <= a.monoNs {
		return nvml.ERROR_INVALID_ARGUMENT
	}
	secs := float64(b.monoNs-a.monoNs) / 1e9
	for i := range m.Metrics[:m.NumMetrics] {
		mt := &m.Metrics[i]
		mt.NvmlReturn = uint32(nvml.SUCCESS)
		switch nvml.GpmMetricId(mt.MetricId) {
		case nvml.GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC:
			mt.Value = float64(b.tx-a.tx) / 1024 / secs
		case nvml.GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC:
			mt.Value = float64(b.rx-a.rx) / 1024 / secs
		default:
			mt.NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
		}
	}
	return nvml.SUCCESS
}
