package report

import (
	"cmp"
	"slices"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/trace"
)

// Stall is one stall the recorder found live (record --stall-after):
// times from the recording's start.
type Stall struct {
	ID           int         `json:"id"`
	Kind         string      `json:"kind"` // missing-ranks, no-progress
	DetectedNs   int64       `json:"detected_ns"`
	SinceNs      int64       `json:"since_ns"`    // first arrival (missing-ranks), last (no-progress)
	DurationNs   int64       `json:"duration_ns"` // from since to its end, or to the recording's end
	End          string      `json:"end"`         // arrived, progress, forgotten, recording-stopped
	Comm         string      `json:"comm"`
	NRanks       int         `json:"nranks"`
	Seq          uint64      `json:"seq"`
	Op           string      `json:"op"`
	DataType     string      `json:"dtype"`
	Count        uint64      `json:"count"`
	PayloadBytes uint64      `json:"payload_bytes"`
	LinksFlatNs  int64       `json:"links_flat_ns"` // at detection; -1 links not sampled
	Arrived      []StallRank `json:"arrived"`
	Missing      []StallRank `json:"missing"`
}

// StallRank is one rank of a stalled collective, times from the start.
type StallRank struct {
	Rank      int    `json:"rank"`
	Pid       uint32 `json:"pid"`
	GPU       int    `json:"gpu"`
	ArrivedNs int64  `json:"arrived_ns,omitempty"` // at the stalled collective
	LastSeq   int64  `json:"last_seq"`             // its last collective on the communicator, -1 none
	LastOp    string `json:"last_op,omitempty"`
	LastNs    int64  `json:"last_ns,omitempty"`
	// LastAgoNs is how long before detection it entered its last one.
	LastAgoNs int64 `json:"last_ago_ns,omitempty"`
}

// stalls keeps the last record of each stall, in order of detection.
func stalls(res *correlate.Result) []Stall {
	start, end := Origin(res), Origin(res)+res.DurationNs()
	last := map[int]trace.Stall{}
	for _, s := range res.Meta.Stalls {
		last[s.ID] = s
	}
	out := []Stall{}
	for _, s := range last {
		st := Stall{ID: s.ID, Kind: s.Kind, DetectedNs: s.MonoNs - start, SinceNs: s.SinceNs - start, End: s.End,
			Comm: s.Comm, NRanks: s.NRanks, Seq: s.Seq, Op: s.Op, DataType: s.DataType, Count: s.Count,
			PayloadBytes: s.PayloadBytes, LinksFlatNs: s.LinksFlatNs,
			Arrived: stallRanks(s.Arrived, start, s.MonoNs), Missing: stallRanks(s.Missing, start, s.MonoNs)}
		stop := s.EndNs
		if stop == 0 {
			stop, st.End = end, cmp.Or(st.End, "recording-stopped")
		}
		st.DurationNs = max(stop-s.SinceNs, 0)
		out = append(out, st)
	}
	slices.SortFunc(out, func(x, y Stall) int { return cmp.Or(cmp.Compare(x.DetectedNs, y.DetectedNs), cmp.Compare(x.ID, y.ID)) })
	return out
}

func stallRanks(rs []trace.StallRank, start, at int64) []StallRank {
	out := make([]StallRank, 0, len(rs))
	for _, r := range rs {
		sr := StallRank{Rank: r.Rank, Pid: r.Pid, GPU: r.GPU, LastSeq: r.LastSeq, LastOp: r.LastOp}
		if r.ArrivedNs > 0 {
			sr.ArrivedNs = r.ArrivedNs - start
		}
		if r.LastNs > 0 {
			sr.LastNs, sr.LastAgoNs = r.LastNs-start, at-r.LastNs
		}
		out = append(out, sr)
	}
	return out
}
