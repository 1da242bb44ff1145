// Package phasetruth is the ground truth of a GPU workload of known phases
// (scripts/gpu/phasemix.py, torch_attrib.py): each phase runs one kind of
// collective (or two at once) between idle gaps, so the NVLink DATA_TX the
// ranks' GPUs moved during a phase, read from the recording's own NVML
// samples, belongs to the phase's ops. It does not use linkprof's model.
package phasetruth

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// OpCalls is what a phase issued of one op.
type OpCalls struct {
	Calls        int     `json:"calls"`
	PayloadBytes float64 `json:"payload_bytes"`
}

// Phase is one phase as the workload logged it (wall-clock seconds).
type Phase struct {
	Name      string             `json:"phase"`
	Ops       map[string]OpCalls `json:"ops"`
	StartWall float64            `json:"start_wall"`
	EndWall   float64            `json:"end_wall"`
	// PerCallFrom names, for a phase of two ops at once, the solo phase
	// whose bytes per call split this phase's bytes among its ops.
	PerCallFrom map[string]string `json:"per_call_from"`
	// Moved is the DATA_TX over the ranks' GPUs during the phase.
	Moved float64 `json:"-"`
}

// Phases is a workload's log.
type Phases struct {
	World  int     `json:"world"`
	Phases []Phase `json:"phases"`
}

// Load reads a phases JSON file.
func Load(path string) (*Phases, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Phases
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &p, nil
}

// finishS is how long after a phase's end (its synchronize) samples still
// count: the last read may come a little after the GPU finished.
const finishS = 0.15

// Measure fills each phase's Moved from the samples and returns the link
// TX per op over all phases (a receive sends nothing).
func (ps *Phases) Measure(samples []trace.Sample) map[string]float64 {
	return ps.measure(func(p *Phase) float64 {
		var moved float64
		for gpu := range ps.World {
			moved += txDuring(samples, uint32(gpu), p)
		}
		return moved
	})
}

// measure fills each phase's Moved with moved(phase) and splits it over
// the phase's ops.
func (ps *Phases) measure(moved func(*Phase) float64) map[string]float64 {
	byName := map[string]*Phase{}
	for i := range ps.Phases {
		p := &ps.Phases[i]
		p.Moved = moved(p)
		byName[p.Name] = p
	}
	truth := map[string]float64{}
	for _, p := range ps.Phases {
		for op, share := range shares(p, byName) {
			truth[op] += p.Moved * share
		}
	}
	return truth
}

// shares splits a phase's bytes over its ops: by each op's bytes per call
// in the solo phase named in PerCallFrom, else by payload (the older
// phases that mix ops pair sizes of equal ring bytes).
func shares(p Phase, byName map[string]*Phase) map[string]float64 {
	weight := map[string]float64{}
	total := 0.0
	for op, o := range p.Ops {
		w := o.PayloadBytes
		if op == "Recv" {
			w = 0 // the truth is link TX: a receive sends nothing
		}
		if ref := byName[p.PerCallFrom[op]]; ref != nil && ref.Ops[op].Calls > 0 {
			w = float64(o.Calls) * ref.Moved / float64(ref.Ops[op].Calls)
		}
		weight[op] = w
		total += w
	}
	for op := range weight {
		weight[op] /= total
	}
	return weight
}

// txDuring is a GPU's DATA_TX change from its last sample before the
// phase to its last sample before the phase's end plus finishS.
func txDuring(samples []trace.Sample, gpu uint32, p *Phase) float64 {
	var before, last *trace.Sample
	for i := range samples {
		s := &samples[i]
		if s.GPU != gpu || !s.OK() {
			continue
		}
		t := float64(s.WallUs) / 1e6
		if t < p.StartWall-0.02 {
			before = s
		}
		if t <= p.EndWall+finishS {
			last = s
		}
	}
	if before == nil || last == nil {
		return 0
	}
	return float64(last.DataTxKiB-before.DataTxKiB) * 1024
}

// Calls is how many calls of op the phases issued over all ranks: the
// log is rank 0's, and every rank issues the same.
func (ps *Phases) Calls(op string) int {
	n := 0
	for _, p := range ps.Phases {
		n += p.Ops[op].Calls
	}
	return n * ps.World
}

// OpSet is the ops of a phase joined by "+", sorted.
func (p Phase) OpSet() string {
	ops := make([]string, 0, len(p.Ops))
	for op := range p.Ops {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return strings.Join(ops, "+")
}

// SameOps reports whether a burst label names the same ops as want, in
// any order.
func SameOps(label, want string) bool {
	a, b := strings.Split(label, "+"), strings.Split(want, "+")
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Window is the span a phase's bursts must fall in, in ns from the
// recording's start (whose clock pair maps wall time onto it).
func (p Phase) Window(start trace.Clock) (lo, hi int64) {
	toNs := func(wallS float64) int64 { return int64(wallS*1e9) - start.WallNs }
	return toNs(p.StartWall), toNs(p.EndWall + finishS)
}
