package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
)

// nvmlReaderCommand is the hidden command the per-process NVML schedule
// (--nvml-schedule per-process) runs this binary again with, once per GPU:
// it reads one GPU's NVLink counters and streams binary samples to the
// recorder over stdout; the recorder sends rate changes on stdin.
const nvmlReaderCommand = "__nvml-reader"

func init() {
	register(command{
		name:    nvmlReaderCommand,
		summary: "internal: one GPU's NVML reader for --nvml-schedule per-process",
		run:     runNVMLReader,
	})
}

func runNVMLReader(args []string) error {
	a, err := nvlink.ParseReaderArgs(args)
	if err != nil {
		return usagef("%s: %v", nvmlReaderCommand, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.Control = os.Stdin
	return nvlink.RunReader(ctx, nvml.New(), a, os.Stdout)
}
