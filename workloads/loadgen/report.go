package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// Report is the JSON written by linkprof workload run -o.
type Report struct {
	Card        string     `json:"card"`
	URL         string     `json:"url"`
	Model       string     `json:"model"`
	Mode        string     `json:"mode"` // static | replay
	Batch       int        `json:"batch"`
	Date        time.Time  `json:"date"`
	Interrupted bool       `json:"interrupted"`
	Burst       *BurstInfo `json:"burst,omitempty"`
	Summary     Summary    `json:"summary"`
	Requests    []Result   `json:"requests"`
}

// BurstInfo records which part of which BurstGPT file was replayed.
type BurstInfo struct {
	File   string     `json:"file"`
	Window Window     `json:"window"`
	Stats  BurstStats `json:"stats"`
	// LateP99 is the 99th percentile of how late requests were sent
	// against their schedule, in ms (slots full, or the client behind).
	LateP99 float64 `json:"late_p99_ms"`
	LateMax float64 `json:"late_max_ms"`
}

// Lateness fills the send-lateness figures of a replay.
func (b *BurstInfo) Lateness(results []Result) {
	var late []float64
	for _, r := range results {
		late = append(late, float64(max(r.Sent-r.Scheduled, 0))/float64(time.Millisecond))
	}
	if len(late) == 0 {
		return
	}
	slices.Sort(late)
	b.LateP99, b.LateMax = percentile(late, 99), late[len(late)-1]
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	slices.SortFunc(r.Requests, func(a, b Result) int { return a.ID - b.ID })
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding results: %w", err)
	}
	// As the sudo caller when linkprof runs under sudo, never through a link.
	if err := trace.WriteFile(filepath.Dir(path), filepath.Base(path), append(data, '\n'), true); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}

// WriteTable prints the summary the way vLLM's bench serve does.
func (s *Summary) WriteTable(w io.Writer) {
	row := func(label string, v any) {
		switch v := v.(type) {
		case float64:
			fmt.Fprintf(w, "%-40s %.2f\n", label, v)
		default:
			fmt.Fprintf(w, "%-40s %v\n", label, v)
		}
	}
	title := func(t, fill string) {
		pad := max(50-len(t), 0)
		fmt.Fprintln(w, strings.Repeat(fill, pad/2)+t+strings.Repeat(fill, pad-pad/2))
	}
	title(" Serving Benchmark Result ", "=")
	row("Successful requests:", s.Completed)
	row("Failed requests:", s.Failed)
	for _, k := range sortedKeys(s.Failures) {
		row("  "+k+":", s.Failures[k])
	}
	if s.Cancelled > 0 {
		row("Cancelled requests:", s.Cancelled)
	}
	row("Maximum request concurrency:", s.MaxConcurrency)
	row("Benchmark duration (s):", s.Duration)
	row("Total input tokens:", s.TotalInputTokens)
	row("Total generated tokens:", s.TotalOutputTokens)
	row("Request throughput (req/s):", s.RequestThroughput)
	row("Output token throughput (tok/s):", s.OutputThroughput)
	row("Total Token throughput (tok/s):", s.TotalTokenThroughput)
	for _, d := range []struct {
		title, short string
		d            Dist
	}{
		{"Time to First Token", "TTFT", s.TTFT},
		{"Time per Output Token (excl. 1st token)", "TPOT", s.TPOT},
		{"Inter-token Latency", "ITL", s.ITL},
		{"End-to-end Latency", "E2EL", s.E2EL},
	} {
		title(d.title, "-")
		row("Mean "+d.short+" (ms):", d.d.Mean)
		row("Median "+d.short+" (ms):", d.d.Median)
		row("P99 "+d.short+" (ms):", d.d.P99)
	}
	fmt.Fprintln(w, strings.Repeat("=", 50))
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
