package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/linkprof/linkprof/nic"
)

// NICSource is a NIC sampler's live view (*nic.Sampler).
type NICSource interface {
	Latest() []nic.Counter
}

// nicCounters brings a NIC sampler's counters into the metrics when they
// are gathered: a scrape shows exactly what the sampler had read by then,
// with no goroutine of its own and nothing on the sampler's path.
type nicCounters struct {
	mu     sync.Mutex
	src    NICSource
	bytes  *prometheus.CounterVec
	reads  *prometheus.CounterVec
	failed *prometheus.CounterVec
	shown  map[string]nic.Counter // what the counters hold, by NIC
}

func newNICCounters(f factory, bytes *prometheus.CounterVec) *nicCounters {
	return &nicCounters{
		bytes:  bytes,
		reads:  f.counterVec("nic_reads_total", "Successful reads of a NIC's byte counters (its read rate: rate() of this).", "device"),
		failed: f.counterVec("nic_read_errors_total", "Failed reads of a NIC's byte counters.", "device"),
		shown:  map[string]nic.Counter{},
	}
}

// WatchNICs serves the sampled NICs' bytes (link="net", device the NIC's
// name) and reads beside NVLink's.
func (m *Metrics) WatchNICs(src NICSource) {
	m.nics.mu.Lock()
	defer m.nics.mu.Unlock()
	m.nics.src = src
}

// sync adds what each NIC moved and was read since the last gathering.
// The sampler's figures only grow, so the differences are never negative.
func (n *nicCounters) sync() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.src == nil {
		return
	}
	for _, c := range n.src.Latest() {
		was := n.shown[c.Name]
		n.shown[c.Name] = c
		n.bytes.WithLabelValues(LinkNet, c.Name, "tx").Add(float64(c.MovedTx - was.MovedTx))
		n.bytes.WithLabelValues(LinkNet, c.Name, "rx").Add(float64(c.MovedRx - was.MovedRx))
		n.reads.WithLabelValues(c.Name).Add(float64(c.Reads - was.Reads))
		n.failed.WithLabelValues(c.Name).Add(float64(c.Failed - was.Failed))
	}
}

// Gather syncs the NICs' counters, then gathers every metric (what
// /metrics serves).
func (m *Metrics) Gather() ([]*dto.MetricFamily, error) {
	m.nics.sync()
	return m.reg.Gather()
}
