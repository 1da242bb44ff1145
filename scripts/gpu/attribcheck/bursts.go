package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/linkprof/linkprof/trace"
)

// printBursts checks that each phase is one burst on each GPU, labelled
// with the ops that moved its bytes (as sets: "AllReduce+AllGather" and
// "AllGather+AllReduce" agree). A phase's window is its wall-clock span
// plus 150 ms for the GPU to finish, mapped onto the recording's clock.
func printBursts(tr *trace.Trace, rep reportJSON, phases []phase, world int) {
	start := tr.Start.Clock
	toWallS := func(ns int64) float64 { return float64(start.WallNs+ns) / 1e9 }
	fmt.Printf("\n| phase | GPU | bursts | label | expected |\n|---|---:|---:|---|---|\n")
	one, agree, n := 0, 0, 0
	for _, p := range phases {
		want := opSet(p)
		for gpu := range world {
			var labels []string
			for _, b := range rep.Bursts.List {
				lo, hi := toWallS(b.StartNs), toWallS(b.StartNs+b.DurationNs)
				if b.GPU == gpu && hi > p.StartWall && lo < p.EndWall+0.15 {
					labels = append(labels, b.Label)
				}
			}
			n++
			ok := len(labels) == 1 && sameSet(labels[0], want)
			if len(labels) == 1 {
				one++
			}
			if ok {
				agree++
			}
			fmt.Printf("| %s | %d | %d | %s | %s |\n", p.Phase, gpu, len(labels), strings.Join(labels, ", "), want)
		}
	}
	fmt.Printf("\nphases x GPUs: %d; exactly one burst: %d; one burst with the expected label: %d\n", n, one, agree)
}

// opSet is the ops of a phase that move link bytes, joined by "+".
func opSet(p phase) string {
	var ops []string
	for op := range p.Ops {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return strings.Join(ops, "+")
}

func sameSet(label, want string) bool {
	a, b := strings.Split(label, "+"), strings.Split(want, "+")
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
