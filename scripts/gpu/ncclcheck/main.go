// Command ncclcheck compares linkprof's recordings of NVIDIA's nccl-tests
// (scripts/gpu/nccltests.sh) with nccl-tests' own table: for every test,
// mode and size, the calls linkprof recorded against the iterations
// nccl-tests ran, the payload against its size column, and linkprof's
// achieved link bandwidth (attributed TX over the modelled GPU time of
// those calls) beside nccl-tests' busbw; and per recording the share of
// link bytes attributed to the test's op.
//
//	go run ./scripts/gpu/ncclcheck DIR   (DIR holds TEST-MODE/ and TEST-MODE.out)
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ncclcheck DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "ncclcheck:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	outs, err := filepath.Glob(filepath.Join(dir, "*.out"))
	if err != nil {
		return err
	}
	sort.Strings(outs)
	fmt.Println("| test | mode | size | calls recorded / expected | payload / size | linkprof link GB/s while busy | nccl-tests busbw GB/s |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	var summary []string
	for _, out := range outs {
		name := strings.TrimSuffix(filepath.Base(out), ".out")
		test, mode, _ := strings.Cut(name, "-")
		line, err := checkRun(filepath.Join(dir, name), out, test, mode)
		if err != nil {
			summary = append(summary, fmt.Sprintf("| %s | %s | error: %v |", test, mode, err))
			continue
		}
		summary = append(summary, line)
	}
	fmt.Println("\n| test | mode | calls exact | link bytes attributed to the test's op |\n|---|---|---|---:|")
	for _, l := range summary {
		fmt.Println(l)
	}
	return nil
}
