package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/linkprof/linkprof/workloads"
	"github.com/linkprof/linkprof/workloads/collect"
	"github.com/linkprof/linkprof/workloads/loadgen"
)

func init() {
	register(command{
		name:    "collect",
		summary: "start a card's server, record it under load, write the trace folder",
		run:     runCollect,
	})
}

const collectUsage = "collect NAME|FILE [-o DIR] [--standin [--tp N] [--steps N]] [load flags]"

func runCollect(args []string) error {
	fs := newFlags("collect")
	var lf loadFlags
	dir := fs.StringP("output", "o", "", "trace folder (default: ./CARD-NAME); must not hold files")
	standin := fs.Bool("standin", false, "serve with the stand-in (scripts/standin: random weights, torch only) instead of the card's framework; training cards run its FSDP trainer under torchrun")
	script := fs.String("standin-script", "", "the stand-in's server.py, train.py beside it (default: the copy built into this linkprof, written to a temporary folder for the run)")
	tp := fs.Int("tp", 0, "ranks in place of the card's tp (machines with fewer GPUs; training: default the GPUs present); card.yaml lists it under deviations")
	steps := fs.Int("steps", collect.DefaultSteps, "training cards with --standin: optimizer steps")
	python := fs.String("python", "python3", "Python interpreter for SGLang, the stand-in and version probes")
	vllm := fs.String("vllm", "vllm", "vllm executable")
	port := fs.Int("port", 0, "server port (default: a free one)")
	serverArgs := fs.StringArray("server-arg", nil, "extra argument for the server command (repeat)")
	ready := fs.Duration("ready-timeout", 30*time.Minute, "how long the server may take to answer /health")
	settle := fs.Duration("settle", 2*time.Second, "wait between the recorder attaching and the load")
	noRecord := fs.Bool("no-record", false, "drive the server without recording (checks a setup)")
	lf.add(fs)
	if err := parseFlags(fs, collectUsage, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("collect: give one card name or file (linkprof workload list)")
	}
	card, _, err := workloads.Load(fs.Arg(0))
	if err != nil {
		return cardError(err)
	}
	if card.IsExternal() && !*standin {
		return usagef("card %s is driven by its own %s job, not a server: run that job and record it with linkprof record, or collect it with --standin (FSDP stand-in)", card.Name, card.Framework)
	}
	if fs.Changed("steps") && (!card.IsExternal() || *steps < 1) {
		return usagef("collect: --steps N (N >= 1) is for training cards with --standin")
	}
	if *tp != 0 && !workloads.ValidTP(*tp) {
		return usagef("collect: --tp must be 1, 2, 4 or 8, not %d", *tp)
	}
	if *dir == "" {
		*dir = card.Name
	}
	if *port == 0 {
		if *port, err = freePort(); err != nil {
			return err
		}
	}
	spec := collect.ServerSpec{Framework: card.Framework, Python: *python, Vllm: *vllm,
		Host: "127.0.0.1", Port: *port, Extra: *serverArgs}
	if *standin {
		spec.Framework = "standin"
		tmp, err := os.MkdirTemp("", "linkprof-standin-")
		if err != nil {
			return fmt.Errorf("creating the stand-in's folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		if spec.StandinScript, err = collect.StandinScript(*script, tmp); err != nil {
			return err
		}
	}
	o := lf.options(fs)
	o.URL = fmt.Sprintf("http://127.0.0.1:%d", *port)
	if !card.IsExternal() {
		if err := loadgen.Check(card, &o); err != nil {
			return loadResult(nil, err, "")
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := collect.Collect(ctx, collect.Config{
		Card: card, Dir: *dir, Server: spec, ReadyTimeout: *ready, Settle: *settle, TP: *tp, Steps: *steps,
		NoRecord: *noRecord, Load: o, LoadArgs: args, Log: os.Stderr, Version: version,
	})
	return collectResult(res, err)
}

// collectResult: 0 after a whole collection, 130 when interrupted (the
// folder is still written), 1 with the reason on a real failure.
func collectResult(res *collect.Result, err error) error {
	if res == nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "collect: trace folder %s\n", res.Dir)
	if err != nil {
		return err
	}
	if res.Report == nil {
		if res.Interrupted {
			return exitStatusError{130, "interrupted: the training job was stopped, trace folder " + res.Dir}
		}
		return nil
	}
	return loadResult(res.Report, nil, res.Dir+"/load.json")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
