package collect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/linkprof/linkprof/workloads"
)

// Prober runs a short command and returns its standard output.
type Prober func(ctx context.Context, argv ...string) (string, error)

// ExecProbe runs argv with a minute's limit.
func ExecProbe(ctx context.Context, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
		err = fmt.Errorf("%w: %s", err, lines[len(lines)-1])
	}
	return string(out), err
}

const torchProbe = "import torch; print(torch.__version__); print('.'.join(map(str, torch.cuda.nccl.version())))"

// gatherFacts fills what can be learnt about the machine. What cannot be
// learnt becomes a note, never an error: a trace without facts is still a
// trace.
func gatherFacts(ctx context.Context, probe Prober, python, framework string, now time.Time) *workloads.Collection {
	col := &workloads.Collection{Date: now.UTC().Format(time.RFC3339)}
	col.Host, _ = os.Hostname()
	note := func(format string, args ...any) { col.Notes = append(col.Notes, fmt.Sprintf(format, args...)) }
	if out, err := probe(ctx, "nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"); err != nil {
		note("nvidia-smi: %v", err)
	} else {
		col.GPUs = parseGPUs(out)
	}
	if out, err := probe(ctx, python, "-c", torchProbe); err != nil {
		note("torch and NCCL versions: %v", err)
	} else if lines := strings.Fields(out); len(lines) == 2 {
		col.TorchVersion, col.NCCLVersion = lines[0], lines[1]
	}
	switch framework {
	case "vllm", "sglang":
		out, err := probe(ctx, python, "-c", "import "+framework+"; print("+framework+".__version__)")
		if err != nil {
			note("%s version: %v", framework, err)
		} else {
			col.FrameworkVersion = framework + " " + strings.TrimSpace(out)
		}
	case "standin":
		col.FrameworkVersion = "standin (scripts/standin/server.py, random weights)"
	}
	return col
}

// parseGPUs reads nvidia-smi's "name, driver" lines.
func parseGPUs(out string) []workloads.GPUFact {
	var gpus []workloads.GPUFact
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, driver, ok := strings.Cut(line, ",")
		if !ok {
			continue
		}
		gpus = append(gpus, workloads.GPUFact{Name: strings.TrimSpace(name), Driver: strings.TrimSpace(driver)})
	}
	return gpus
}
