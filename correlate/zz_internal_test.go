package correlate

import (
	"fmt"
	"os"
	"testing"
)

func TestZZRows(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	ln := newLearner()
	sinks := []Sink{discard{}}
	if _, err := readPass(os.Getenv("ZZ"), Options{}, sinks, []*learner{ln}, nil); err != nil {
		t.Fatal(err)
	}
	f := ln.fit
	for i, r := range f.rows[:min(60, len(f.rows))] {
		s := fmt.Sprintf("row %d b=%.4g:", i, r.b)
		for _, e := range r.entries {
			c := f.cols[e.col]
			s += fmt.Sprintf(" %s/%d/g%d=%.4g", c.kind.Op(), c.class, c.graph, e.a)
		}
		fmt.Println(s)
	}
}

func TestZZSolve(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	ln := newLearner()
	if _, err := readPass(os.Getenv("ZZ"), Options{}, []Sink{discard{}}, []*learner{ln}, nil); err != nil {
		t.Fatal(err)
	}
	f := ln.fit
	keep := make([]bool, len(f.rows))
	for i := range keep {
		keep[i] = true
	}
	for round := 0; round < 4; round++ {
		x := f.nnls(keep)
		n := 0
		for i := range keep {
			if keep[i] {
				n++
			}
		}
		fmt.Println("round", round, "kept", n, "x", x)
		for i := range f.rows[:12] {
			fmt.Printf("  row %d res %.3f keep %v\n", i, f.residual(&f.rows[i], x), keep[i])
		}
		f.trim(keep, x)
	}
}

func TestZZArrive(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	sh := newShards(Options{}, []Sink{discard{}}, nil, nil)
	_ = sh
	a := newArrivals()
	tr, _ := readAllEvents(os.Getenv("ZZ"))
	n := 0
	for _, ev := range tr {
		it := item{ev: ev}
		a.observe(&it)
		if it.arrive != nil && n < 10 {
			n++
			at, ok := it.arrive.all()
			fmt.Println(ev.Pid, ev.Kind, ev.TsNs, at, ok, it.arrive.count.Load(), it.arrive.group.ranks.Load())
		}
	}
	fmt.Println(len(a.groups), len(a.members))
}
