package report

import (
	"cmp"
	"slices"

	"github.com/linkprof/linkprof/correlate"
)

// Net is report.json's net: the host's network link, the sampled NICs
// summed (docs/attribution.md, "Network links"). Present when NICs were
// sampled.
type Net struct {
	NICs          []NIC   `json:"nics"`
	Samples       uint64  `json:"samples"` // successful rounds of reads
	FailedSamples uint64  `json:"failed_samples"`
	SampleHz      float64 `json:"sample_hz"`
	TxBytes       uint64  `json:"tx_bytes"`
	RxBytes       uint64  `json:"rx_bytes"`
	// Unattributed is what no collective explains.
	Unattributed    NetBytes `json:"unattributed"`
	Bursts          uint64   `json:"bursts"`
	DutyCycle       float64  `json:"duty_cycle"`
	MeanTxBytesPerS float64  `json:"mean_tx_bytes_per_s"`
	PeakBytesPerS   float64  `json:"peak_bytes_per_s"`
	// BurstList has the network link's bursts in time order (gpu -1), up
	// to maxListedBursts.
	BurstList []BurstRow `json:"burst_list"`
}

// NetBytes is a pair of byte counts on the network link; absent when zero.
type NetBytes struct {
	NetTxBytes uint64 `json:"net_tx_bytes,omitempty"`
	NetRxBytes uint64 `json:"net_rx_bytes,omitempty"`
}

// NIC is one sampled network device and what its own counters moved.
type NIC struct {
	Index         int     `json:"index"`
	Name          string  `json:"name"`
	Host          string  `json:"host,omitempty"` // in a merged trace, the recording's host
	Kind          string  `json:"kind"`           // ib, netdev
	Netdev        string  `json:"netdev,omitempty"`
	LinkLayer     string  `json:"link_layer,omitempty"`
	SpeedBps      float64 `json:"speed_bytes_per_s,omitempty"`
	SelectedBy    string  `json:"selected_by"`
	Samples       uint64  `json:"samples"`
	FailedSamples uint64  `json:"failed_samples"`
	Wraps         uint64  `json:"wraps"`
	SampleHz      float64 `json:"sample_hz"`
	TxBytes       uint64  `json:"tx_bytes"`
	RxBytes       uint64  `json:"rx_bytes"`
}

// LinkTotal is one kind of link's bytes (report.json links): counted,
// attributed to collectives, and not.
type LinkTotal struct {
	Link           string `json:"link"` // nvlink, net
	TxBytes        uint64 `json:"tx_bytes"`
	RxBytes        uint64 `json:"rx_bytes"`
	AttributedTx   uint64 `json:"attributed_tx_bytes"`
	AttributedRx   uint64 `json:"attributed_rx_bytes"`
	UnattributedTx uint64 `json:"unattributed_tx_bytes"`
	UnattributedRx uint64 `json:"unattributed_rx_bytes"`
}

// netTally is the aggregator's part of the network link.
type netTally struct {
	unTx, unRx float64
	bursts     []BurstRow
	omitted    uint64
}

// LinkCall implements correlate.LinkSink: a collective's bytes on the
// network link (the call itself is counted by Call).
func (a *Aggregator) LinkCall(c *correlate.Call) {
	if !c.Executed() {
		return
	}
	a.ops[int(c.Kind)%maxKinds].addNet(c)
	get(a.sigs, sigKey{c.Pid, c.Comm, c.Kind, c.DataType, c.Count, c.Rank, c.NRanks, c.GPU}).addNet(c)
}

// LinkInterval implements correlate.LinkSink.
func (a *Aggregator) LinkInterval(iv *correlate.Interval) {
	a.net.unTx += iv.UnTx
	a.net.unRx += iv.UnRx
}

// LinkBurst implements correlate.LinkSink.
func (a *Aggregator) LinkBurst(b *correlate.Burst) {
	if len(a.net.bursts) >= maxListedBursts {
		a.net.omitted++
		return
	}
	row := burstRow(b)
	row.hostIndex = b.Host
	a.net.bursts = append(a.net.bursts, row)
}

func (t *tally) addNet(c *correlate.Call) {
	t.netTx += c.TxBytes
	t.netRx += c.RxBytes
}

func (n *netTally) merge(o *netTally) {
	n.unTx += o.unTx
	n.unRx += o.unRx
	n.bursts = append(n.bursts, o.bursts...)
	n.omitted += o.omitted
}

// netSection is report.json's net, nil when no NIC was sampled.
func netSection(res *correlate.Result, a *Aggregator, start int64) *Net {
	s := res.Net
	if s == nil {
		return nil
	}
	n := &Net{Samples: s.Samples - s.Failed, FailedSamples: s.Failed, TxBytes: round(s.TxBytes), RxBytes: round(s.RxBytes),
		Unattributed: NetBytes{round(a.net.unTx), round(a.net.unRx)}, Bursts: s.Bursts, PeakBytesPerS: s.PeakBps,
		NICs: nics(res), BurstList: slices.Clone(a.net.bursts)}
	// A merged trace has a link per host, summed: its reads and busy time
	// are the hosts' together, so its rate and duty cycle are per link.
	if span, links := s.LastNs-s.FirstNs, netLinks(res); span > 0 && n.Samples > uint64(links) {
		n.SampleHz = float64(n.Samples-uint64(links)) / float64(links) / (float64(span) / 1e9)
		n.DutyCycle = float64(s.BusyNs) / float64(links) / float64(span)
		n.MeanTxBytesPerS = s.TxBytes / (float64(span) / 1e9)
	}
	slices.SortFunc(n.BurstList, func(x, y BurstRow) int { return cmp.Compare(x.StartNs, y.StartNs) })
	hosts := res.Meta.Start.Hosts // a merged trace's, as the timeline names them
	for i := range n.BurstList {
		n.BurstList[i].StartNs -= start
		if h := n.BurstList[i].hostIndex; h < len(hosts) {
			n.BurstList[i].Host = hosts[h].Name
		}
	}
	if n.BurstList == nil {
		n.BurstList = []BurstRow{}
	}
	return n
}

// netLinks is how many network links the analysis summed: one per host
// with sampled NICs (a merged trace's NICs name their host).
func netLinks(res *correlate.Result) int {
	hosts := map[string]bool{}
	for _, s := range res.NICs {
		hosts[s.Host] = true
	}
	return max(len(hosts), 1)
}

func nics(res *correlate.Result) []NIC {
	out := []NIC{}
	for _, s := range res.NICs {
		d := NIC{Index: s.Index, Name: s.Name, Host: s.Host, Kind: s.Kind, Netdev: s.Netdev, LinkLayer: s.LinkLayer, SpeedBps: s.SpeedBps,
			SelectedBy: s.SelectedBy, Samples: s.Samples - s.Failed, FailedSamples: s.Failed, Wraps: s.Resets,
			TxBytes: round(s.TxBytes), RxBytes: round(s.RxBytes)}
		if span := s.LastNs - s.FirstNs; span > 0 && d.Samples > 1 {
			d.SampleHz = float64(d.Samples-1) / (float64(span) / 1e9)
		}
		out = append(out, d)
	}
	return out
}

// linkTotals is report.json's links: NVLink and the network link, when
// NICs were sampled (absent otherwise: NVLink alone is the rest of the
// report).
func linkTotals(r *Report) []LinkTotal {
	if r.Net == nil {
		return nil
	}
	nv := LinkTotal{Link: correlate.NVLink.String(), UnattributedTx: r.Unattributed.TxBytes, UnattributedRx: r.Unattributed.RxBytes}
	for _, g := range r.GPUs {
		nv.TxBytes += g.TxBytes
		nv.RxBytes += g.RxBytes
	}
	net := LinkTotal{Link: correlate.Net.String(), TxBytes: r.Net.TxBytes, RxBytes: r.Net.RxBytes,
		UnattributedTx: r.Net.Unattributed.NetTxBytes, UnattributedRx: r.Net.Unattributed.NetRxBytes}
	for _, o := range r.Ops {
		nv.AttributedTx += o.TxBytes
		nv.AttributedRx += o.RxBytes
		net.AttributedTx += o.NetTxBytes
		net.AttributedRx += o.NetRxBytes
	}
	return []LinkTotal{nv, net}
}

// addNet fills the network link's parts of a report built from an
// analysis whose NICs were sampled.
func (r *Report) addNet(res *correlate.Result, a *Aggregator, start int64) {
	r.Net = netSection(res, a, start)
	if r.Net != nil {
		r.Unattributed.NetBytes = r.Net.Unattributed
	}
	r.Links = linkTotals(r)
}

// linkBytes is every link's attributed bytes, both directions.
func (t Traffic) linkBytes() uint64 { return t.TxBytes + t.RxBytes + t.NetTxBytes + t.NetRxBytes }
