package profiler

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// OnStallLog is the file in the recording folder that receives the
// --on-stall command's output.
const OnStallLog = "on-stall.log"

// startStallWatch sets up live stall detection before events and samples
// flow (Config.StallAfter > 0).
func (r *recorder) startStallWatch() {
	if r.cfg.StallAfter <= 0 {
		return
	}
	r.stalls = newStallWatch(r.cfg.StallAfter)
	r.w.TapSamples(r.stalls.sample)
	r.w.TapRecords(r.stalls.record)
}

// checkStalls writes what the watch found, warns, and runs --on-stall at
// the first stall.
func (r *recorder) checkStalls(now int64) {
	for _, s := range r.stalls.check(now) {
		r.writeStall(s)
		if s.EndNs != 0 {
			slog.Info("stall ended", "id", s.ID, "how", s.End, "comm", s.Comm, "seq", s.Seq)
			continue
		}
		slog.Warn(describeStall(&s, now), "id", s.ID, "kind", s.Kind)
		if r.cfg.OnStall != "" && !r.ranOnStall {
			r.ranOnStall = true
			r.runOnStall(s)
		}
	}
}

// endStalls closes the stalls still open when the recording stops.
func (r *recorder) endStalls() {
	if r.stalls == nil {
		return
	}
	for _, s := range r.stalls.stop(clock.Mono()) {
		r.writeStall(s)
	}
}

func (r *recorder) writeStall(s trace.Stall) {
	if err := r.w.WriteJSON(trace.RecStall, s); err != nil {
		slog.Debug("writing stall record", "err", err)
	}
}

// runOnStall runs the --on-stall command once, in the background, its
// output in DIR/on-stall.log (made as the folder's other files are: by
// the sudo caller, never through a link); the stall is described in its
// environment (LINKPROF_STALL_*). Recording goes on.
func (r *recorder) runOnStall(s trace.Stall) {
	log, err := trace.CreateFile(r.dir, OnStallLog, true)
	if err != nil {
		slog.Warn("--on-stall: opening its log", "err", err)
		return
	}
	cmd := exec.Command("/bin/sh", "-c", r.cfg.OnStall)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), stallEnv(s)...)
	err = cmd.Start()
	log.Close() // the child has its own copy
	if err != nil {
		slog.Warn("--on-stall: starting", "cmd", r.cfg.OnStall, "err", err)
		return
	}
	slog.Info("--on-stall started", "cmd", r.cfg.OnStall, "pid", cmd.Process.Pid, "log", filepath.Join(r.dir, OnStallLog))
	go func() { _ = cmd.Wait() }()
}

// stallEnv describes a stall to the --on-stall command.
func stallEnv(s trace.Stall) []string {
	pids := func(rs []trace.StallRank) string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprint(r.Pid))
		}
		return strings.Join(out, " ")
	}
	all := strings.TrimSpace(pids(s.Arrived) + " " + pids(s.Missing))
	return []string{"LINKPROF_STALL_KIND=" + s.Kind, "LINKPROF_STALL_COMM=" + s.Comm, fmt.Sprintf("LINKPROF_STALL_SEQ=%d", s.Seq),
		"LINKPROF_STALL_OP=" + s.Op, "LINKPROF_STALL_PIDS=" + all, "LINKPROF_STALL_MISSING_PIDS=" + pids(s.Missing),
		"LINKPROF_STALL_ARRIVED_PIDS=" + pids(s.Arrived)}
}
