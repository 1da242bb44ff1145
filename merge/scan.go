package merge

import (
	"fmt"
	"io"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/arrivals"
	"github.com/linkprof/linkprof/internal/placement"
	"github.com/linkprof/linkprof/trace"
)

// maxTimes bounds the enqueue times kept per communicator member for the
// clock alignment: a million collectives are far more than a median needs.
const maxTimes = 1 << 20

// commKey names a communicator across recordings as internal/arrivals
// does: its unique id's hash, else (uid 0) its size and its place in each
// process's creation order.
type commKey struct {
	uid     uint64
	nranks  int32
	ordinal int
	// attached numbers (from 1) a communicator created before the
	// recorders attached, matched by its calls (sequence.go).
	attached int
}

// member is one process's handle of a communicator whose creation was
// recorded, and the enqueue time (its host's clock) of each collective it
// made on it, by sequence number.
type member struct {
	comm  commKey
	times []int64
	// first is the communicator's sequence number of times[0]: 0 for a
	// creation seen, the offset found by sequence.go for an attached one.
	first int
}

type handleKey struct {
	pid    uint32
	handle uint64
}

// recording is one host's folder as the first pass read it: what the
// second pass needs to qualify its pids, GPUs and times.
type recording struct {
	dir       string
	start     trace.Start
	stop      *trace.Stop
	truncated bool
	// gpus is one more than the highest GPU index it uses (GPU records,
	// samples, placements); placed is each process's GPU at the end, as
	// internal/placement put it, -1 none.
	gpus    int
	place   *placement.Placement
	placed  map[uint32]int
	hasProc map[uint32]bool // pids with a Process record
	clocks  correlate.Aligner
	pairs   []trace.Clock // the same clock pairs, in file order
	members map[handleKey]*member
	created map[[2]int64]int // creations without an id, per (pid, nranks)
	// attached holds the calls on handles whose creation was not seen
	// (sequence.go); creates, every handle a creation was seen for.
	attached map[handleKey]*attachedComm
	creates  map[handleKey]bool
	lost     uint64
}

// scan reads a recording once.
func scan(dir string) (*recording, error) {
	f, err := trace.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &recording{dir: dir, place: placement.New(), hasProc: map[uint32]bool{},
		members: map[handleKey]*member{}, created: map[[2]int64]int{},
		attached: map[handleKey]*attachedComm{}, creates: map[handleKey]bool{}}
	for {
		rec, err := f.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = r.record(rec)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", dir, err)
		}
	}
	r.truncated = f.Truncated
	r.placed = r.place.Processes()
	for _, g := range r.placed {
		r.gpus = max(r.gpus, g+1)
	}
	return r, nil
}

func (r *recording) record(rec trace.Record) error {
	switch rec.Type {
	case trace.RecEvents:
		return rec.Events(r.event)
	case trace.RecSamples:
		return rec.Samples(func(s trace.Sample) { r.gpus = max(r.gpus, int(s.GPU)+1) })
	case trace.RecLinkSamples:
		return rec.LinkSamples(func(s trace.LinkSample) { r.gpus = max(r.gpus, int(s.GPU)+1) })
	}
	v, ok, err := rec.Meta()
	if err != nil || !ok {
		return err
	}
	switch v := v.(type) {
	case trace.Start:
		r.start = v
		r.clock(v.Clock)
	case trace.Stop:
		r.stop = &v
		r.clock(v.Clock)
	case trace.Clock:
		r.clock(v)
	case trace.Process:
		r.hasProc[v.Pid] = true
		r.place.Process(v)
	case trace.GPU:
		r.gpus = max(r.gpus, v.Index+1)
		r.place.GPU(v)
	case trace.GPMSample:
		r.gpus = max(r.gpus, v.GPU+1)
	case trace.Comm:
		r.created1(v.Pid, v.Handle, v.Rank, v.NRanks, v.CUDADevice)
	case trace.Lost:
		r.lost = v.Count
	}
	return nil
}

func (r *recording) clock(c trace.Clock) {
	if c.WallNs != 0 {
		r.clocks.Add(c)
		r.pairs = append(r.pairs, c)
	}
}

// event numbers each collective call on a communicator whose creation was
// seen, as internal/arrivals does: the calls every rank makes in the same
// order, so the n-th on one rank is the n-th on the others.
func (r *recording) event(ev trace.Event) {
	switch {
	case ev.Kind.IsCommCreate() && ev.Flags&trace.FlagReturn != 0:
		r.created1(ev.Pid, ev.Comm, ev.Rank, ev.NRanks, ev.CommDevice())
		r.creates[handleKey{ev.Pid, ev.Comm}] = true
		r.member(&ev)
	case arrivals.Matchable(ev.Kind):
		k := handleKey{ev.Pid, ev.Comm}
		if m := r.members[k]; m != nil && len(m.times) < maxTimes {
			m.times = append(m.times, int64(ev.TsNs))
		} else if !r.creates[k] {
			r.attachedCall(k, &ev)
		}
	}
}

// created1 places a communicator and its process, as the analysis's
// router does (internal/placement), and counts the GPUs that makes.
func (r *recording) created1(pid uint32, handle uint64, rank, nranks int32, dev *int) {
	r.place.RankGuess(pid, rank, nranks)
	if dev == nil {
		return
	}
	if g, ok := r.place.Comm(pid, handle, *dev); ok {
		r.gpus = max(r.gpus, g+1)
	}
}

// member starts the calls of a communicator created while recording.
func (r *recording) member(ev *trace.Event) {
	if ev.Kind == trace.CommSplit || ev.NRanks < 2 || ev.Ret != 0 {
		return
	}
	k := commKey{uid: ev.CommUniqueID(), nranks: ev.NRanks}
	if k.uid == 0 {
		ord := [2]int64{int64(ev.Pid), int64(ev.NRanks)}
		k.ordinal = r.created[ord]
		r.created[ord]++
	}
	r.members[handleKey{ev.Pid, ev.Comm}] = &member{comm: k}
}
