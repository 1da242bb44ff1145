package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/linkprof/linkprof/report"
)

// analysisMetrics are the figures only the analysis knows (which op moved
// which link bytes). They advance when a folder's analysis finishes: with
// --rotate, every period; without, once, when the recording stops.
type analysisMetrics struct {
	attributed   *prometheus.CounterVec
	unattributed *prometheus.CounterVec
	executed     *prometheus.CounterVec
	folders      prometheus.Counter
	failures     prometheus.Counter
	until        prometheus.Gauge
	took         prometheus.Gauge
}

func newAnalysisMetrics(f factory) analysisMetrics {
	return analysisMetrics{
		attributed: f.counterVec("attributed_link_bytes_total",
			"Link bytes the analysis attributed to each op, summed over GPUs, from the reports of the folders analysed so far.",
			"op", "link", "direction"),
		unattributed: f.counterVec("unattributed_link_bytes_total",
			"Link bytes no recorded collective explains, by device, from the reports of the folders analysed so far.",
			"link", "device", "direction"),
		executed: f.counterVec("executed_collectives_total",
			"Collectives executed (eager calls plus CUDA graph replays) by op, from the reports of the folders analysed so far.",
			"op"),
		folders:  f.counter("analyzed_folders_total", "Recording folders analysed (report written)."),
		failures: f.counter("analysis_failures_total", "Recording folders whose analysis failed (the trace stays for linkprof report)."),
		until: f.gauge("analyzed_until_timestamp_seconds",
			"When the last analysed folder was closed (Unix time): the attributed figures cover the recording up to then."),
		took: f.gauge("last_analysis_duration_seconds", "How long the last folder's analysis took."),
	}
}

// Analyzed adds a closed folder's report: its attributed and unattributed
// bytes and executed calls. closed is when the folder was closed, took how
// long its analysis ran.
func (m *Metrics) Analyzed(rep *report.Report, closed time.Time, took time.Duration) {
	a := &m.analysis
	for _, op := range rep.Ops {
		a.attributed.WithLabelValues(op.Op, LinkNVLink, "tx").Add(float64(op.TxBytes))
		a.attributed.WithLabelValues(op.Op, LinkNVLink, "rx").Add(float64(op.RxBytes))
		a.executed.WithLabelValues(op.Op).Add(float64(op.Calls))
	}
	for _, g := range rep.GPUs {
		dev := Device(uint32(g.Index))
		a.unattributed.WithLabelValues(LinkNVLink, dev, "tx").Add(float64(g.Unattributed.TxBytes))
		a.unattributed.WithLabelValues(LinkNVLink, dev, "rx").Add(float64(g.Unattributed.RxBytes))
	}
	a.addNet(rep)
	a.folders.Inc()
	a.until.Set(float64(closed.UnixNano()) / 1e9)
	a.took.Set(took.Seconds())
}

// addNet adds the network link's figures of a report whose NICs were
// sampled (report.json's net). The analysis attributes the host's NICs
// summed, so the unattributed series has no device.
func (a *analysisMetrics) addNet(rep *report.Report) {
	if rep.Net == nil {
		return
	}
	for _, op := range rep.Ops {
		a.attributed.WithLabelValues(op.Op, LinkNet, "tx").Add(float64(op.NetTxBytes))
		a.attributed.WithLabelValues(op.Op, LinkNet, "rx").Add(float64(op.NetRxBytes))
	}
	a.unattributed.WithLabelValues(LinkNet, "", "tx").Add(float64(rep.Net.Unattributed.NetTxBytes))
	a.unattributed.WithLabelValues(LinkNet, "", "rx").Add(float64(rep.Net.Unattributed.NetRxBytes))
}

// AnalysisFailed counts a folder whose analysis failed.
func (m *Metrics) AnalysisFailed() { m.analysis.failures.Inc() }
