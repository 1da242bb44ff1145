package report_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/correlate/physim"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

// TestArrivalSkewNamesStraggler runs physim's straggler (one rank entering
// every all-reduce of a round a fixed 10-30 ms late) through the pipeline:
// report.json's arrivals name that rank last in >= 95% of the collectives,
// every other rank's median wait is the delay within 10%, and the text
// report says who waited for whom.
func TestArrivalSkewNamesStraggler(t *testing.T) {
	for i, ranks := range []int{2, 4, 8} {
		t.Run(fmt.Sprintf("%dranks", ranks), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec")
			truth, err := physim.Write(dir, physim.Scenario{Name: "straggler", Seed: uint64(i + 1), Ranks: ranks, Scale: 0.3})
			if err != nil {
				t.Fatal(err)
			}
			out, err := pipeline.Run(dir, correlate.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkStraggler(t, out.Report, truth.Late, truth.LateNs)
			var txt strings.Builder
			if err := report.WriteText(&txt, out.Report); err != nil {
				t.Fatal(err)
			}
			if testing.Verbose() {
				t.Log(txt.String()[strings.Index(txt.String(), "arrivals:"):])
			}
			if want := fmt.Sprintf("-> rank %d was last in", truth.Late); !strings.Contains(txt.String(), want) {
				t.Errorf("report.txt lacks %q:\n%s", want, txt.String())
			}
		})
	}
}

func checkStraggler(t *testing.T, r *report.Report, late int, delayNs int64) {
	t.Helper()
	a := r.Arrivals
	if len(a.Comms) != 1 || a.UnmatchedCalls != 0 || len(a.Notes) != 0 {
		t.Fatalf("arrivals %+v: want one fully matched communicator", a)
	}
	c := a.Comms[0]
	if c.RanksRecorded != c.NRanks || c.Collectives == 0 || len(c.Ranks) != c.NRanks {
		t.Fatalf("comm %+v: want every rank recorded and matched", c)
	}
	for _, rk := range c.Ranks {
		if rk.Rank == late {
			if rk.LastFraction < 0.95 {
				t.Errorf("rank %d (late by %v ms) last in %.1f%% of collectives, want >= 95%%", late, delayNs/1e6, 100*rk.LastFraction)
			}
			continue
		}
		if e := float64(rk.WaitP50Ns)/float64(delayNs) - 1; math.Abs(e) > 0.10 {
			t.Errorf("rank %d waits p50 %d ns for rank %d, injected %d ns (%+.1f%%)", rk.Rank, rk.WaitP50Ns, late, delayNs, 100*e)
		}
	}
}
