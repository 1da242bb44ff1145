package profiler

import (
	"log/slog"
	"sync"

	"github.com/linkprof/linkprof/trace"
)

// maxReplayedNotes bounds the setup notes carried into each new folder.
const maxReplayedNotes = 64

// replay keeps what a continuous recording's next folder must begin with
// to be analysed on its own: the latest record of every live process,
// probed library, communicator, mapping snapshot and stack, the GPUs, the
// sampled NICs and the sampler's setup (its clock pair and info notes), and each GPU's last
// good sample, so the first counter interval of the new folder starts
// where the old one's last ended (no link byte falls between folders).
// It sees records through the writer's tap, in file order.
type replay struct {
	mu      sync.Mutex
	order   []replayKey
	recs    map[replayKey]replayed
	samples map[uint32]trace.Sample
	notes   int
}

type replayKey struct {
	t    trace.RecordType
	a, b uint64
	text string
}

type replayed struct {
	v   any
	pid uint32 // the process it belongs to; 0: none
}

func newReplay() *replay {
	return &replay{recs: map[replayKey]replayed{}, samples: map[uint32]trace.Sample{}}
}

// record keeps a metadata record that describes lasting state; a newer
// record of the same thing replaces the older in its place.
func (rp *replay) record(t trace.RecordType, v any) {
	key, pid, ok := replayKeyOf(t, v)
	if !ok {
		return
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if _, seen := rp.recs[key]; !seen {
		if t == trace.RecNote {
			if rp.notes >= maxReplayedNotes {
				return
			}
			rp.notes++
		}
		rp.order = append(rp.order, key)
	}
	rp.recs[key] = replayed{v, pid}
}

func replayKeyOf(t trace.RecordType, v any) (replayKey, uint32, bool) {
	switch v := v.(type) {
	case trace.Process:
		return replayKey{t: t, a: uint64(v.Pid)}, v.Pid, true
	case trace.Library:
		return replayKey{t: t, a: uint64(v.Pid), b: v.Inode, text: v.Path}, v.Pid, true
	case trace.Comm:
		return replayKey{t: t, a: uint64(v.Pid), b: v.Handle}, v.Pid, true
	case trace.Mappings:
		return replayKey{t: t, a: uint64(v.Pid)}, v.Pid, true
	case trace.Stack:
		return replayKey{t: t, a: uint64(uint32(v.ID))}, v.Pid, true
	case trace.GPU:
		return replayKey{t: t, a: uint64(v.Index)}, 0, true
	case trace.NIC:
		return replayKey{t: t, a: uint64(v.Index)}, 0, true
	case trace.Clock:
		// The sampler's clock pair: its own clock, which may not be
		// the system's (the demo's simulated link).
		return replayKey{t: t, text: v.Source}, 0, v.Source == "nvml-start"
	case trace.Note:
		return replayKey{t: t, text: v.Text}, 0, v.Level == "info"
	}
	return replayKey{}, 0, false
}

// sample keeps each GPU's last good read.
func (rp *replay) sample(s trace.Sample) {
	if !s.OK() {
		return
	}
	rp.mu.Lock()
	rp.samples[s.GPU] = s
	rp.mu.Unlock()
}

// forget drops what belongs to processes that are gone.
func (rp *replay) forget(alive func(uint32) bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	keep := rp.order[:0]
	for _, k := range rp.order {
		r := rp.recs[k]
		if r.pid != 0 && !alive(r.pid) {
			delete(rp.recs, k)
			continue
		}
		keep = append(keep, k)
	}
	rp.order = keep
}

// head is the beginning of a new folder: start, then the kept records in
// the order they were first written, notes timed at the start, then the
// last samples.
func (rp *replay) head(start trace.Start) ([]trace.Frame, []trace.Sample) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	frames := make([]trace.Frame, 0, len(rp.order)+1)
	add := func(t trace.RecordType, v any) {
		f, err := trace.JSONFrame(t, v)
		if err != nil {
			slog.Debug("replaying a record into the new folder", "err", err)
			return
		}
		frames = append(frames, f)
	}
	add(trace.RecStart, start)
	for _, k := range rp.order {
		v := rp.recs[k].v
		if n, ok := v.(trace.Note); ok {
			n.MonoNs = start.Clock.MonoNs
			v = n
		}
		add(k.t, v)
	}
	samples := make([]trace.Sample, 0, len(rp.samples))
	for _, s := range rp.samples {
		samples = append(samples, s)
	}
	return frames, samples
}
