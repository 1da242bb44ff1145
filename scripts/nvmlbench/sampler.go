package main

import (
	"context"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/trace"
)

// startupLimit bounds the wait for every GPU's first sample.
const startupLimit = 30 * time.Second

// sampler runs the linkprof sampler with cfg and counts the reads of a
// window of dur that opens once every GPU gave its first sample: reader
// processes (per-process) start NVML first, which is not the schedule's
// rate; warmup more lets the per-process readers' pacing settle. CPU is
// counted over the same window: this process's and its running children's
// (the reader processes), so their NVML start is not in it.
func sampler(lib nvml.Interface, cfg nvlink.Config, dur, warmup time.Duration) (*result, error) {
	s, err := nvlink.Open(lib, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sink := &countSink{perGPU: make([]int, len(cfg.GPUs)), first: make([]bool, len(cfg.GPUs)), ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cpu, own cpuTime
	go func() {
		select {
		case <-sink.ready:
		case <-time.After(startupLimit):
		case <-ctx.Done():
			return
		}
		time.Sleep(warmup)
		own0, kids0 := cpuNow(), runningChildrenCPU()
		sink.open(dur)
		time.Sleep(dur)
		own = cpuNow().minus(own0)
		cpu = own.plus(runningChildrenCPU().minus(kids0))
		cancel()
	}()
	if err := s.RunTo(ctx, sink); err != nil {
		return nil, err
	}
	r := &result{Reads: sink.perGPU, Lat: sink.lat, Secs: dur.Seconds()}
	r.addCPU(cpu)
	r.OwnSec = (own.user + own.sys).Seconds()
	return r, nil
}

// countSink counts the good samples read within its window and keeps each
// one's call latency.
type countSink struct {
	mu       sync.Mutex
	perGPU   []int
	lat      []int64
	first    []bool // GPU gave a sample
	nfirst   int
	ready    chan struct{} // closed once every GPU gave one
	from, to int64         // the window, monotonic ns; empty until open
}

func (c *countSink) open(dur time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.from = nvlink.SystemClock{}.MonoNs()
	c.to = c.from + dur.Nanoseconds()
}

func (c *countSink) WriteSamples(s ...trace.Sample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range s {
		if !x.OK() {
			continue
		}
		if !c.first[x.GPU] {
			c.first[x.GPU] = true
			if c.nfirst++; c.nfirst == len(c.first) {
				close(c.ready)
			}
		}
		if x.MonoBeforeNs >= c.from && x.MonoBeforeNs < c.to {
			c.perGPU[x.GPU]++
			c.lat = append(c.lat, x.MonoAfterNs-x.MonoBeforeNs)
		}
	}
	return nil
}

func (c *countSink) WriteJSON(trace.RecordType, any) error   { return nil }
func (c *countSink) WriteRaw(trace.RecordType, []byte) error { return nil }
