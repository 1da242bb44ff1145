package pipeline

import (
	"sync"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// tee fans the analysis out to several sinks.
type tee []correlate.Sink

func (t tee) Call(c *correlate.Call) {
	for _, s := range t {
		s.Call(c)
	}
}

func (t tee) Interval(iv *correlate.Interval) {
	for _, s := range t {
		s.Interval(iv)
	}
}

func (t tee) Burst(b *correlate.Burst) {
	for _, s := range t {
		s.Burst(b)
	}
}

func (t tee) GraphLaunch(l *correlate.GraphLaunch) {
	for _, s := range t {
		if ls, ok := s.(correlate.LaunchSink); ok {
			ls.GraphLaunch(l)
		}
	}
}

// arrivalTee fans matched collectives out to the sinks that want them.
// The router reads it once, not per engine: the start record reaches the
// shared timeline through it.
type arrivalTee []correlate.ArrivalSink

func (t arrivalTee) Arrival(a *correlate.Arrival) {
	for _, s := range t {
		s.Arrival(a)
	}
}

func (t arrivalTee) Start(st trace.Start) {
	for _, s := range t {
		if ss, ok := s.(correlate.StartSink); ok {
			ss.Start(st)
		}
	}
}

// locked serializes a sink shared by several engines (the timeline: its
// events may come in any order).
type locked struct {
	mu sync.Mutex
	s  correlate.Sink
}

func (l *locked) Call(c *correlate.Call) {
	l.mu.Lock()
	l.s.Call(c)
	l.mu.Unlock()
}

func (l *locked) Interval(iv *correlate.Interval) {
	l.mu.Lock()
	l.s.Interval(iv)
	l.mu.Unlock()
}

func (l *locked) Burst(b *correlate.Burst) {
	l.mu.Lock()
	l.s.Burst(b)
	l.mu.Unlock()
}

func (l *locked) GraphLaunch(gl *correlate.GraphLaunch) {
	ls, ok := l.s.(correlate.LaunchSink)
	if !ok {
		return
	}
	l.mu.Lock()
	ls.GraphLaunch(gl)
	l.mu.Unlock()
}

// Arrival reaches the shared sink from the goroutine that reads the trace.
func (l *locked) Arrival(a *correlate.Arrival) {
	as, ok := l.s.(correlate.ArrivalSink)
	if !ok {
		return
	}
	l.mu.Lock()
	as.Arrival(a)
	l.mu.Unlock()
}

// Start reaches the shared sink through the arrival tee, once.
func (l *locked) Start(st trace.Start) {
	ss, ok := l.s.(correlate.StartSink)
	if !ok {
		return
	}
	l.mu.Lock()
	ss.Start(st)
	l.mu.Unlock()
}
