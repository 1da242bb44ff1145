package report

import (
	"cmp"
	"slices"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/trace"
)

// PathRow is one row of report.json paths: the calls of one op on one path
// (NCCL, vLLM's custom all-reduce, torch symmetric memory...) with
// communicators of one size, and payloads in one size bucket
// (docs/attribution.md, "Paths").
type PathRow struct {
	// Collective is what the op does whatever its path (AllReduce for
	// CustomAllReduce and SymmMemTwoShotAllReduce): rows of one
	// collective, size and bucket are the paths that size took.
	Collective string `json:"collective"`
	Path       string `json:"path"`
	Op         string `json:"op"`
	NRanks     int    `json:"nranks"`
	// SizeBucket names the payloads' range, [MinBytes, MaxBytes): the
	// profile's size_bucket label. MaxBytes is 0 past 2^63.
	SizeBucket string `json:"size_bucket"`
	MinBytes   uint64 `json:"min_bytes"`
	MaxBytes   uint64 `json:"max_bytes"`
	Traffic
	Incomplete uint64 `json:"incomplete"`
	// GPUs is how many GPUs the row's calls ran on; BusyNs, summed over
	// them, the time at least one of the row's calls was moving bytes on
	// each (modelled, at the sample period's resolution).
	GPUs   int   `json:"gpus"`
	BusyNs int64 `json:"busy_ns"`
	// Rates while busy, per GPU: link bytes (the achieved link rate) and
	// payload (nccl-tests' algbw) over BusyNs; 0 without busy time.
	TxBytesPerS      float64 `json:"tx_bytes_per_s"`
	RxBytesPerS      float64 `json:"rx_bytes_per_s"`
	PayloadBytesPerS float64 `json:"payload_bytes_per_s"`
	// ShareOfSize is the row's calls over every path's calls of its
	// collective, communicator size and bucket; ShareOfOp, over its op's
	// calls of every size.
	ShareOfSize float64 `json:"share_of_size"`
	ShareOfOp   float64 `json:"share_of_op"`
}

// pathKey is one row's calls on one GPU: the busy time is a union per GPU.
type pathKey struct {
	kind   trace.Kind // Bcast counted as Broadcast
	nranks int
	bucket uint64 // the payload's units.Bucket, by its low bound
	gpu    int
}

type pathTally struct {
	tally
	incomplete uint64
	busy       spanUnion
}

// addPath counts a call that ran in its path row.
func (a *Aggregator) addPath(c *correlate.Call) {
	kind := c.Kind
	if kind == trace.Bcast {
		kind = trace.Broadcast
	}
	k := pathKey{kind, c.NRanks, units.BucketOf(c.Payload).Low, c.GPU}
	t := a.lastPath
	if t == nil || k != a.lastPathKey {
		if t = a.paths[k]; t == nil {
			t = &pathTally{}
			a.paths[k] = t
		}
		a.lastPath, a.lastPathKey = t, k
	}
	t.add(c)
	if !c.Complete && c.ExpTx+c.ExpRx > 0 {
		t.incomplete++
	}
	// A call that moved nothing (a send to itself in a group, whose launch
	// did move bytes) was not busy on the link.
	if c.GPU >= 0 && c.TxBytes+c.RxBytes > 0 {
		t.busy.add(c.StartNs, c.EndNs)
	}
}

func (a *Aggregator) mergePaths(o *Aggregator) {
	for k, ot := range o.paths {
		t := a.paths[k]
		if t == nil {
			t = &pathTally{}
			a.paths[k] = t
		}
		t.merge(&ot.tally)
		t.incomplete += ot.incomplete
		t.busy.merge(&ot.busy)
	}
}

// rowKey is a path row: a pathKey over every GPU.
type rowKey struct {
	kind   trace.Kind
	nranks int
	bucket uint64
}

// sizeKey is the calls every path took of one collective and size.
type sizeKey struct {
	collective string
	nranks     int
	bucket     uint64
}

// rowTally is a path row's figures summed over its GPUs.
type rowTally struct {
	tally
	incomplete uint64
	gpus       int
	busyNs     int64
}

// pathRows folds the per-GPU tallies into report.json's rows, in the
// order of collectives (as their first kind), communicator size, bucket,
// then kind (NCCL's first).
func pathRows(a *Aggregator) []PathRow {
	sums := map[rowKey]*rowTally{}
	for k, t := range a.paths {
		rk := rowKey{k.kind, k.nranks, k.bucket}
		s := sums[rk]
		if s == nil {
			s = &rowTally{}
			sums[rk] = s
		}
		s.merge(&t.tally)
		s.incomplete += t.incomplete
		if k.gpu >= 0 {
			s.gpus++
			s.busyNs += t.busy.total()
		}
	}
	sizeCalls, opCalls := map[sizeKey]uint64{}, map[trace.Kind]uint64{}
	keys := make([]rowKey, 0, len(sums))
	for rk, s := range sums {
		sizeCalls[sizeKey{rk.kind.Collective(), rk.nranks, rk.bucket}] += s.calls
		opCalls[rk.kind] += s.calls
		keys = append(keys, rk)
	}
	first := firstKinds()
	slices.SortFunc(keys, func(x, y rowKey) int {
		return cmp.Or(cmp.Compare(first[x.kind.Collective()], first[y.kind.Collective()]), cmp.Compare(x.nranks, y.nranks),
			cmp.Compare(x.bucket, y.bucket), cmp.Compare(x.kind, y.kind))
	})
	out := make([]PathRow, len(keys))
	for i, rk := range keys {
		s := sums[rk]
		out[i] = newPathRow(rk, s)
		out[i].ShareOfSize = share(s.calls, sizeCalls[sizeKey{rk.kind.Collective(), rk.nranks, rk.bucket}])
		out[i].ShareOfOp = share(s.calls, opCalls[rk.kind])
	}
	return out
}

// newPathRow is a row's figures but its shares. Rates are per GPU: bytes
// and busy time are both summed over the GPUs.
func newPathRow(k rowKey, s *rowTally) PathRow {
	b := units.BucketOf(k.bucket)
	r := PathRow{Collective: k.kind.Collective(), Path: k.kind.Path(), Op: correlate.OpName(k.kind), NRanks: k.nranks,
		SizeBucket: b.String(), MinBytes: b.Low, MaxBytes: b.High, Traffic: s.traffic(), Incomplete: s.incomplete,
		GPUs: s.gpus, BusyNs: s.busyNs}
	if sec := float64(s.busyNs) / 1e9; sec > 0 {
		r.TxBytesPerS, r.RxBytesPerS, r.PayloadBytesPerS = s.tx/sec, s.rx/sec, float64(s.payload)/sec
	}
	return r
}

// firstKinds orders collectives by the first kind that does each, so
// NCCL's ops keep their order and MoE dispatch and combine come after.
func firstKinds() map[string]trace.Kind {
	first := map[string]trace.Kind{}
	for _, k := range trace.Kinds() {
		if c := k.Collective(); c != "" {
			if _, ok := first[c]; !ok {
				first[c] = k
			}
		}
	}
	return first
}

// opKinds maps an op's name (report.json ops[].op) to its kind.
func opKinds() map[string]trace.Kind {
	out := map[string]trace.Kind{}
	for _, k := range trace.Kinds() {
		if _, ok := out[correlate.OpName(k)]; !ok {
			out[correlate.OpName(k)] = k
		}
	}
	return out
}

func share(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}
