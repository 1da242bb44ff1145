package nvlink

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// One window's decision: the slowest reader that fell short of its cap
// goes uncapped, the others' cap moves half way to just above its rate.
func TestPaceFollowsTheSlowest(t *testing.T) {
	for _, c := range []struct {
		name   string
		userHz float64
		follow float64   // the others' cap before the window
		reads  []int     // in a 1 s window
		caps   []float64 // before it
		want   []float64 // the rate each may read at after it; 0 none
	}{
		{"one reader: nothing to even", 0, 0, []int{300}, []float64{0}, []float64{0}},
		{"unpaced, uneven: the others follow the slowest", 0, 0,
			[]int{342, 216, 307}, []float64{0, 0, 0}, []float64{216 * 1.01, 0, 216 * 1.01}},
		{"the uncapped one sped up: the others follow half way", 0, 220,
			[]int{220, 250, 220}, []float64{220, 0, 220}, []float64{(250*1.01 + 220) / 2, 0, (250*1.01 + 220) / 2}},
		{"a capped one fell short: it goes uncapped", 0, 240,
			[]int{200, 240, 250}, []float64{240, 0, 240}, []float64{0, (200*1.01 + 240) / 2, (200*1.01 + 240) / 2}},
		{"the user's cap binds them all: still the user's", 100, 0,
			[]int{99, 100, 98}, []float64{0, 0, 0}, []float64{100, 100, 100}},
		{"the user's cap binds the fast: the slow one leads", 100, 0,
			[]int{100, 60}, []float64{0, 0}, []float64{60 * 1.01, 100}},
	} {
		p := newPacer(time.Second, c.userHz)
		p.follow = c.follow
		var counted []*pacedReader
		for i, n := range c.reads {
			counted = append(counted, &pacedReader{reads: n, capHz: c.caps[i]})
		}
		p.pace(counted, 1)
		for i, r := range counted {
			if got := p.limit(r); math.Abs(got-c.want[i]) > 1e-9 {
				t.Errorf("%s: reader %d may read at %g, want %g", c.name, i, got, c.want[i])
			}
		}
	}
}

// driver models reader processes sharing the driver unfairly, as on the 4x
// H200 box: budget reads/s in all, split by weight among the readers that
// want more than their cap allows, the others getting their cap.
type driver struct {
	budget  float64
	weights []float64
	// busy, when set, scales the budget in window w (another user of the
	// driver); nil: 1.
	busy func(w int) float64
}

// rates water-fills the budget: a reader capped below its share keeps its
// cap, and what it leaves goes to the rest by weight. cap 0 is none.
func (d driver) rates(w int, caps []float64) []float64 {
	out := make([]float64, len(caps))
	free := make([]bool, len(caps))
	for i := range free {
		free[i] = true
	}
	left := d.budget
	if d.busy != nil {
		left *= d.busy(w)
	}
	for changed := true; changed; {
		changed = false
		w := 0.0
		for i, f := range free {
			if f {
				w += d.weights[i]
			}
		}
		for i, f := range free {
			if share := left * d.weights[i] / w; f && caps[i] > 0 && caps[i] < share {
				out[i], free[i], changed = caps[i], false, true
				left -= caps[i]
			}
		}
		if !changed {
			for i, f := range free {
				if f {
					out[i] = left * d.weights[i] / w
				}
			}
		}
	}
	return out
}

// simulate runs the pacer over the driver model for the given number of
// windows, read by read: each GPU reads at the rate the model gives it
// under the caps the pacer asked for, and a new cap applies from the next
// read, as in a reader process. It returns each window's rates.
func simulate(t *testing.T, d driver, userHz float64, windows int) [][]float64 {
	t.Helper()
	n := len(d.weights)
	p := newPacer(DefaultPaceWindow, userHz)
	controls := make([]*bytes.Buffer, n)
	for g := range n {
		controls[g] = new(bytes.Buffer)
		p.attach(g, controls[g])
	}
	caps := make([]float64, n)
	for g := range caps {
		caps[g] = userHz
	}
	win := DefaultPaceWindow.Nanoseconds()
	history := make([][]float64, windows)
	for w := range history {
		history[w] = make([]float64, n)
	}
	next := make([]int64, n)
	for g := range next {
		next[g] = int64(g) + 1
	}
	for {
		g := 0
		for i := range next {
			if next[i] < next[g] {
				g = i
			}
		}
		at := next[g]
		w := int(at / win)
		if w >= windows {
			return history
		}
		history[w][g] += float64(time.Second.Nanoseconds()) / float64(win)
		p.read(g, at, false)
		for i := range caps {
			caps[i] = lastHz(t, controls[i], caps[i])
		}
		next[g] = at + int64(1e9/d.rates(w, caps)[g])
	}
}

// lastHz is the rate of the last control line written to b, or was.
func lastHz(t *testing.T, b *bytes.Buffer, was float64) float64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if lines[0] == "" {
		return was
	}
	hz, err := strconv.ParseFloat(strings.TrimPrefix(lines[len(lines)-1], "hz "), 64)
	if err != nil || !strings.HasPrefix(lines[len(lines)-1], "hz ") {
		t.Fatalf("control line %q", lines[len(lines)-1])
	}
	return hz
}

// spread is (max - min) / mean.
func spread(rates []float64) float64 {
	sum := 0.0
	for _, r := range rates {
		sum += r
	}
	return (slices.Max(rates) - slices.Min(rates)) / (sum / float64(len(rates)))
}

// Readers that share the driver unevenly (the rates measured on the 4x
// H200 box) are brought to one rate within the tolerance, and the shared
// rate reaches nearly an even share of the whole budget.
func TestPacerEvensUnfairReaders(t *testing.T) {
	d := driver{budget: 1143, weights: []float64{216, 278, 307, 342}}
	history := simulate(t, d, 0, 60)
	if s := spread(history[0]); s < 0.4 {
		t.Fatalf("model: unpaced spread %.2f, want the box's uneven split", s)
	}
	total := meanRates(history[20:])
	if s := spread(total); s > paceTolerance {
		t.Errorf("mean rates over the last 20 s %v: spread %.3f, want <= %.2f", total, s, paceTolerance)
	}
	sum := total[0] + total[1] + total[2] + total[3]
	if sum < 0.9*d.budget {
		t.Errorf("mean total %.0f reads/s, want >= 90%% of the driver's %.0f", sum, d.budget)
	}
	t.Logf("paced: %.0f reads/s in all (%.1f%% of the budget), per GPU %.0f", sum, 100*sum/d.budget, total)
}

// After the driver was busy for a while (the readers' budget at 40% for
// 5 s), the shared rate comes back at once: the uncapped reader takes the
// room and the others follow it.
func TestPacerRecoversAfterABusyDriver(t *testing.T) {
	d := driver{budget: 1143, weights: []float64{216, 278, 307, 342}}
	d.busy = func(w int) float64 {
		if w >= 40 && w < 50 {
			return 0.4
		}
		return 1
	}
	history := simulate(t, d, 0, 70)
	sum := func(rates []float64) float64 { return rates[0] + rates[1] + rates[2] + rates[3] }
	before := sum(history[39])
	if low := sum(history[49]); low > 0.45*d.budget {
		t.Fatalf("model: %.0f reads/s while busy", low)
	}
	for w := 50; w < 70; w++ {
		if sum(history[w]) >= 0.9*before {
			t.Logf("back to %.0f reads/s (%.0f before) %v after the driver freed up", sum(history[w]), before,
				time.Duration(w-50)*DefaultPaceWindow)
			if w-50 > 2 {
				t.Errorf("back to 90%% of the rate only %v after the driver freed up, want <= 1s", time.Duration(w-50)*DefaultPaceWindow)
			}
			return
		}
	}
	t.Errorf("rate %.0f reads/s 10 s after the driver freed up, %.0f before", sum(history[69]), before)
}

// The user's --nvml-hz stays the ceiling of every reader.
func TestPacerKeepsTheUserCap(t *testing.T) {
	d := driver{budget: 1143, weights: []float64{216, 278, 307, 342}}
	for w, rates := range simulate(t, d, 100, 20) {
		for g, r := range rates {
			if r > 100 {
				t.Fatalf("window %d: GPU %d at %.0f reads/s, above --nvml-hz 100", w, g, r)
			}
		}
	}
	d.weights = []float64{50, 1000} // GPU 0 cannot reach the user's cap
	if got := meanRates(simulate(t, d, 800, 40)[20:]); spread(got) > paceTolerance {
		t.Errorf("mean rates over the last 10 s %.0f: not evened out", got)
	}
}

// meanRates averages each GPU's rate over windows.
func meanRates(history [][]float64) []float64 {
	mean := make([]float64, len(history[0]))
	for _, rates := range history {
		for g, r := range rates {
			mean[g] += r / float64(len(history))
		}
	}
	return mean
}

// twoReaders is a pacer with readers for GPUs 0 and 1, and what each is told.
func twoReaders(userHz float64) (p *pacer, c0, c1 *bytes.Buffer) {
	p, c0, c1 = newPacer(DefaultPaceWindow, userHz), new(bytes.Buffer), new(bytes.Buffer)
	p.attach(0, c0)
	p.attach(1, c1)
	return p, c0, c1
}

// A lost GPU, only probed once a second, is left out: the others keep
// their rate rather than falling to its.
func TestPacerLeavesLostGPUsOut(t *testing.T) {
	p, c0, c1 := twoReaders(0)
	ms := time.Millisecond.Nanoseconds()
	for at := int64(1); at <= 3000*ms; at += ms {
		p.read(0, at, false)
		if at%(1000*ms) == 1 {
			p.read(1, at, true)
		}
	}
	if c0.Len() != 0 || c1.Len() != 0 {
		t.Errorf("control lines %q, %q: want none, the lost GPU is not paced against", c0.String(), c1.String())
	}
}

// A reader that restarts joins at the rate the others were paced to.
func TestPacerSetsARestartedReader(t *testing.T) {
	p, c0, _ := twoReaders(0)
	ms := time.Millisecond.Nanoseconds()
	for at := int64(1); at <= 600*ms; at += ms {
		p.read(0, at, false)
		if at%(2*ms) == 1 {
			p.read(1, at, false)
		}
	}
	want := fmt.Sprintf("hz %s\n", strconv.FormatFloat(500*(1+paceMargin), 'g', 6, 64))
	if c0.String() != want {
		t.Fatalf("GPU 0 told %q, want %q", c0.String(), want)
	}
	p.detach(1)
	var again bytes.Buffer
	p.attach(1, &again)
	if again.String() != want {
		t.Errorf("restarted reader told %q, want %q", again.String(), want)
	}
}

// Readers at the user's cap (40 reads a second, at different phases and
// with jitter, so a 500 ms window holds 19 to 21 of each) are left alone:
// no reader is told anything.
func TestPacerLeavesReadersAtTheUserCapAlone(t *testing.T) {
	p, c0, c1 := twoReaders(40)
	ms := time.Millisecond.Nanoseconds()
	for k := range int64(40 * 30) {
		jitter := (k*7919%5 - 2) * ms // GPU 0 reads 1-5 ms into each 25 ms, GPU 1 13-17 ms
		p.read(0, k*25*ms+3*ms+jitter, false)
		p.read(1, k*25*ms+15*ms-jitter, false)
	}
	if c0.Len() != 0 || c1.Len() != 0 {
		t.Errorf("control lines %q, %q: want none", c0.String(), c1.String())
	}
}
