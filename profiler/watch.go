package profiler

import (
	"log/slog"
	"time"
)

// watchEvery is how often a watching recorder looks for new processes
// matching --pid-of: a full /proc scan, so not every tick, but well
// within the seconds a torch program takes from its start to creating
// its first communicator (import torch alone takes that long), so that
// creation, which arrivals need, is recorded.
const watchEvery = 250 * time.Millisecond

// matching returns the processes --pid-of matches now: with Watch, none is
// not an error (they may start later).
func (r *recorder) matching() ([]uint32, error) {
	if !r.cfg.Watch {
		return PidsMatching(r.cfg.PidOf)
	}
	if r.pidOf == nil {
		re, err := CompilePidOf(r.cfg.PidOf)
		if err != nil {
			return nil, err
		}
		r.pidOf = re
	}
	pids, err := pidsMatching(r.pidOf)
	if err == nil && len(pids) == 0 {
		slog.Info("no process matches --pid-of yet; watching for one", "pattern", r.cfg.PidOf)
	}
	return pids, err
}

// watchNew makes targets of processes that began matching --pid-of since
// the last look (Watch), with their descendants when following children.
// Known targets are skipped by addTarget's bookkeeping.
func (r *recorder) watchNew() {
	if !r.cfg.Watch || r.pidOf == nil {
		return
	}
	pids, err := pidsMatching(r.pidOf)
	if err != nil {
		slog.Debug("watching for --pid-of processes", "err", err)
		return
	}
	var fresh []uint32
	for _, pid := range pids {
		r.mu.Lock()
		known := r.targets[pid]
		r.mu.Unlock()
		if !known {
			fresh = append(fresh, pid)
		}
	}
	if len(fresh) == 0 {
		return
	}
	slog.Info("--pid-of: new processes", "pids", fresh)
	if r.cfg.Children {
		fresh = append(fresh, Descendants(fresh)...)
	}
	for _, pid := range fresh {
		r.addTarget(pid)
		r.requestScan(pid)
	}
}
