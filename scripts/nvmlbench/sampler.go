package main

import (
	"context"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/profiler/nvlink"
	"github.com/linkprof/linkprof/trace"
)

// sampler runs the linkprof sampler with cfg for dur.
func sampler(lib nvml.Interface, cfg nvlink.Config, dur time.Duration) (*result, error) {
	s, err := nvlink.Open(lib, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sink := &countSink{perGPU: make([]int, len(cfg.GPUs))}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	cpu0, start := cpuNow(), time.Now()
	if err := s.RunTo(ctx, sink); err != nil {
		return nil, err
	}
	return &result{Reads: sink.perGPU, Lat: sink.lat, Secs: time.Since(start).Seconds(), CPUSec: (cpuNow() - cpu0).Seconds()}, nil
}

// countSink counts good samples and keeps each call's latency.
type countSink struct {
	mu     sync.Mutex
	perGPU []int
	lat    []int64
}

func (c *countSink) WriteSamples(s ...trace.Sample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range s {
		if x.OK() {
			c.perGPU[x.GPU]++
			c.lat = append(c.lat, x.MonoAfterNs-x.MonoBeforeNs)
		}
	}
	return nil
}

func (c *countSink) WriteJSON(trace.RecordType, any) error   { return nil }
func (c *countSink) WriteRaw(trace.RecordType, []byte) error { return nil }
