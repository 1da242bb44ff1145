package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
)

// The per-process NVML schedule (--nvml-schedule per-process) runs this
// binary again once per GPU with this hidden command: it reads one GPU's
// NVLink counters and streams binary samples to the recorder over stdout; the
// recorder sends rate changes on stdin.
func init() {
	register(command{
		name:    nvlink.ReaderCommand,
		summary: "internal: one GPU's NVML reader for --nvml-schedule per-process",
		run:     runNVMLReader,
	})
}

func runNVMLReader(args []string) error {
	a, err := nvlink.ParseReaderArgs(args)
	if err != nil {
		return usagef("%s: %v", nvlink.ReaderCommand, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.Control = os.Stdin
	return nvlink.RunReader(ctx, nvml.New(), a, os.Stdout)
}
