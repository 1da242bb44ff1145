// Package collect runs one workload card end to end: it starts the card's
// serving framework, records its process tree with linkprof record while
// the load runs, stops everything and writes the trace folder's card.yaml.
package collect

import (
	"fmt"
	"strconv"

	"github.com/linkprof/linkprof/workloads"
)

// Stand-in environment: NVLink SHARP (NVLS) multicast stays off on the test
// machines, and the stand-in must not depend on it.
var standinEnv = map[string]string{
	"NCCL_NVLS_ENABLE":                 "0",
	"TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
	"NVSHMEM_DISABLE_NVLS":             "1",
}

// ServerSpec says how to start a card's server.
type ServerSpec struct {
	Framework     string // the card's, or "standin"
	Python        string // interpreter for sglang and the stand-in
	Vllm          string // the vllm executable
	StandinScript string // server.py; train.py lies beside it
	InfoFile      string // the stand-in writes what it ran here (--info)
	Host          string
	Port          int
	Extra         []string // appended as given (--server-arg)
}

// ServerCommand returns the argv and extra environment that start card's
// server as spec says. The framework flags that decide what linkprof can
// see are always spelled out.
func ServerCommand(c *workloads.Card, spec ServerSpec) ([]string, map[string]string, error) {
	tp, port := strconv.Itoa(c.TP), strconv.Itoa(spec.Port)
	graphs, custom := *c.Flags.CUDAGraphs, *c.Flags.CustomAllReduce
	env := map[string]string{}
	for k, v := range c.Flags.Env {
		env[k] = v
	}
	var argv []string
	switch spec.Framework {
	case "vllm":
		argv = []string{spec.Vllm, "serve", c.Model, "--tensor-parallel-size", tp, "--host", spec.Host, "--port", port}
		argv = appendIf(argv, !graphs, "--enforce-eager")
		argv = appendIf(argv, !custom, "--disable-custom-all-reduce")
		argv = append(argv, c.Flags.Args...)
	case "sglang":
		argv = []string{spec.Python, "-m", "sglang.launch_server", "--model-path", c.Model, "--tp", tp, "--host", spec.Host, "--port", port}
		argv = appendIf(argv, !graphs, "--disable-cuda-graph")
		argv = appendIf(argv, !custom, "--disable-custom-all-reduce")
		argv = append(argv, c.Flags.Args...)
	case "standin":
		// The stand-in has no custom all-reduce: every all-reduce is NCCL.
		// The card's framework args are for the real framework; skip them.
		argv = []string{spec.Python, spec.StandinScript, "--tp", tp, "--host", spec.Host, "--port", port,
			"--batch", strconv.Itoa(c.Batch), "--model", c.Model}
		argv = appendIf(argv, graphs, "--cuda-graphs")
		if spec.InfoFile != "" {
			argv = append(argv, "--info", spec.InfoFile)
		}
		env = map[string]string{}
		for k, v := range standinEnv {
			env[k] = v
		}
	default:
		return nil, nil, fmt.Errorf("card %s: no server for framework %q (use --standin)", c.Name, spec.Framework)
	}
	return append(argv, spec.Extra...), env, nil
}

func appendIf(argv []string, cond bool, flag string) []string {
	if cond {
		return append(argv, flag)
	}
	return argv
}
