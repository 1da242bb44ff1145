package physim

import (
	"fmt"
	"math/rand/v2"

	"github.com/linkprof/linkprof/trace"
)

// Scenario is a preset workload and its knobs.
type Scenario struct {
	Name  string // one of Names()
	Ranks int    // 2-8; 0 means 2
	Seed  uint64
	// Scale multiplies the repetitions in each phase (0 means 1): tests
	// lower it, benchmarks raise it.
	Scale float64
}

var presets = map[string]func(w *world){
	"phasemix":             phasemix,
	"twocomms":             func(w *world) { twocomms(w, false) },
	"twocomms-solo":        func(w *world) { twocomms(w, true) },
	"served":               func(w *world) { served(w, "") },
	"served-graphs-seen":   func(w *world) { served(w, "seen") },
	"served-graphs-before": func(w *world) { served(w, "before") },
	"straggler":            straggler,
}

// Names lists the presets:
//   - phasemix: one op per phase, each ended by a synchronize and ~50 ms
//     idle: all-reduce 16 KiB, 4 MiB, 32 MiB; all-gather; reduce-scatter;
//     ncclAlltoAll; torch's uneven all_to_all_single (grouped send/recv,
//     self included); torch broadcast (ncclBcast calling ncclBroadcast);
//     and a peer copy no collective explains.
//   - twocomms: two communicators on two streams, some phases running both
//     at once (the link shared), others one. The ops of a shared phase run
//     nowhere else: their split is not observable, only their sum.
//   - twocomms-solo: twocomms with each op of a shared phase also run
//     alone in a phase of its own, as the GPU phase mix does
//     (scripts/gpu/phasemix.py): the split becomes observable.
//   - served: a served-model stand-in: decode steps of small all-reduces
//     per layer (a low floor), prefill waves of large ones 50-100x the
//     floor's rate every 150-400 ms; each prefill wave is a phase.
//   - served-graphs-seen: decode from a CUDA graph captured during the
//     recording (replays expand exactly).
//   - served-graphs-before: decode from a graph captured before the
//     recording, the recorder attached to running ranks (no communicator
//     init, no lazy first call): replays carry bytes no trace explains.
//   - straggler: one rank reaches each round of all-reduces a fixed delay
//     after the others.
func Names() []string {
	return []string{"phasemix", "twocomms", "twocomms-solo", "served", "served-graphs-seen", "served-graphs-before", "straggler"}
}

func (s Scenario) check() (Scenario, error) {
	if s.Ranks == 0 {
		s.Ranks = 2
	}
	if s.Scale == 0 {
		s.Scale = 1
	}
	if s.Ranks < 2 || s.Ranks > 8 {
		return s, fmt.Errorf("simulating %d ranks: want 2-8", s.Ranks)
	}
	if presets[s.Name] == nil {
		return s, fmt.Errorf("unknown scenario %q (known: %v)", s.Name, Names())
	}
	return s, nil
}

// attachedLate says whether the recorder met the ranks already running.
func (s Scenario) attachedLate() bool { return s.Name == "served-graphs-before" }

func (w *world) reps(n int) int { return max(1, int(float64(n)*w.scale+0.5)) }

// phase runs fn as phase name: its bytes form the phase's windows; a
// synchronize and an idle gap of about gap follow.
func (w *world) runPhase(name string, gap int64, fn func()) {
	w.phase, w.truth.Phases = len(w.truth.Phases), append(w.truth.Phases, name)
	fn()
	w.sync()
	w.phase = -1
	w.idle(gap)
}

// warm makes c's lazy connection outside any phase, as torch's barrier
// (a one-element all-reduce) does at start-up.
func (w *world) warm(c *comm) {
	w.collective(c, trace.AllReduce, 1, -1)
	w.sync()
	w.idle(50_000_000)
}

// splits draws the element counts of an uneven all_to_all_single.
func (w *world) splits() [][]uint64 {
	m := make([][]uint64, w.n)
	for r := range m {
		m[r] = make([]uint64, w.n)
		for q := range m[r] {
			m[r][q] = 64<<10 + w.rng.Uint64N(1<<20)
		}
	}
	return m
}

func shuffle[T any](rng *rand.Rand, s []T) {
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

const idleGap = 50_000_000

type step struct {
	name string
	run  func()
}

func phasemix(w *world) {
	c := w.newComm()
	w.initComm(c)
	times := func(n int, fn func()) func() {
		return func() {
			for range w.reps(n) {
				fn()
			}
		}
	}
	root := w.rng.IntN(w.n)
	steps := []step{
		{"AllReduce 16KiB", times(2000, func() { w.collective(c, trace.AllReduce, 8<<10, -1) })},
		{"AllReduce 4MiB", times(300, func() { w.collective(c, trace.AllReduce, 2<<20, -1) })},
		{"AllReduce 32MiB", times(100, func() { w.collective(c, trace.AllReduce, 16<<20, -1) })},
		{"AllGather 2MiB/rank", times(300, func() { w.collective(c, trace.AllGather, 1<<20, -1) })},
		{"ReduceScatter 2MiB/rank", times(300, func() { w.collective(c, trace.ReduceScatter, 1<<20, -1) })},
		{"AlltoAll 1MiB/peer", times(300, func() { w.alltoall(c, 512<<10) })},
		{"all_to_all uneven", times(100, func() { w.alltoallv(c, w.splits()) })},
		{"Broadcast 8MiB", times(100, func() { w.collective(c, trace.Bcast, 4<<20, root) })},
		{"peer copy", func() { w.peerCopy(9, 0, 1, float64(64<<20+w.rng.Int64N(192<<20))) }},
	}
	shuffle(w.rng, steps)
	for _, s := range steps {
		w.runPhase(s.name, idleGap, s.run)
	}
}

func twocomms(w *world, solo bool) {
	a, b := w.newComm(), w.newComm()
	w.initComm(a)
	w.initComm(b)
	w.warm(a)
	w.warm(b)
	both := func(n int, fa, fb func()) func() {
		return func() {
			for range w.reps(n) {
				fa()
				fb()
			}
		}
	}
	nop := func() {}
	root := w.rng.IntN(w.n)
	arA32 := func() { w.collective(a, trace.AllReduce, 16<<20, -1) }
	agB4 := func() { w.collective(b, trace.AllGather, 2<<20, -1) }
	rsA4 := func() { w.collective(a, trace.ReduceScatter, 2<<20, -1) }
	arB4 := func() { w.collective(b, trace.AllReduce, 2<<20, -1) }
	steps := []step{
		{"A AllReduce 32MiB | B AllGather 4MiB/rank", both(100, arA32, agB4)},
		{"B AllReduce 16KiB", both(2000, nop, func() { w.collective(b, trace.AllReduce, 8<<10, -1) })},
		{"A all_to_all uneven", both(100, func() { w.alltoallv(a, w.splits()) }, nop)},
		{"B Broadcast 8MiB", both(100, nop, func() { w.collective(b, trace.Bcast, 4<<20, root) })},
		{"A ReduceScatter 4MiB/rank | B AllReduce 4MiB", both(200, rsA4, arB4)},
		{"B AlltoAll 1MiB/peer", both(300, nop, func() { w.alltoall(b, 512<<10) })},
		{"peer copy", func() { w.peerCopy(9, w.n-1, 0, float64(64<<20+w.rng.Int64N(192<<20))) }},
	}
	if solo {
		steps = append(steps,
			step{"A AllReduce 32MiB", both(30, arA32, nop)},
			step{"B AllGather 4MiB/rank", both(30, nop, agB4)},
			step{"A ReduceScatter 4MiB/rank", both(60, rsA4, nop)},
			step{"B AllReduce 4MiB", both(60, nop, arB4)})
	}
	shuffle(w.rng, steps)
	for _, s := range steps {
		w.runPhase(s.name, idleGap, s.run)
	}
}

func straggler(w *world) {
	c := w.newComm()
	w.initComm(c)
	w.warm(c)
	late := w.rng.IntN(w.n)
	delay := 10_000_000 + w.rng.Int64N(20_000_000)
	w.truth.Late, w.truth.LateNs = late, delay
	for i := range w.reps(15) {
		w.runPhase(fmt.Sprintf("round %d", i), 0, func() {
			w.delay(late, delay)
			for range 24 { // DDP's 25 MiB gradient buckets
				w.collective(c, trace.AllReduce, 25<<19, -1)
			}
		})
	}
}
