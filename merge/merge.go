// Package merge makes one recording of a job from the recordings of its
// hosts (linkprof merge): one recorder per host, or per process group,
// each with its own monotonic clock, pids and GPU numbers. Communicators
// are matched across recordings by their NCCL unique id (else by size and
// creation order; those created before the recorders attached by their
// sequence of calls, sequence.go), each host's clock is placed on the
// first one's from the collectives they share (align.go), and every pid,
// GPU and time is qualified by its host (trace/host.go) into one merged
// trace, which the one analysis (pipeline) then reads like any recording:
// one report, profile and timeline, with collectives matched across hosts.
package merge

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/linkprof/linkprof/trace"
)

// Clock rules: how a host's monotonic clock is placed on the reference's
// (align.go).
const (
	// ClockAuto takes the wall clocks where they agree with the
	// collectives within AutoWallNs, else the collectives: the default.
	ClockAuto        = "auto"
	ClockCollectives = "collectives" // the median difference of the collectives the hosts share
	ClockWall        = "wall"        // the hosts' wall clocks (synchronized by NTP or PTP)
)

// AutoWallNs is how far the wall clocks may place a host from where the
// collectives do and still be taken by ClockAuto: wall clocks further
// apart than this are not synchronized, while a synchronous job's ranks
// are seldom this late for most of its collectives.
const AutoWallNs = 10_000_000

// Options says what to merge.
type Options struct {
	Dirs  []string // the recordings; the first one's clock is the reference
	Clock string   // ClockAuto (or empty), ClockCollectives or ClockWall
	Out   string   // the merged recording folder
	Force bool     // write into a folder that is not empty
	Args  []string // the command line, for the merged Start record
}

// Merge writes the merged trace into opts.Out and returns its hosts.
func Merge(opts Options) ([]trace.Host, error) {
	if err := checkDirs(opts); err != nil {
		return nil, err
	}
	recs := make([]*recording, len(opts.Dirs))
	for i, dir := range opts.Dirs {
		r, err := scan(dir)
		if err != nil {
			return nil, err
		}
		recs[i] = r
	}
	hosts := newHosts(recs)
	matchAttached(hosts)
	if err := alignHosts(hosts, cmp.Or(opts.Clock, ClockAuto)); err != nil {
		return nil, err
	}
	if err := write(opts, hosts); err != nil {
		return nil, err
	}
	out := make([]trace.Host, len(hosts))
	for i, h := range hosts {
		out[i] = *h.info
	}
	return out, nil
}

// checkDirs refuses what cannot be merged before anything is read.
func checkDirs(opts Options) error {
	switch opts.Clock {
	case "", ClockAuto, ClockCollectives, ClockWall:
	default:
		return fmt.Errorf("unknown clock rule %q (auto, collectives or wall)", opts.Clock)
	}
	if len(opts.Dirs) < 2 {
		return errors.New("merge needs two recordings or more")
	}
	if len(opts.Dirs) > trace.MaxHosts {
		return fmt.Errorf("merge takes at most %d recordings, got %d", trace.MaxHosts, len(opts.Dirs))
	}
	seen := map[string]string{}
	out, _ := filepath.Abs(opts.Out)
	for _, dir := range opts.Dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if prev, ok := seen[abs]; ok {
			return fmt.Errorf("%s is given twice (as %s and %s): merge each recording once", abs, prev, dir)
		}
		seen[abs] = dir
		if abs == out {
			return fmt.Errorf("the output folder %s is one of the recordings: give merge a new folder with -o", dir)
		}
	}
	return trace.CheckDir(opts.Out, opts.Force)
}

// newHosts names the hosts (a name twice gets "#2") and numbers their
// GPUs one after the other.
func newHosts(recs []*recording) []*host {
	hosts := make([]*host, len(recs))
	taken, base := map[string]bool{}, 0
	for i, r := range recs {
		own := r.start.Host
		if own == "" {
			own = filepath.Base(filepath.Clean(r.dir))
		}
		name := own
		for n := 2; taken[name]; n++ { // "#2" may be another recording's own name
			name = fmt.Sprintf("%s#%d", own, n)
		}
		taken[name] = true
		info := &trace.Host{Name: name, Folder: r.dir, Index: i, GPUBase: base, GPUs: r.gpus,
			Truncated: r.stop == nil}
		base += r.gpus
		hosts[i] = &host{idx: i, rec: r, info: info, align: &alignment{}, ref: &recs[0].clocks}
	}
	return hosts
}

// write streams every host's records, merged by time, into the merged
// trace: one Start first, the processes nothing described, then the data,
// then one Stop when every host stopped cleanly.
func write(opts Options, hosts []*host) (err error) {
	_, statErr := os.Lstat(opts.Out)
	w, err := trace.Create(opts.Out, opts.Force)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := w.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing merged trace: %w", cerr)
		}
		if err != nil {
			os.Remove(filepath.Join(opts.Out, trace.FileName))
			if os.IsNotExist(statErr) {
				os.Remove(opts.Out) // made here, and empty again
			}
		}
	}()
	if err := w.WriteJSON(trace.RecStart, mergedStart(hosts, opts.Args)); err != nil {
		return err
	}
	for _, h := range hosts {
		for _, n := range h.notes {
			n.MonoNs = h.mono(h.rec.start.Clock.MonoNs)
			if err := w.WriteJSON(trace.RecNote, n); err != nil {
				return err
			}
		}
	}
	for _, h := range hosts {
		for _, pid := range slices.Sorted(maps.Keys(h.rec.placed)) {
			if !h.rec.hasProc[pid] {
				if err := w.WriteJSON(trace.RecProcess, h.synthetic(pid, h.rec.placed[pid])); err != nil {
					return err
				}
			}
		}
	}
	m := &merger{w: w, lost: make([]uint64, len(hosts))}
	if err := m.run(hosts); err != nil {
		return err
	}
	if stop := mergedStop(hosts); stop != nil {
		return w.WriteJSON(trace.RecStop, *stop)
	}
	return nil
}
