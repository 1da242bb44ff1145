package collect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/linkprof/linkprof/workloads"
)

// GateEnv names the file the training stand-in's ranks wait for before
// they create their NCCL communicators: collect creates it once the
// recorder's probes are attached, so the recording holds every call.
const GateEnv = "LINKPROF_STANDIN_GATE"

// DefaultSteps is the training stand-in's step count when none is given.
const DefaultSteps = 20

// collectJob runs an external (training) card with the training stand-in
// under torchrun, as torchtitan runs, records its process tree and waits
// for it to finish.
func (cfg *Config) collectJob(ctx context.Context, tmp string, devs []string) (*Result, error) {
	if cfg.Server.Framework != "standin" {
		return nil, fmt.Errorf("card %s is driven by its own %s job: run it and record it with linkprof record, or use --standin", cfg.Card.Name, cfg.Card.Framework)
	}
	ranks := cfg.TP
	if ranks == 0 {
		out, err := cfg.Probe(ctx, "nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader")
		if ranks = len(parseGPUs(out)); err != nil || ranks == 0 {
			return nil, fmt.Errorf("counting GPUs (nvidia-smi: %v): give --tp N", err)
		}
	}
	devs = append(devs, fmt.Sprintf("ranks: %d, the GPUs used here (the card's job: external.command)", ranks))
	argv := cfg.jobCommand(ranks)
	gate := filepath.Join(tmp, "gate")
	env := map[string]string{GateEnv: gate}
	for k, v := range standinEnv {
		env[k] = v
	}
	logFile, err := os.CreateTemp(tmp, "job-*.log")
	if err != nil {
		return nil, fmt.Errorf("creating job log: %w", err)
	}
	cfg.logf("starting training job: %v (log: %s/job.log)", argv, cfg.Dir)
	job, err := startProc("training job", exec.Command(argv[0], argv[1:]...), env, logFile)
	if err != nil {
		return nil, errors.Join(err, moveInto(logFile, cfg.Dir, "job.log"))
	}
	res, col, err := cfg.recordJob(ctx, job, gate)
	err = errors.Join(err, moveInto(logFile, cfg.Dir, "job.log"))
	if col == nil {
		return res, err
	}
	col.Training = cfg.trainingFacts(argv, ranks, col)
	col.FrameworkVersion = "standin (scripts/standin/train.py, FSDP, random weights)"
	devs = append(devs, cfg.standinDeviation()...)
	return res, errors.Join(err, writeCard(cfg.Dir, cfg.Card, col, devs))
}

func (cfg *Config) jobCommand(ranks int) []string {
	if len(cfg.JobArgv) > 0 {
		return append(slices.Clone(cfg.JobArgv), "--info", cfg.Server.InfoFile)
	}
	steps := cfg.Steps
	if steps == 0 {
		steps = DefaultSteps
	}
	script := filepath.Join(filepath.Dir(cfg.Server.StandinScript), "train.py")
	argv := []string{cfg.Server.Python, "-m", "torch.distributed.run", "--standalone",
		"--nproc-per-node", strconv.Itoa(ranks), script, "--model", cfg.Card.Model,
		"--steps", strconv.Itoa(steps), "--info", cfg.Server.InfoFile}
	return append(argv, cfg.Server.Extra...)
}

// recordJob attaches the recorder to the job, opens the gate and waits for
// the job to end (or ctx, which stops it).
func (cfg *Config) recordJob(ctx context.Context, job *proc, gate string) (*Result, *workloads.Collection, error) {
	rec, recArgv, err := cfg.maybeRecord(ctx, job.pid())
	if err != nil {
		return nil, nil, errors.Join(err, job.stop(cfg.Grace))
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("opening the gate: %w", err), job.stop(cfg.Grace))
	}
	cfg.logf("training")
	start := time.Now()
	res := &Result{Dir: cfg.Dir}
	var errs []error
	select {
	case <-job.done:
		if job.err != nil {
			errs = append(errs, fmt.Errorf("training job failed (%v): see job.log", job.err))
		}
		// torchrun ended; ranks still in NCCL or CUDA teardown go too.
		if err := reapGroup(job.pid(), cfg.Grace); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", job.name, err))
		}
	case <-ctx.Done():
		res.Interrupted = true
		cfg.logf("interrupted: stopping the training job")
		errs = append(errs, job.stop(cfg.Grace))
	}
	took := time.Since(start)
	if rec != nil {
		cfg.logf("stopping recorder")
		errs = append(errs, rec.stop(cfg.Grace))
	}
	col := cfg.facts(ctx, recArgv)
	col.Training = &workloads.TrainingFacts{DurationS: took.Seconds()}
	return res, col, errors.Join(errs...)
}

func (cfg *Config) trainingFacts(argv []string, ranks int, col *workloads.Collection) *workloads.TrainingFacts {
	t := &workloads.TrainingFacts{Command: argv, Ranks: ranks, Steps: cfg.Steps, DurationS: col.Training.DurationS}
	if t.Steps == 0 {
		t.Steps = DefaultSteps
	}
	if f, err := readStandinFacts(cfg.Server.InfoFile); err == nil {
		t.TokensPerS, t.Results = f.TokensPerS, standinInfo
	}
	return t
}
