package profiler

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// loop does the housekeeping until a stop condition and returns its name.
func (r *recorder) loop(ctx context.Context) string {
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	var deadline <-chan time.Time
	if r.cfg.Duration > 0 {
		t := time.NewTimer(r.cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var launchDone <-chan struct{}
	if r.launched != nil {
		launchDone = r.launched.done
	}
	r.status = newStatusLine(r.cfg.Status, r.cfg.StatusTTY, r.cfg.StatusWidth)
	next := newSchedule(time.Now(), r.cfg.Rotate)
	for {
		select {
		case <-ctx.Done():
			return "signal"
		case <-deadline:
			return "duration"
		case <-launchDone:
			return "command-exited"
		case <-r.pumpDone:
			return "error" // events can no longer be read or written
		case now := <-tick.C:
			if r.w.Err() != nil {
				return "error" // e.g. the disk is full: recording on loses everything
			}
			r.followNewTargets()
			if r.reapExited() {
				return "targets-exited"
			}
			r.periodic(now, next)
		}
	}
}

// schedule tracks when each periodic task is next due.
type schedule struct{ flush, rescan, status, clock, stalls, rotate, observe, watch time.Time }

func newSchedule(now time.Time, rotateEvery time.Duration) *schedule {
	return &schedule{flush: now.Add(flushEvery), rescan: now.Add(rescanEvery), status: now, clock: now.Add(clockEvery),
		stalls: now.Add(stallCheckEvery), rotate: now.Add(rotateEvery), observe: now,
		watch: now.Add(watchEvery)}
}

func due(at *time.Time, now time.Time, every time.Duration) bool {
	if now.Before(*at) {
		return false
	}
	*at = now.Add(every)
	return true
}

func (r *recorder) periodic(now time.Time, s *schedule) {
	if due(&s.flush, now, flushEvery) {
		r.writeLost()
		if err := r.w.Flush(); err != nil {
			// The loop stops on the next tick; Record returns the error.
			slog.Debug("flushing trace", "err", err)
		}
	}
	if due(&s.rescan, now, rescanEvery) {
		r.scanAll()
		r.disc.resolveGPUs()
		if r.cfg.All {
			for _, pid := range r.allFiles.PidsMappingNCCL() {
				r.addTarget(pid)
			}
		}
	}
	if due(&s.clock, now, clockEvery) {
		_ = r.w.WriteJSON(trace.RecClock, clock.Read("periodic"))
	}
	if r.stalls != nil && due(&s.stalls, now, stallCheckEvery) {
		r.checkStalls(clock.Mono())
	}
	if r.status != nil && due(&s.status, now, r.status.every()) {
		r.status.print(r.snapshot())
	}
	if r.cfg.Watch && due(&s.watch, now, watchEvery) {
		r.watchNew()
	}
	if due(&s.observe, now, observeEvery) {
		r.observe()
	}
	if r.replay != nil && due(&s.rotate, now, r.cfg.Rotate) {
		r.rotate(now)
	}
}

// followNewTargets picks up processes the fork tracepoint made targets.
func (r *recorder) followNewTargets() {
	for _, pid := range r.probes.Targets() {
		r.mu.Lock()
		known := r.targets[pid]
		r.mu.Unlock()
		if known {
			continue
		}
		if !Alive(pid) {
			// Exited before we looked: reapExited never sees it, so
			// drop it here or it stays in the maps for good.
			r.probes.RemoveTarget(pid)
			continue
		}
		r.addTarget(pid)
		r.requestScan(pid)
	}
}

// reapExited forgets targets that exited and reports whether none are left
// (only when recording attached processes, not a launched command).
func (r *recorder) reapExited() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid := range r.targets {
		if !Alive(pid) {
			delete(r.targets, pid)
			r.probes.RemoveTarget(pid)
		}
	}
	return r.launched == nil && !r.cfg.All && !r.cfg.NoTargetsOK && !r.cfg.Watch && r.seen > 0 && len(r.targets) == 0
}

func (r *recorder) writeLost() {
	n, err := r.probes.Lost()
	if err != nil || n == r.lastLost {
		return
	}
	r.lastLost = n
	_ = r.w.WriteJSON(trace.RecLost, trace.Lost{MonoNs: clock.Mono(), Count: n - r.lostBase})
}

func (r *recorder) startSampler(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	if r.cfg.Sampler == nil {
		close(done)
		return done
	}
	go func() { done <- r.cfg.Sampler.Run(ctx, r.w) }()
	return done
}

// startNICs runs the NIC sampler, if any, until ctx is done.
func (r *recorder) startNICs(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	if r.cfg.NICs == nil {
		close(done)
		return done
	}
	go func() { done <- r.cfg.NICs.Run(ctx, r.w) }()
	return done
}

// finish detaches, drains, and closes the trace with its Stop record.
func (r *recorder) finish(reason string, stopPump chan struct{}, pumpErr <-chan error, samplerDone <-chan error) (*Summary, error) {
	if r.status != nil {
		r.status.print(r.snapshot())
		r.status.end()
	}
	if r.launched != nil && reason != "command-exited" {
		slog.Info("recording stopped; the launched command keeps running", "pid", r.launched.cmd.Process.Pid)
	}
	r.endStalls()
	lost, _ := r.probes.Lost()
	r.observe()
	r.probes.Close() // no new events after this
	slog.Debug("probes detached")
	close(stopPump)
	perr := <-pumpErr
	r.pump.close()
	slog.Debug("events drained")
	if err := <-samplerDone; err != nil {
		slog.Warn("NVLink sampling", "err", err)
	}
	if err := <-r.nicsDone; err != nil {
		slog.Warn("NIC sampling", "err", err)
	}
	sum := r.summary(reason, lost)
	stop := trace.Stop{Clock: clock.Read("stop"), Reason: reason, Events: sum.Events, Lost: lost - r.lostBase, ExitStatus: sum.ExitStatus}
	if r.replay != nil {
		stop.Events = r.w.Events() // this folder's
	}
	if perr != nil {
		stop.Error = perr.Error()
	}
	_ = r.w.WriteJSON(trace.RecLost, trace.Lost{MonoNs: stop.Clock.MonoNs, Count: stop.Lost})
	_ = r.w.WriteJSON(trace.RecStop, stop)
	if err := r.w.Close(); err != nil {
		return sum, err
	}
	return sum, perr
}

func (r *recorder) summary(reason string, lost uint64) *Summary {
	s := &Summary{Dir: r.dir, Reason: reason, Lost: lost, ByKind: map[trace.Kind]uint64{},
		Duration: time.Duration(clock.Mono() - r.started), Events: r.pump.total.Load()}
	for _, k := range trace.Kinds() {
		if n := r.pump.count(k); n > 0 && k != trace.LibraryLoad {
			s.ByKind[k] = n
		}
	}
	r.disc.mu.Lock()
	s.Processes = len(r.disc.procs)
	r.disc.mu.Unlock()
	s.NCCLProcs = r.disc.ncclProcesses()
	if r.launched != nil && reason == "command-exited" {
		code := r.launched.exitStatus()
		s.ExitStatus = &code
	}
	return s
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
