package profiler

import (
	"log/slog"
	"time"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// StopRotated is the Stop reason of a folder a continuous recording closed
// to go on in the next.
const StopRotated = "rotated"

// firstDir is where the recording begins: Config.Dir, or with Rotate its
// first timestamped folder under Config.Dir.
func firstDir(cfg Config, now time.Time) string {
	if cfg.Rotate > 0 {
		return trace.RotatedDir(cfg.Dir, now)
	}
	return cfg.Dir
}

// pruneFor makes room for one more folder under a continuous recording's
// parent (Config.Keep): a disk bound that holds even when a folder's
// analysis lags behind (it is then removed unanalysed). open, the folder
// being written ("" none), is never removed.
func pruneFor(cfg Config, open string) {
	if cfg.Rotate <= 0 || cfg.Keep <= 0 {
		return
	}
	removed, err := trace.PruneRotated(cfg.Dir, cfg.Keep-1, open)
	if err != nil {
		slog.Warn("continuous mode: removing old folders", "err", err)
	}
	for _, dir := range removed {
		slog.Debug("removed an old folder", "dir", dir)
	}
}

// startRotation keeps what each new folder must begin with (Config.Rotate
// > 0), before events and samples flow.
func (r *recorder) startRotation() {
	if r.cfg.Rotate <= 0 {
		return
	}
	r.replay = newReplay()
	r.w.TapRecords(r.replay.record)
	r.w.TapSamples(r.replay.sample)
}

// rotate closes the current folder and goes on in a new one: the probes
// stay attached and the pump keeps writing through the same writer, which
// switches files under its lock. The closed folder goes to
// Config.OnRotate. On failure (the new folder cannot be made) the
// recording goes on in the current folder and the next period tries again.
func (r *recorder) rotate(now time.Time) {
	next := trace.RotatedDir(r.cfg.Dir, now)
	pruneFor(r.cfg, r.dir)
	r.replay.forget(Alive)
	lost, _ := r.probes.Lost()
	lostHere := lost - r.lostBase
	start := r.startRecord()
	switched, err := r.w.Rotate(next, trace.Rotation{
		Tail: func(events uint64) []trace.Frame {
			stop := trace.Stop{Clock: clock.Read("stop"), Reason: StopRotated, Events: events, Lost: lostHere}
			lostRec, _ := trace.JSONFrame(trace.RecLost, trace.Lost{MonoNs: stop.Clock.MonoNs, Count: lostHere})
			stopRec, _ := trace.JSONFrame(trace.RecStop, stop)
			return []trace.Frame{lostRec, stopRec}
		},
		Head: func() ([]trace.Frame, []trace.Sample) { return r.replay.head(start) },
	})
	if !switched {
		slog.Warn("continuous mode: starting the next folder; recording goes on in the current one", "dir", next, "err", err)
		return
	}
	if err != nil {
		slog.Warn("continuous mode: closing the folder", "dir", r.dir, "err", err)
	}
	closed := r.dir
	r.dir, r.lostBase, r.lastLost = next, lost, lost
	slog.Debug("rotated", "closed", closed, "next", next)
	if r.cfg.OnRotate != nil {
		r.cfg.OnRotate(closed)
	}
}

// startRecord is a folder's Start record, read now.
func (r *recorder) startRecord() trace.Start {
	return trace.Start{Tool: "linkprof", Host: hostname(), Kernel: kernelRelease(), Args: r.cfg.Args,
		Clock: clock.Read("start"), Simulated: r.cfg.Simulated, Workload: r.cfg.Workload}
}
