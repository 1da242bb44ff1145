// Package metrics serves what a recording sees as Prometheus metrics while
// it runs (`linkprof record --metrics ADDR`, docs/fleet.md). Live figures
// come from what the recorder writes (events, NVLink samples, records);
// attributed bytes come from the analysis of each closed folder, the same
// numbers as its report.json. Labels stay few and stable: no pids, handles
// or pointers.
package metrics

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/trace"
)

const namespace = "linkprof"

// Link kinds (the link label), named as report.json's links name them:
// NVLink (device a GPU) and the network link (device a NIC, or none for
// the analysis's figures, which are the host's NICs summed).
const (
	LinkNVLink = "nvlink"
	LinkNet    = "net"
)

// Metrics is one recorder's metrics. Its methods are safe for concurrent
// use; it is a profiler.Observer.
type Metrics struct {
	reg *prometheus.Registry

	events      prometheus.Counter
	calls       [128]prometheus.Counter // by trace.Kind, collectives only
	linkBytes   *prometheus.CounterVec
	nvmlReads   *prometheus.CounterVec
	nvmlFailed  *prometheus.CounterVec
	stalls      *prometheus.CounterVec
	stallsOpen  prometheus.Gauge
	lost        atomic.Uint64
	targets     atomic.Int64
	ncclProcs   atomic.Int64
	links       linkCounters
	nics        *nicCounters
	openStalls  map[int]bool
	openStallMu sync.Mutex

	analysis analysisMetrics
}

// New makes the metrics of one recorder run by linkprof version.
func New(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), openStalls: map[int]bool{}}
	f := factory{m.reg}
	m.events = f.counter("events_total", "Events read from the probes (collectives, communicator and CUDA graph calls).")
	calls := f.counterVec("collective_calls_total",
		"Collective calls the probes saw, by op and path (host calls: captured into a CUDA graph counts once, its replays do not).",
		"op", "path")
	for _, k := range trace.Kinds() {
		if int(k) < len(m.calls) && (k.IsCollective() || k.IsCustomCollective()) {
			m.calls[k] = calls.WithLabelValues(k.Op(), k.Path())
		}
	}
	m.linkBytes = f.counterVec("link_bytes_total",
		"Bytes the link counters moved, by link kind, device and direction (nvlink: NVML's data counters; net: a NIC's byte counters).",
		"link", "device", "direction")
	m.links = linkCounters{bytes: m.linkBytes, last: map[uint32]trace.Sample{}}
	m.nics = newNICCounters(f, m.linkBytes)
	m.nvmlReads = f.counterVec("nvml_reads_total", "Successful NVML reads of a GPU's NVLink counters.", "device")
	m.nvmlFailed = f.counterVec("nvml_read_errors_total", "Failed NVML reads of a GPU's NVLink counters.", "device")
	m.stalls = f.counterVec("stalls_total", "Collectives found stalled while recording (docs/stragglers.md), by kind.", "kind")
	m.stallsOpen = f.gauge("stalls_open", "Stalls that have not ended.")
	f.counterFunc("lost_events_total", "Events the ring buffer dropped (never silent: raise --ring-size).",
		func() float64 { return float64(m.lost.Load()) })
	f.gaugeFunc("target_processes", "Processes being recorded.", func() float64 { return float64(m.targets.Load()) })
	f.gaugeFunc("nccl_processes", "Recorded processes that map NCCL.", func() float64 { return float64(m.ncclProcs.Load()) })
	build := f.gaugeVec("build_info", "linkprof's version; always 1.", "version")
	build.WithLabelValues(version).Set(1)
	m.analysis = newAnalysisMetrics(f)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics are registered (for serving them).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Event counts an event and, for a collective, its call.
func (m *Metrics) Event(e *trace.Event) {
	m.events.Inc()
	if int(e.Kind) < len(m.calls) && m.calls[e.Kind] != nil {
		m.calls[e.Kind].Inc()
	}
}

// Sample counts an NVML read and the link bytes since the GPU's last one.
func (m *Metrics) Sample(s trace.Sample) {
	dev := Device(s.GPU)
	if !s.OK() {
		m.nvmlFailed.WithLabelValues(dev).Inc()
		return
	}
	m.nvmlReads.WithLabelValues(dev).Inc()
	m.links.add(s)
}

// Record follows stalls as the recorder reports them.
func (m *Metrics) Record(t trace.RecordType, v any) {
	s, ok := v.(trace.Stall)
	if t != trace.RecStall || !ok {
		return
	}
	m.openStallMu.Lock()
	defer m.openStallMu.Unlock()
	switch {
	case s.EndNs == 0 && !m.openStalls[s.ID]:
		m.openStalls[s.ID] = true
		m.stalls.WithLabelValues(s.Kind).Inc()
	case s.EndNs != 0:
		delete(m.openStalls, s.ID)
	}
	m.stallsOpen.Set(float64(len(m.openStalls)))
}

// Progress keeps the recorder's gauges and lost count.
func (m *Metrics) Progress(p profiler.Progress) {
	m.targets.Store(int64(p.Targets))
	m.ncclProcs.Store(int64(p.NCCLProcs))
	m.lost.Store(p.Lost)
}

// Device names a GPU in the device label.
func Device(gpu uint32) string { return fmt.Sprintf("gpu%d", gpu) }

// linkCounters turns NVML's cumulative counters (KiB) into byte counts:
// a read that went backwards or wrapped starts the GPU over, adding
// nothing, as the analysis does.
type linkCounters struct {
	mu    sync.Mutex
	bytes *prometheus.CounterVec
	last  map[uint32]trace.Sample
}

func (l *linkCounters) add(s trace.Sample) {
	l.mu.Lock()
	prev, seen := l.last[s.GPU]
	l.last[s.GPU] = s
	l.mu.Unlock()
	reset := s.Flags&trace.SampleWrapped != 0 || s.DataTxKiB < prev.DataTxKiB || s.DataRxKiB < prev.DataRxKiB
	if !seen || reset {
		return
	}
	dev := Device(s.GPU)
	l.bytes.WithLabelValues(LinkNVLink, dev, "tx").Add(float64(s.DataTxKiB-prev.DataTxKiB) * 1024)
	l.bytes.WithLabelValues(LinkNVLink, dev, "rx").Add(float64(s.DataRxKiB-prev.DataRxKiB) * 1024)
}

var _ profiler.Observer = (*Metrics)(nil)
