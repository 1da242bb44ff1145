package pipeline

import (
	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// The network link's results (correlate.LinkSink) and the NICs' own
// intervals (correlate.NICSink) reach the sinks that want them.

func (t tee) LinkCall(c *correlate.Call) {
	for _, s := range t {
		if ls, ok := s.(correlate.LinkSink); ok {
			ls.LinkCall(c)
		}
	}
}

func (t tee) LinkInterval(iv *correlate.Interval) {
	for _, s := range t {
		if ls, ok := s.(correlate.LinkSink); ok {
			ls.LinkInterval(iv)
		}
	}
}

func (t tee) LinkBurst(b *correlate.Burst) {
	for _, s := range t {
		if ls, ok := s.(correlate.LinkSink); ok {
			ls.LinkBurst(b)
		}
	}
}

func (l *locked) LinkCall(c *correlate.Call) {
	if ls, ok := l.s.(correlate.LinkSink); ok {
		l.mu.Lock()
		ls.LinkCall(c)
		l.mu.Unlock()
	}
}

func (l *locked) LinkInterval(iv *correlate.Interval) {
	if ls, ok := l.s.(correlate.LinkSink); ok {
		l.mu.Lock()
		ls.LinkInterval(iv)
		l.mu.Unlock()
	}
}

func (l *locked) LinkBurst(b *correlate.Burst) {
	if ls, ok := l.s.(correlate.LinkSink); ok {
		l.mu.Lock()
		ls.LinkBurst(b)
		l.mu.Unlock()
	}
}

// NICInterval reaches the shared sink from the goroutine that reads the
// trace.
func (l *locked) NICInterval(nic *trace.NIC, startNs, endNs int64, tx, rx float64) {
	if ns, ok := l.s.(correlate.NICSink); ok {
		l.mu.Lock()
		ns.NICInterval(nic, startNs, endNs, tx, rx)
		l.mu.Unlock()
	}
}

func (t arrivalTee) NICInterval(nic *trace.NIC, startNs, endNs int64, tx, rx float64) {
	for _, s := range t {
		if ns, ok := s.(correlate.NICSink); ok {
			ns.NICInterval(nic, startNs, endNs, tx, rx)
		}
	}
}
