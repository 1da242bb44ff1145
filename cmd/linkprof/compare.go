package main

import (
	"os"

	"github.com/linkprof/linkprof/report"
)

const compareUsage = "compare DIR_A DIR_B"

func init() {
	register(command{name: "compare", summary: "compare two recordings side by side: per op bytes and bursts", run: runCompare})
}

func runCompare(args []string) error {
	fs := newFlags("compare")
	if err := parseFlags(fs, compareUsage, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("compare: give two recording folders (usage: linkprof %s)", compareUsage)
	}
	a, err := report.ForDir(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := report.ForDir(fs.Arg(1))
	if err != nil {
		return err
	}
	return report.WriteCompare(os.Stdout, fs.Arg(0), fs.Arg(1), a, b)
}
