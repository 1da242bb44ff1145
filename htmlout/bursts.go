package htmlout

import "github.com/linkprof/linkprof/report"

// burstSpan marks bursts on a chart. Bursts closer than a bucket merge
// into one span (Count of them), so a GPU has at most about maxBuckets
// spans however many bursts the recording holds.
type burstSpan struct {
	StartNs int64  `json:"start_ns"`
	EndNs   int64  `json:"end_ns"`
	Count   int    `json:"count"`
	Label   string `json:"label"` // the bursts' label; "mixed" when they differ
}

// spans merges one GPU's bursts (list in time order) at the chart's
// resolution.
func spans(list []report.BurstRow, gpu int, width int64) []burstSpan {
	out := []burstSpan{}
	for _, b := range list {
		if b.GPU != gpu {
			continue
		}
		end := b.StartNs + b.DurationNs
		if n := len(out); n > 0 && b.StartNs <= out[n-1].EndNs+width {
			last := &out[n-1]
			last.EndNs = max(last.EndNs, end)
			last.Count++
			if last.Label != b.Label {
				last.Label = "mixed"
			}
			continue
		}
		out = append(out, burstSpan{StartNs: b.StartNs, EndNs: end, Count: 1, Label: b.Label})
	}
	return out
}
