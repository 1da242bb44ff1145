package correlate

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate/physim"
)

// A served model's link never goes quiet: decode steps of small
// all-reduces between prefill waves 50-100 times faster. The fit's rows
// must still cut decode apart from the waves, or the decode column and the
// waves' columns share every row and the fit trades their factors (physim
// served, seed 8, 4 ranks: decode fitted 5.0 for the simulator's 2.04,
// prefill 0.4 for 1.07, and 15% of the bytes left unattributed). And a
// quarter-octave class of prefill all-reduces with sizes on both sides of
// the simulator's protocol switch must be split (seed 6, 8 ranks: one
// factor for both sides, AllReduce -5.4%). Every fine class of calls whose
// sizes all fall on one side of a switch fits that protocol's factor
// within 2%; on seed 6 those of the classes across a switch (its decode
// factor is 7% high, which moves 0.1% of the bytes).
func TestLearnServedDecodeApartFromWaves(t *testing.T) {
	for _, s := range []physim.Scenario{
		{Name: "served", Seed: 8, Ranks: 4, Scale: 0.5},
		{Name: "served", Seed: 6, Ranks: 8},
	} {
		t.Run(fmt.Sprintf("seed%d/ranks%d", s.Seed, s.Ranks), func(t *testing.T) { learnServed(t, s, s.Seed == 6) })
	}
}

func learnServed(t *testing.T, s physim.Scenario, acrossOnly bool) {
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := physim.Write(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	known, err := learnPass(dir, Options{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := truth.Protocols
	checked, split := 0, 0
	for c, got := range known.fit.values {
		lo, hi := math.Exp2(float64(c.fine-1)/fineSteps), math.Exp2(float64(c.fine)/fineSteps)
		if lo <= float64(p.LLMaxBytes) && hi > float64(p.LLMaxBytes) ||
			lo <= float64(p.LL128MaxBytes) && hi > float64(p.LL128MaxBytes) {
			continue // sizes on both sides of a switch: no one factor
		}
		want := p.Factor[2]
		switch {
		case hi <= float64(p.LLMaxBytes):
			want = p.Factor[0]
		case hi <= float64(p.LL128MaxBytes):
			want = p.Factor[1]
		}
		classLo, classHi := math.Exp2(float64(c.class-1)/4), float64(c.upper())
		across := classLo <= float64(p.LLMaxBytes) && classHi > float64(p.LLMaxBytes) ||
			classLo <= float64(p.LL128MaxBytes) && classHi > float64(p.LL128MaxBytes)
		if acrossOnly && !across {
			continue
		}
		if math.Abs(got/want-1) > 0.02 {
			t.Errorf("%s %s x%d: fitted %.3f, the simulator's factor %.3f", c.kind.Op(), FormatBytes(c.upperSize()), c.nranks, got, want)
		}
		checked++
		if across {
			split++
		}
	}
	if checked < 2 || acrossOnly && split < 2 {
		t.Errorf("%d fine classes checked, %d in a class across a switch: want decode and at least one prefill class, or both sides of a switch", checked, split)
	}
	t.Logf("%d fine classes checked, %d of them in a class across a switch", checked, split)
}

// A floor is background only under bursts that stand out from it: decode
// traffic (about 128 MB/s, some intervals up to 4 times that) under waves
// 50 times faster has one; a rate wandering evenly over three octaves
// (an uneven all-to-all) has none, nor a lone interval above the rest.
func TestFloorStandsOut(t *testing.T) {
	const ms = 1e6
	var served, wander, lone rateHist
	for i := range 900 {
		served.add(128e6*(1+float64(i%10)/10), ms)
	}
	for range 40 {
		served.add(450e6, ms)
	}
	for range 100 {
		served.add(6.4e9, ms)
	}
	for i := range 40 {
		wander.add(6e9*math.Exp2(3*float64(i)/40), ms)
	}
	for range 40 {
		lone.add(10e9, ms)
	}
	lone.add(80e9, ms)
	for _, c := range []struct {
		name string
		h    *rateHist
		n    int
		want bool
	}{{"served", &served, 1040, true}, {"wander", &wander, 40, false}, {"lone", &lone, 41, false}} {
		floor := c.h.quantile(floorQuantile)
		if got := c.h.standsOut(floor, c.h.total/float64(c.n)); got != c.want {
			t.Errorf("%s: floor %.3g stands out %v, want %v", c.name, floor, got, c.want)
		}
	}
}
