// Package pipeline is the one way into the analysis: it streams a
// recording folder through correlate (which reads the trace once per pass
// and routes it) into equal sinks, report's aggregator, the pprof builder,
// report.html's rates and the timeline, and writes the outputs into the
// folder.
package pipeline

import (
	"fmt"
	"io"
	"runtime"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/htmlout"
	"github.com/linkprof/linkprof/pprofout"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/timeline"
)

// Outputs is one analysis's results.
type Outputs struct {
	Result  *correlate.Result
	Report  *report.Report
	Profile *profile.Profile
	Rates   *htmlout.Rates // report.html's charts
}

// maxShards bounds the engines Run starts (GPUs are dealt among them).
const maxShards = 8

// Run analyzes dir, GPUs spread over up to GOMAXPROCS engines; tl, when
// not nil, receives the timeline as it streams.
func Run(dir string, opts correlate.Options, tl io.Writer) (*Outputs, error) {
	n := min(runtime.GOMAXPROCS(0), maxShards)
	aggs, pbs, rates := make([]*report.Aggregator, n), make([]*pprofout.Builder, n), make([]*htmlout.Rates, n)
	var tw *timeline.Writer
	var shared *locked
	waits := pprofout.NewBuilder() // the router's, apart from the engines' builders
	if tl != nil {
		tw = timeline.NewWriter(tl, 0)
		shared = &locked{s: tw}
	}
	sinks := make([]correlate.Sink, n)
	for i := range sinks {
		aggs[i], pbs[i], rates[i] = report.NewAggregator(), pprofout.NewBuilder(), htmlout.NewRates()
		t := tee{aggs[i], pbs[i], rates[i]}
		if shared != nil {
			t = append(t, shared)
		}
		sinks[i] = t
	}
	arr := arrivalTee{aggs[0].Arrivals(), waits}
	if shared != nil {
		arr = append(arr, shared)
	}
	res, err := correlate.AnalyzeArrivals(dir, opts, sinks, arr)
	if err != nil {
		return nil, fmt.Errorf("analyzing %s: %w", dir, err)
	}
	agg, pb := aggs[0], pbs[0]
	for i := 1; i < n; i++ {
		agg.Merge(aggs[i])
		pb.Merge(pbs[i])
		rates[0].Merge(rates[i])
	}
	pb.Merge(waits)
	if tw != nil {
		if err := tw.Close(); err != nil {
			return nil, err
		}
	}
	rep := report.Build(res, agg, opts)
	p, err := pb.Profile(res, pprofout.NewSymbolizer(""))
	if err != nil {
		return nil, err
	}
	return &Outputs{Result: res, Report: rep, Profile: p, Rates: rates[0]}, nil
}
