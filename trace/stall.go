package trace

// Stall is the recorder's report of a collective that stopped making
// progress (docs/stragglers.md). It is written when the stall is detected
// and again, with the same ID, when it ends or the recording stops (EndNs
// set): the last record of an ID wins.
type Stall struct {
	ID int `json:"id"`
	// Kind is "missing-ranks" (some ranks entered the collective, others
	// did not) or "no-progress" (every rank entered it, the links stayed
	// flat and no rank called another collective on the communicator).
	Kind         string      `json:"kind"`
	MonoNs       int64       `json:"mono_ns"`  // when it was detected
	SinceNs      int64       `json:"since_ns"` // the first arrival (missing-ranks), the last (no-progress)
	Comm         string      `json:"comm"`     // the communicator across processes: "2-rank #1"
	NRanks       int         `json:"nranks"`
	Seq          uint64      `json:"seq"` // per-communicator sequence number, from 0
	Op           string      `json:"op"`
	DataType     string      `json:"dtype"`
	Count        uint64      `json:"count"`
	PayloadBytes uint64      `json:"payload_bytes"`
	Arrived      []StallRank `json:"arrived"`
	Missing      []StallRank `json:"missing"`
	// LinksFlatNs is how long the links of the communicator's GPUs had
	// moved nothing when it was detected; -1 when they are not sampled.
	LinksFlatNs int64 `json:"links_flat_ns"`
	// EndNs is when it ended, 0 while it lasts; End says how: "arrived"
	// (the missing ranks entered it), "progress" (links moved or a new
	// collective began), "forgotten" (4096 collectives behind), or
	// "recording-stopped".
	EndNs int64  `json:"end_ns,omitempty"`
	End   string `json:"end,omitempty"`
}

// StallRank is one rank of a stalled collective.
type StallRank struct {
	Rank      int    `json:"rank"`
	Pid       uint32 `json:"pid"`
	GPU       int    `json:"gpu"`                  // -1 unknown
	ArrivedNs int64  `json:"arrived_ns,omitempty"` // when it entered the stalled collective
	// Its last collective on the communicator: sequence number (-1 none),
	// op and when it was entered.
	LastSeq int64  `json:"last_seq"`
	LastOp  string `json:"last_op,omitempty"`
	LastNs  int64  `json:"last_ns,omitempty"`
}
