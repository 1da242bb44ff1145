package physim

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/trace"
)

// quick keeps unit tests short: a fifth of each preset's repetitions.
func quick(name string, seed uint64) Scenario {
	return Scenario{Name: name, Ranks: 2, Seed: seed, Scale: 0.2}
}

func writeLoad(t *testing.T, s Scenario) (*Truth, *trace.Trace, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatalf("trace.Load: %v", err)
	}
	return truth, tr, dir
}

func TestDeterministicPerSeed(t *testing.T) {
	read := func(seed uint64) []byte {
		_, _, dir := writeLoad(t, quick("twocomms", seed))
		b, err := os.ReadFile(filepath.Join(dir, trace.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := read(3), read(3), read(4)
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote two different traces")
	}
	if bytes.Equal(a, c) {
		t.Error("two seeds wrote the same trace")
	}
}

// TestTruthSums checks the books: per GPU, what truth charged to ops,
// graphs and unexplained traffic is what the counters written moved.
func TestTruthSums(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			s := quick(name, 7)
			s.Ranks = 3
			truth, tr, _ := writeLoad(t, s)
			for g := range truth.Ranks {
				tx, rx := truth.UnexplainedTx[g], truth.UnexplainedRx[g]
				for _, o := range truth.Ops {
					tx, rx = tx+o.Tx[g], rx+o.Rx[g]
				}
				for _, gt := range truth.Graphs {
					if gt.Rank == g {
						tx, rx = tx+gt.Tx, rx+gt.Rx
					}
				}
				ctx, crx := counterDelta(tr, g)
				if math.Abs(tx-ctx) > 2048 || math.Abs(rx-crx) > 2048 || tx == 0 {
					t.Errorf("GPU %d: truth tx %.0f rx %.0f, counters %.0f %.0f", g, tx, rx, ctx, crx)
				}
			}
		})
	}
}

// counterDelta is a GPU's DATA counters from its first to its last good
// read, in bytes, as the trace holds them.
func counterDelta(tr *trace.Trace, g int) (tx, rx float64) {
	var first, last *trace.Sample
	for i := range tr.Samples {
		s := &tr.Samples[i]
		if int(s.GPU) != g || !s.OK() {
			continue
		}
		if first == nil {
			first = s
		}
		last = s
	}
	if first == nil {
		return 0, 0
	}
	return float64(last.DataTxKiB-first.DataTxKiB) * 1024, float64(last.DataRxKiB-first.DataRxKiB) * 1024
}

// TestTraceHoldsTruth checks the trace against what the simulator says
// it wrote: events per kind and payload, samples, records.
func TestTraceHoldsTruth(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			truth, tr, _ := writeLoad(t, quick(name, 11))
			events, payload := map[string]uint64{}, map[string]uint64{}
			for _, e := range tr.Events {
				events[e.Kind.String()]++
				if e.Kind.IsCollective() {
					payload[e.Kind.String()] += e.PayloadBytes()
				}
			}
			if !equalMaps(events, truth.HostEvents) || !equalMaps(payload, truth.HostPayload) {
				t.Errorf("trace events %v payload %v; truth %v %v", events, payload, truth.HostEvents, truth.HostPayload)
			}
			if uint64(len(tr.Samples)) != truth.Samples || tr.Stop == nil || tr.Truncated {
				t.Errorf("%d samples (truth %d), stop %v, truncated %v", len(tr.Samples), truth.Samples, tr.Stop, tr.Truncated)
			}
			if len(tr.GPUs) != truth.Ranks || len(tr.Processes) != truth.Ranks {
				t.Errorf("%d GPUs, %d processes for %d ranks", len(tr.GPUs), len(tr.Processes), truth.Ranks)
			}
		})
	}
}

func equalMaps(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestPhaseWindows checks phasemix gives one window per phase on every
// GPU its traffic touches (a peer copy touches two), with one label.
func TestPhaseWindows(t *testing.T) {
	s := quick("phasemix", 5)
	s.Ranks = 4
	truth, _, _ := writeLoad(t, s)
	if want := (len(truth.Phases)-1)*4 + 2; len(truth.Windows) != want {
		t.Fatalf("%d windows for %d phases, want %d", len(truth.Windows), len(truth.Phases), want)
	}
	for _, w := range truth.Windows {
		if w.Label == "" || w.EndNs <= w.StartNs || truth.Phases[w.Phase] != w.Name {
			t.Errorf("window %+v", w)
		}
	}
}
