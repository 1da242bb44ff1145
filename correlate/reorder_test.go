package correlate_test

import (
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/trace"
)

// rewrite copies a loaded trace into a new folder, events written
// delayNs later in the file than the samples of their time (as a ring
// buffer read late would place them).
func rewrite(t *testing.T, tr *trace.Trace, delayNs int64) string {
	return writeTrace(t, func(w *trace.Writer) {
		for _, p := range tr.Processes {
			w.WriteJSON(trace.RecProcess, p)
		}
		for _, c := range tr.Comms {
			w.WriteJSON(trace.RecComm, c)
		}
		for _, g := range tr.GPUs {
			w.WriteJSON(trace.RecGPU, g)
		}
		for _, k := range tr.Clocks {
			w.WriteJSON(trace.RecClock, k)
		}
		evs := tr.Events
		for _, s := range tr.Samples {
			n := 0
			for n < len(evs) && int64(evs[n].TsNs)+delayNs <= s.MonoAfterNs {
				n++
			}
			writeEvents(w, evs[:n])
			evs = evs[n:]
			w.WriteSamples(s)
		}
		writeEvents(w, evs)
	})
}

func TestReorderWindow(t *testing.T) {
	dir := t.TempDir() + "/rec"
	truth, err := sim.Write(dir, sim.Config{Ranks: 2, Steps: 200, Ops: bigOps, StepGapNs: 30_000_000, Seed: 8, LagNs: 300_000})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	analyze := func(dir string) *collect {
		c := newCollect()
		if _, err := correlate.Analyze(dir, correlate.Options{}, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	inOrder, late := analyze(rewrite(t, tr, 0)), analyze(rewrite(t, tr, 1_500_000_000))
	for op := range truth.OpTx {
		if a, b := inOrder.tx[op], late.tx[op]; a != b || a == 0 {
			t.Errorf("%s: %.0f bytes in order, %.0f with events 1.5 s late", op, a, b)
		}
	}
	if s := rightShare(truth, late); s < 0.98 {
		t.Errorf("late events: right share %.4f", s)
	}
}
