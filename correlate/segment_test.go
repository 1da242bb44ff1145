package correlate

import "testing"

// couldFinish lets in, behind a launch the link served short, the launches
// ready during the last active interval that its rate could have carried
// before it ended, one after another; the first that could not ends the run.
func TestCouldFinishQueuesAtTheLastIntervalsRate(t *testing.T) {
	// The last active interval: 1 ms moving 10 MB out and 5 MB in.
	s := segState{lastActiveStart: 1_000_000, lastActiveEnd: 2_000_000, lastActiveBytes: [2]float64{10e6, 5e6}}
	cases := []struct {
		name    string
		l       launch
		done    int64 // when the launch before it would have finished
		fits    bool
		doneNow int64
	}{
		{"sends 4 MB from the interval's start", launch{readyNs: 1_000_000, exp: [2]float64{4e6, 0}}, 0, true, 1_400_000},
		{"behind one done at 1.4 ms", launch{readyNs: 1_100_000, exp: [2]float64{4e6, 0}}, 1_400_000, true, 1_800_000},
		{"its receive is the slower direction", launch{readyNs: 1_200_000, exp: [2]float64{1e6, 2e6}}, 0, true, 1_600_000},
		{"would end after the interval", launch{readyNs: 1_500_000, exp: [2]float64{6e6, 0}}, 0, false, 0},
		{"ready after the link went quiet", launch{readyNs: 2_000_000, exp: [2]float64{1, 0}}, 0, false, 0},
		{"a one-byte receive", launch{readyNs: 1_000_000, exp: [2]float64{0, 1}}, 0, true, 1_000_000},
	}
	for _, c := range cases {
		done := c.done
		if got := s.couldFinish(&c.l, &done); got != c.fits || got && done != c.doneNow {
			t.Errorf("%s: couldFinish %v, done %d; want %v, %d", c.name, got, done, c.fits, c.doneNow)
		}
	}
	quietIn := segState{lastActiveStart: 0, lastActiveEnd: 1_000_000, lastActiveBytes: [2]float64{1e6, 0}}
	if quietIn.couldFinish(&launch{exp: [2]float64{0, 1}}, new(int64)) {
		t.Error("a launch receiving bytes fit an interval that received none")
	}
}
