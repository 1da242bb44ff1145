package nvlink

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNextCap(t *testing.T) {
	for _, c := range []struct {
		name  string
		rates []float64
		cap   float64
		want  float64
	}{
		{"one reader: nothing to even", []float64{300}, 0, 0},
		{"even, uncapped: stays uncapped", []float64{300, 305}, 0, 0},
		{"uneven: just above the slowest", []float64{216, 278, 307, 342}, 0, 216 * (1 + paceMargin)},
		{"uneven under a cap: lower it", []float64{200, 250}, 250, 200 * (1 + paceMargin)},
		{"even at the cap: raise it", []float64{249, 250}, 250, 250 * (1 + paceStep)},
		{"even below the cap: keep it", []float64{200, 201}, 250, 250},
	} {
		if got := nextCap(c.rates, c.cap); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: nextCap(%v, %g) = %g, want %g", c.name, c.rates, c.cap, got, c.want)
		}
	}
}

// driver models reader processes sharing the driver unfairly, as on the 4x
// H200 box: budget reads/s in all, split by weight among the readers that
// want more than their cap allows, the others getting their cap.
type driver struct {
	budget  float64
	weights []float64
}

// rates water-fills the budget: a reader capped below its share keeps its
// cap, and what it leaves goes to the rest by weight. cap 0 is none.
func (d driver) rates(caps []float64) []float64 {
	out := make([]float64, len(caps))
	free := make([]bool, len(caps))
	for i := range free {
		free[i] = true
	}
	left := d.budget
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

type pacedRead struct {
	at  int64
	gpu int
}

// simulate runs windows of the pacer over the driver model, feeding it the
// reads the model gives each GPU at the caps the pacer asked for, and
// returns each window's rates.
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
	var history [][]float64
	win := DefaultPaceWindow.Nanoseconds()
	for w := range windows {
		rates := d.rates(caps)
		history = append(history, rates)
		var reads []pacedRead
		for g, r := range rates {
			count := int(math.Round(r * float64(win) / 1e9))
			for k := range count {
				reads = append(reads, pacedRead{int64(w)*win + int64(k)*win/int64(count) + 1, g})
			}
		}
		sort.Slice(reads, func(i, j int) bool { return reads[i].at < reads[j].at })
		for _, r := range reads {
			p.read(r.gpu, r.at, false)
		}
		for g := range n {
			caps[g] = lastHz(t, controls[g], caps[g])
		}
	}
	return history
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
// rate climbs to nearly an even share of the whole budget.
func TestPacerEvensUnfairReaders(t *testing.T) {
	d := driver{budget: 1143, weights: []float64{216, 278, 307, 342}}
	history := simulate(t, d, 0, 60)
	if s := spread(history[0]); s < 0.4 {
		t.Fatalf("model: unpaced spread %.2f, want the box's uneven split", s)
	}
	total := make([]float64, 4)
	for _, rates := range history[20:] {
		for g, r := range rates {
			total[g] += r / 40
		}
	}
	if s := spread(total); s > paceTolerance {
		t.Errorf("mean rates over the last 20 s %v: spread %.3f, want <= %.2f", total, s, paceTolerance)
	}
	sum := total[0] + total[1] + total[2] + total[3]
	if sum < 0.9*d.budget {
		t.Errorf("mean total %.0f reads/s, want >= 90%% of the driver's %.0f", sum, d.budget)
	}
	t.Logf("paced: %.0f reads/s in all (%.1f%% of the budget), per GPU %.0f", sum, 100*sum/d.budget, total)
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
	history := simulate(t, d, 800, 20)
	if got := history[19]; math.Abs(got[0]-got[1]) > paceTolerance*got[0] {
		t.Errorf("last window %v: not evened out", got)
	}
}

// A lost GPU, only probed once a second, is left out: the others keep
// their rate rather than falling to its.
func TestPacerLeavesLostGPUsOut(t *testing.T) {
	p := newPacer(DefaultPaceWindow, 0)
	var c0, c1 bytes.Buffer
	p.attach(0, &c0)
	p.attach(1, &c1)
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
	p := newPacer(DefaultPaceWindow, 0)
	var c0, c1 bytes.Buffer
	p.attach(0, &c0)
	p.attach(1, &c1)
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

// Readers too slow to tell 3% apart within one window (40 and 40.4 reads a
// second, at different phases and with jitter, so a 500 ms window holds 19
// to 21 of each) are left alone: one read more or less in a window must not
// drag them down.
func TestPacerLeavesSlowReadersAlone(t *testing.T) {
	p := newPacer(DefaultPaceWindow, 0)
	var c0, c1 bytes.Buffer
	p.attach(0, &c0)
	p.attach(1, &c1)
	var reads []pacedRead
	ms := time.Millisecond.Nanoseconds()
	for k := range int64(40 * 30) {
		jitter := (k*7919%5 - 2) * ms
		reads = append(reads, pacedRead{k*25*ms + 3*ms + jitter, 0}, pacedRead{k*24750*1000 + 15*ms - jitter, 1})
	}
	sort.Slice(reads, func(i, j int) bool { return reads[i].at < reads[j].at })
	for _, r := range reads {
		p.read(r.gpu, r.at, false)
	}
	if c0.Len() != 0 || c1.Len() != 0 {
		t.Errorf("control lines %q, %q: want none", c0.String(), c1.String())
	}
}
