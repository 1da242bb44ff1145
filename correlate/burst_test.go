package correlate_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/physim"
)

// Bursts are the simulator's phases one to one where the floor rule went
// wrong: an uneven all-to-all whose rate wanders over two octaves had a
// floor, and its fastest intervals were bursts of their own (phasemix seed
// 5 on 8 ranks: the phase split in two to four on three GPUs), and a served
// model's decode steps in a segment too short to have a floor were a burst
// each (served-graphs-seen seed 5 on 8 ranks: five bursts of decode alone).
func TestBurstsArePhases(t *testing.T) {
	for _, s := range []physim.Scenario{
		{Name: "phasemix", Seed: 5, Ranks: 8},
		{Name: "served-graphs-seen", Seed: 5, Ranks: 8},
	} {
		t.Run(fmt.Sprintf("%s/seed%d/ranks%d", s.Name, s.Seed, s.Ranks), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec")
			truth, err := physim.Write(dir, s)
			if err != nil {
				t.Fatal(err)
			}
			c := newCollect()
			if _, err := correlate.Analyze(dir, correlate.Options{}, c); err != nil {
				t.Fatal(err)
			}
			var got []physim.Detected
			for _, b := range c.bursts {
				got = append(got, physim.Detected{GPU: b.GPU, StartNs: b.StartNs, EndNs: b.EndNs, Label: b.Label()})
			}
			m := physim.MatchBursts(truth.Windows, got, 2_000_000)
			if !m.OneToOne() || m.LabelsAgree != len(m.Pairs) {
				t.Errorf("%d phases, %d bursts, %d matched, %d labels agree, split %d, merged %d",
					m.Truth, m.Detected, len(m.Pairs), m.LabelsAgree, m.Split, m.Merged)
			}
		})
	}
}
