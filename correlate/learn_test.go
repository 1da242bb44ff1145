package correlate

import (
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
// prefill 0.4 for 1.07, and 15% of the bytes left unattributed). Every
// class of all-reduces whose sizes all fall on one side of the
// simulator's protocol switches fits that protocol's factor within 2%.
func TestLearnServedDecodeApartFromWaves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := physim.Write(dir, physim.Scenario{Name: "served", Seed: 8, Ranks: 4, Scale: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	known, err := learnPass(dir, Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := truth.Protocols
	checked := 0
	for c := range known.fit.values {
		lo, hi := math.Exp2(float64(c.class-1)/4), float64(c.upper())
		want := 0.0
		switch {
		case hi <= float64(p.LLMaxBytes):
			want = p.Factor[0]
		case lo > float64(p.LLMaxBytes) && hi <= float64(p.LL128MaxBytes):
			want = p.Factor[1]
		case lo > float64(p.LL128MaxBytes):
			want = p.Factor[2]
		default:
			continue // sizes on both sides of a switch: no one factor
		}
		got := known.fit.values[c]
		if math.Abs(got/want-1) > 0.02 {
			t.Errorf("%s %s x%d: fitted %.3f, the simulator's factor %.3f", c.kind.Op(), FormatBytes(c.upper()), c.nranks, got, want)
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("%d classes checked: want decode and at least one prefill class", checked)
	}
}
