package pprofout

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/trace"
)

// labels splits a key into string labels (names: op, path, dtype, size
// bucket (units.Bucket: the path table's), communicator, phase, burst: the
// label of the burst the call's bytes landed in, "none" outside bursts;
// link: nvlink, or net for a call's network bytes) and numeric ones
// (numbers: rank, gpu, pid, nranks,
// count, bytes; waited_for, on wait samples: the rank waited for), so `-tagfocus=rank=0` matches the number 0. Unknown
// numbers (-1) are left out rather than written as -1.
func labels(k key, comm string) (map[string][]string, map[string][]int64, map[string][]string) {
	str := map[string][]string{
		"op": {correlate.OpName(k.kind)}, "dtype": {k.dtype.String()}, "size_bucket": {units.BucketOf(k.payload).String()},
		"comm": {comm}, "phase": {k.phase.String()}, "burst": {cmp.Or(k.burst, "none")}, "link": {k.link.String()},
	}
	// The path the collective's bytes took (report.json paths); none for
	// a launch of a graph captured before the recording, whose
	// collectives are unknown.
	if path := k.kind.Path(); path != "" {
		str["path"] = []string{path}
	}
	num := map[string][]int64{"pid": {int64(k.pid)}, "count": {int64(k.count)}, "bytes": {int64(k.payload)}}
	// Every numeric label has a unit: the encoding omits a zero value, and
	// a label with neither value nor unit does not survive a write and
	// read (rank 0 would vanish). Identifiers take their key as unit, as
	// pprof assumes for a label without one; count is in elements of
	// dtype; bytes is one call's payload (-tagfocus=bytes=1MiB: works).
	unit := map[string][]string{"pid": {"pid"}, "count": {"elements"}, "bytes": {"bytes"}}
	for name, v := range map[string]int{"rank": k.rank, "gpu": k.gpu, "nranks": k.nranks, "waited_for": k.waitFor - 1} {
		if v >= 0 && (name != "nranks" || v > 0) {
			num[name], unit[name] = []int64{int64(v)}, []string{name}
		}
	}
	return str, num, unit
}

// commNames names communicators by what is the same in every run of a
// workload: the rank in it and its size ("r0/2"). A process with several
// communicators of one rank and size numbers them in creation order
// ("r0/2#1", "r0/2#2"); handles never recorded at creation (linkprof
// attached late) come after, in the order their calls were first seen.
type commNames map[[2]uint64]string // (pid, handle) -> name

func newCommNames(created []trace.Comm, order []key) commNames {
	type comm struct {
		pid, handle   uint64
		rank, nranks  int
		createdAt, at int // index among creations (len if never seen), first use
	}
	birth := map[[2]uint64]int{}
	for i, c := range created {
		k := [2]uint64{uint64(c.Pid), c.Handle}
		if _, ok := birth[k]; !ok {
			birth[k] = i
		}
	}
	seen := map[[2]uint64]bool{}
	var comms []comm
	for i, k := range order {
		id := [2]uint64{uint64(k.pid), k.comm}
		if seen[id] {
			continue
		}
		seen[id] = true
		b, ok := birth[id]
		if !ok {
			b = len(created)
		}
		comms = append(comms, comm{uint64(k.pid), k.comm, k.rank, k.nranks, b, i})
	}
	slices.SortStableFunc(comms, func(a, b comm) int {
		return cmp.Or(cmp.Compare(a.createdAt, b.createdAt), cmp.Compare(a.at, b.at))
	})
	groups := map[[3]uint64][]int{} // (pid, rank, nranks) -> indexes in comms
	for i, c := range comms {
		g := [3]uint64{c.pid, uint64(c.rank), uint64(c.nranks)}
		groups[g] = append(groups[g], i)
	}
	names := commNames{}
	for g, idx := range groups {
		for n, i := range idx {
			name := rankOf(int(int64(g[1])), int(int64(g[2])))
			if len(idx) > 1 {
				name += fmt.Sprintf("#%d", n+1)
			}
			names[[2]uint64{comms[i].pid, comms[i].handle}] = name
		}
	}
	return names
}

func (n commNames) name(k key) string { return n[[2]uint64{uint64(k.pid), k.comm}] }

func rankOf(rank, nranks int) string {
	r, s := "?", "?"
	if rank >= 0 {
		r = fmt.Sprint(rank)
	}
	if nranks > 0 {
		s = fmt.Sprint(nranks)
	}
	return "r" + r + "/" + s
}
