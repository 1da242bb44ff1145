package report

import (
	"fmt"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// writePaths is the path table: for each collective, communicator size
// and payload size, the paths its calls took, how often, and how fast the
// link and the payload went while they ran.
func writePaths(p func(string, ...any), r *Report) {
	if len(r.Paths) == 0 {
		return
	}
	p("paths: which path each collective took, by payload size\n")
	p("collective\tranks\tsize\tpath\top\tcalls\tof size\tnvlink tx\tbusy/gpu\tlink GB/s\tpayload GB/s\t\n")
	for _, row := range r.Paths {
		p("%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", row.Collective, row.NRanks, row.SizeBucket, row.Path, row.Op, row.Calls,
			fraction(row.ShareOfSize), bytesStr(row.TxBytes), perGPU(row.BusyNs, row.GPUs), gbps(max(row.TxBytesPerS, row.RxBytesPerS), row.BusyNs),
			gbps(row.PayloadBytesPerS, row.BusyNs))
	}
	p("size: payload per call, from the first bound up to, not including, the second (vLLM sends size < limit to the smaller path)\n")
	p("busy: time the row's calls moved bytes on a GPU (modelled, to the sample period), mean per GPU; GB/s: per GPU while busy,\n")
	p("link: tx or rx, the larger; compare paths by payload GB/s (nccl-tests' algbw): they move different link bytes per payload\n")
	p("calls shorter than a sample period get the rate of the sample intervals they ran in: with idle link between them, it reads low\n")
	if n := launchesOutside(r); n > 0 {
		p("not in the table: %d launches of CUDA graphs captured before the recording, whose collectives are unknown (record from start-up)\n", n)
	}
	p("\n")
}

// launchesOutside counts the CUDAGraph op's calls, which no path row has.
func launchesOutside(r *Report) uint64 {
	for _, o := range r.Ops {
		if o.Op == correlate.OpName(trace.GraphLaunch) {
			return o.Calls
		}
	}
	return 0
}

func fraction(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func perGPU(ns int64, gpus int) string {
	if gpus == 0 {
		return "-"
	}
	return dur(ns / int64(gpus))
}

// gbps is a rate in decimal GB/s, as NVLink's bandwidth is quoted.
func gbps(bytesPerS float64, busyNs int64) string {
	if busyNs <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", bytesPerS/1e9)
}
