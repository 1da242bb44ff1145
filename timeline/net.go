package timeline

import (
	"math"
	"strconv"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// The host's network link (docs/attribution.md, "Network links") is one
// track: its rate summed over the NICs and each NIC's own rate as
// counters, its bursts, and the collectives' modelled transfers on it in
// lanes. A merged trace has a link, and so a track, per host.
const (
	netPid = gpuPidBase - 1 // host 0's; host h's is netPid-h
	// netStepGBps is the change in a network rate worth a counter point:
	// NICs are slower than NVLink, and are read faster.
	netStepGBps = 0.05
	netSort     = 999 // before the GPU tracks (1000 + index)
	netTrack    = "network (NICs summed)"
)

func (w *Writer) nameNet(host int, tid uint64, thread string) {
	track := netTrack
	if host < len(w.start.Hosts) {
		track = "network, host " + w.start.Hosts[host].Name + " (its NICs summed)"
	}
	w.name(netPid-uint64(host), tid, track, thread, netSort)
}

// LinkInterval implements correlate.LinkSink: the network link's rate and
// its unattributed part as counters.
func (w *Writer) LinkInterval(iv *correlate.Interval) {
	w.nameNet(iv.Host, 0, "bursts")
	pid := netPid - uint64(iv.Host)
	dt := float64(iv.EndNs-iv.StartNs) / 1e9
	now := [4]float64{iv.TxBytes / dt / 1e9, iv.RxBytes / dt / 1e9, iv.UnTx / dt / 1e9, iv.UnRx / dt / 1e9}
	last := w.netRates(math.MinInt + iv.Host)
	if movedBy(last[0], now[0], netStepGBps) || movedBy(last[1], now[1], netStepGBps) {
		w.put(&Event{Name: "network GB/s", Ph: "C", Ts: w.us(iv.StartNs), Pid: pid, Args: map[string]any{"tx": now[0], "rx": now[1]}})
		last[0], last[1] = now[0], now[1]
	}
	if movedBy(last[2], now[2], netStepGBps) || movedBy(last[3], now[3], netStepGBps) {
		w.put(&Event{Name: "network unattributed GB/s", Ph: "C", Ts: w.us(iv.StartNs), Pid: pid,
			Args: map[string]any{"tx": now[2], "rx": now[3]}})
		last[2], last[3] = now[2], now[3]
	}
}

// NICInterval implements correlate.NICSink: one NIC's rate as a counter.
func (w *Writer) NICInterval(nic *trace.NIC, startNs, endNs int64, tx, rx float64) {
	host, _ := trace.SplitNIC(uint32(nic.Index))
	w.nameNet(host, 0, "bursts")
	dt := float64(endNs-startNs) / 1e9
	now := [2]float64{tx / dt / 1e9, rx / dt / 1e9}
	last := w.netRates(-2 - nic.Index)
	if movedBy(last[0], now[0], netStepGBps) || movedBy(last[1], now[1], netStepGBps) {
		w.put(&Event{Name: "NIC " + nicName(nic) + " GB/s", Ph: "C", Ts: w.us(startNs), Pid: netPid - uint64(host),
			Args: map[string]any{"tx": now[0], "rx": now[1]}})
		last[0], last[1] = now[0], now[1]
	}
}

func nicName(nic *trace.NIC) string {
	if nic.Name != "" {
		return nic.Name
	}
	return strconv.Itoa(nic.Index)
}

// netRates is the last counter values under key, apart from GPU indexes
// (0 and up): a host's link's (math.MinInt+host) or a NIC's (-2-index).
func (w *Writer) netRates(key int) *[4]float64 {
	last := w.rates[key]
	if last == nil {
		last = &[4]float64{-1, -1, -1, -1}
		w.rates[key] = last
	}
	return last
}

func movedBy(a, b, step float64) bool { return a < 0 || b-a > step || a-b > step }

// LinkBurst implements correlate.LinkSink: a slice on the network track.
func (w *Writer) LinkBurst(b *correlate.Burst) {
	w.nameNet(b.Host, 0, "bursts")
	d := float64(b.EndNs-b.StartNs) / 1e3
	w.put(&Event{Name: "burst: " + b.Label(), Cat: "net-burst", Ph: "X", Ts: w.us(b.StartNs), Dur: &d, Pid: netPid - uint64(b.Host), Tid: 0,
		Args: map[string]any{"tx_bytes": int64(b.TxBytes), "rx_bytes": int64(b.RxBytes),
			"unattributed_tx_bytes": int64(b.UnTx), "peak_GBps": b.PeakBps / 1e9}})
}

// LinkCall implements correlate.LinkSink: a collective's modelled transfer
// on the network, named with its rank, in the first free lane.
func (w *Writer) LinkCall(c *correlate.Call) {
	if c.EndNs <= c.StartNs || c.StartNs == 0 || !c.Executed() {
		return
	}
	host, _ := trace.SplitPid(c.Pid)
	pid := netPid - uint64(host)
	lane := w.lane(pid, c.StartNs, c.EndNs)
	if lane < 0 {
		w.overlap++
		return
	}
	tid := uint64(tidGPU + lane)
	w.nameNet(host, tid, "transfers (modelled) "+strconv.Itoa(lane+1))
	d := float64(c.EndNs-c.StartNs) / 1e3
	w.put(&Event{Name: c.Kind.Op() + " (rank " + rankStr(c.Rank) + ")", Cat: "net", Ph: "X", Ts: w.us(c.StartNs), Dur: &d,
		Pid: pid, Tid: tid, Args: map[string]any{"net_tx_bytes": int64(c.TxBytes), "net_rx_bytes": int64(c.RxBytes),
			"pid": c.Pid, "count": c.Count, "dtype": c.DataType.String(), "payload_bytes": c.Payload}})
}
