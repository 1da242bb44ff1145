package loadgen

import (
	"math"
	"slices"
	"time"
)

// Summary is a run's result in the terms (and JSON keys) of vLLM's
// `bench serve`: latencies in milliseconds, throughputs per second of
// benchmark duration (from the first send to the last answer).
type Summary struct {
	Completed            int            `json:"completed"`
	Failed               int            `json:"failed"`
	Cancelled            int            `json:"cancelled"`
	Failures             map[string]int `json:"failures,omitempty"` // by error kind
	ShortOutputs         int            `json:"short_outputs"`      // completed with fewer tokens than max_tokens
	Duration             float64        `json:"duration"`           // seconds
	TotalInputTokens     int            `json:"total_input_tokens"`
	TotalOutputTokens    int            `json:"total_output_tokens"`
	RequestThroughput    float64        `json:"request_throughput"`
	OutputThroughput     float64        `json:"output_throughput"`
	TotalTokenThroughput float64        `json:"total_token_throughput"`
	MaxConcurrency       int            `json:"max_concurrency"` // most requests seen in flight
	TTFT                 Dist           `json:"ttft_ms"`
	TPOT                 Dist           `json:"tpot_ms"`
	ITL                  Dist           `json:"itl_ms"`
	E2EL                 Dist           `json:"e2el_ms"`
}

// Dist summarises latencies in milliseconds. Percentiles interpolate
// linearly between ranks, as numpy.percentile does in vLLM.
type Dist struct {
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	Std    float64 `json:"std"`
	P90    float64 `json:"p90"`
	P99    float64 `json:"p99"`
}

// Summarize computes the summary of a run.
func Summarize(run Run) Summary {
	s := Summary{Failures: map[string]int{}, MaxConcurrency: run.MaxInFlight}
	s.Duration = run.End.Sub(run.Start).Seconds()
	var ttft, tpot, itl, e2e []time.Duration
	for _, r := range run.Results {
		switch {
		case r.ErrKind == ErrCancelled:
			s.Cancelled++
			continue
		case !r.OK():
			s.Failed++
			s.Failures[r.ErrKind]++
			continue
		}
		s.Completed++
		s.TotalInputTokens += r.InputLen
		s.TotalOutputTokens += r.OutputTokens
		if r.OutputTokens < r.MaxTokens {
			s.ShortOutputs++
		}
		ttft = append(ttft, r.TTFT)
		e2e = append(e2e, r.E2E)
		itl = append(itl, r.ITL...)
		if r.OutputTokens > 1 {
			tpot = append(tpot, (r.E2E-r.TTFT)/time.Duration(r.OutputTokens-1))
		}
	}
	if s.Duration > 0 {
		s.RequestThroughput = float64(s.Completed) / s.Duration
		s.OutputThroughput = float64(s.TotalOutputTokens) / s.Duration
		s.TotalTokenThroughput = float64(s.TotalInputTokens+s.TotalOutputTokens) / s.Duration
	}
	s.TTFT, s.TPOT, s.ITL, s.E2EL = dist(ttft), dist(tpot), dist(itl), dist(e2e)
	return s
}

func dist(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	ms := make([]float64, len(ds))
	var sum float64
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
		sum += ms[i]
	}
	slices.Sort(ms)
	mean := sum / float64(len(ms))
	var sq float64
	for _, v := range ms {
		sq += (v - mean) * (v - mean)
	}
	return Dist{
		Mean: mean, Median: percentile(ms, 50), Std: math.Sqrt(sq / float64(len(ms))),
		P90: percentile(ms, 90), P99: percentile(ms, 99),
	}
}

// percentile of sorted values, linear between the closest ranks.
func percentile(sorted []float64, p float64) float64 {
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(rank-float64(lo))
}
