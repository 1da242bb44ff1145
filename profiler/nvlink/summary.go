package nvlink

import (
	"fmt"
	"io"
	"sort"

	"github.com/linkprof/linkprof/trace"
)

// busyShare is the share of a GPU's peak link bandwidth above which an
// interval counts as busy.
const busyShare = 0.05

// GPUSummary is one GPU's link traffic over a recording: the report's
// `gpus` entries. Bytes are DATA counters (payload), KiB x 1024.
type GPUSummary struct {
	Index     int     `json:"index"`
	UUID      string  `json:"uuid"`
	Name      string  `json:"name"`
	Simulated bool    `json:"simulated,omitempty"`
	Samples   int     `json:"samples"` // good reads
	Gaps      int     `json:"gaps"`    // failed reads
	SampleHz  float64 `json:"sample_hz"`
	TxBytes   uint64  `json:"tx_bytes"`
	RxBytes   uint64  `json:"rx_bytes"`
	PeakTxBps float64 `json:"peak_tx_bytes_per_s"` // fastest interval
	PeakRxBps float64 `json:"peak_rx_bytes_per_s"`
	MeanTxBps float64 `json:"mean_tx_bytes_per_s"` // over the sampled time
	MeanRxBps float64 `json:"mean_rx_bytes_per_s"`
	// BusyFraction is the share of intervals whose TX or RX rate is above
	// 5% of BusyRefBps: the GPU's peak link bandwidth per direction, or the
	// fastest interval seen when NVML did not report link speeds.
	BusyFraction float64 `json:"busy_fraction"`
	BusyRefBps   float64 `json:"busy_ref_bytes_per_s"`
}

// Summarize summarizes the link samples of a loaded trace.
func Summarize(t *trace.Trace) []GPUSummary {
	return SummarizeSamples(t.GPUs, t.Samples)
}

// SummarizeSamples summarizes samples per GPU, in the order of gpus.
func SummarizeSamples(gpus []trace.GPU, samples []trace.Sample) []GPUSummary {
	byGPU := map[uint32][]trace.Sample{}
	for _, s := range samples {
		byGPU[s.GPU] = append(byGPU[s.GPU], s)
	}
	out := make([]GPUSummary, 0, len(gpus))
	for _, g := range gpus {
		out = append(out, summarizeGPU(g, byGPU[uint32(g.Index)]))
	}
	return out
}

// mid is the best guess of when NVML read the counters.
func mid(s *trace.Sample) int64 { return s.MonoBeforeNs + (s.MonoAfterNs-s.MonoBeforeNs)/2 }

type interval struct{ tx, rx float64 } // bytes/s

func summarizeGPU(g trace.GPU, samples []trace.Sample) GPUSummary {
	sum := GPUSummary{Index: g.Index, UUID: g.UUID, Name: g.Name, Simulated: g.Simulated}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].MonoBeforeNs < samples[j].MonoBeforeNs })
	var first, prev *trace.Sample
	var ivs []interval
	for i := range samples {
		s := &samples[i]
		if !s.OK() {
			sum.Gaps++
			continue
		}
		sum.Samples++
		if prev != nil {
			if dt := float64(mid(s)-mid(prev)) / 1e9; dt > 0 {
				ivs = append(ivs, interval{
					tx: float64((s.DataTxKiB-prev.DataTxKiB)*1024) / dt,
					rx: float64((s.DataRxKiB-prev.DataRxKiB)*1024) / dt,
				})
			}
		} else {
			first = s
		}
		prev = s
	}
	if first == nil || prev == first {
		return sum
	}
	secs := float64(mid(prev)-mid(first)) / 1e9
	sum.TxBytes = (prev.DataTxKiB - first.DataTxKiB) * 1024
	sum.RxBytes = (prev.DataRxKiB - first.DataRxKiB) * 1024
	sum.SampleHz = float64(sum.Samples-1) / secs
	sum.MeanTxBps, sum.MeanRxBps = float64(sum.TxBytes)/secs, float64(sum.RxBytes)/secs
	for _, iv := range ivs {
		sum.PeakTxBps, sum.PeakRxBps = max(sum.PeakTxBps, iv.tx), max(sum.PeakRxBps, iv.rx)
	}
	sum.BusyRefBps = g.PeakLinkBps
	if sum.BusyRefBps <= 0 {
		sum.BusyRefBps = max(sum.PeakTxBps, sum.PeakRxBps)
	}
	busy := 0
	for _, iv := range ivs {
		if max(iv.tx, iv.rx) > busyShare*sum.BusyRefBps {
			busy++
		}
	}
	if len(ivs) > 0 {
		sum.BusyFraction = float64(busy) / float64(len(ivs))
	}
	return sum
}

// WriteText prints the summaries as the text report's NVLink table
// (rates in GB/s; a simulated GPU is starred).
func WriteText(w io.Writer, sums []GPUSummary) error {
	if _, err := fmt.Fprintf(w, "%-4s %-8s %6s %9s %12s %12s %9s %9s %9s %9s %5s\n",
		"GPU", "samples", "gaps", "Hz", "TX GB", "RX GB", "peak TX/s", "peak RX/s", "mean TX/s", "mean RX/s", "busy"); err != nil {
		return err
	}
	for _, s := range sums {
		name := fmt.Sprint(s.Index)
		if s.Simulated {
			name += "*"
		}
		if _, err := fmt.Fprintf(w, "%-4s %-8d %6d %9.1f %12.3f %12.3f %9.1f %9.1f %9.2f %9.2f %4.0f%%\n",
			name, s.Samples, s.Gaps, s.SampleHz, float64(s.TxBytes)/1e9, float64(s.RxBytes)/1e9,
			s.PeakTxBps/1e9, s.PeakRxBps/1e9, s.MeanTxBps/1e9, s.MeanRxBps/1e9, 100*s.BusyFraction); err != nil {
			return err
		}
	}
	for _, s := range sums {
		if s.Simulated {
			_, err := fmt.Fprintln(w, "* simulated link (linkprof demo), not hardware")
			return err
		}
	}
	return nil
}
