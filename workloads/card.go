// Package workloads holds the workload cards that describe how each trace
// was collected, and the catalog of cards shipped inside the binary.
package workloads

import (
	"bytes"
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Card describes one trace collection: the model and framework served,
// the load driven against it and the flags that decide whether its
// collectives are visible to linkprof. YAML keys are the field tags.
type Card struct {
	Name         string   `yaml:"name"`
	Families     []string `yaml:"families,omitempty"`
	Description  string   `yaml:"description,omitempty"`
	Model        string   `yaml:"model"`
	Architecture string   `yaml:"architecture"` // dense | moe
	Framework    string   `yaml:"framework"`    // vllm | sglang | standin | torchtitan
	TP           int      `yaml:"tp,omitempty"`
	Batch        int      `yaml:"batch,omitempty"` // requests in flight at most
	Driver       string   `yaml:"driver"`          // loadgen | external

	// Load, for driver loadgen.
	Dataset   string        `yaml:"dataset,omitempty"` // dummy | burstgpt
	Arrival   string        `yaml:"arrival,omitempty"` // infinite | trace
	Prompt    string        `yaml:"prompt,omitempty"`  // repeated | distinct (dummy only)
	InputLen  int           `yaml:"input_len,omitempty"`
	OutputLen int           `yaml:"output_len,omitempty"`
	Requests  int           `yaml:"requests,omitempty"`
	Duration  time.Duration `yaml:"duration,omitempty"`
	Burst     *Burst        `yaml:"burst,omitempty"`

	Group    string         `yaml:"group,omitempty"`
	Hardware string         `yaml:"hardware"`
	Flags    FrameworkFlags `yaml:"flags"`
	External *External      `yaml:"external,omitempty"`

	// Assumed lists the fields whose values are this repository's choice for
	// a re-collection, not facts recorded with the original trace.
	Assumed []string `yaml:"assumed,omitempty"`
	// Deviations says how a collection departed from the card (written by
	// linkprof collect: a stand-in served, fewer ranks, a scaled model).
	Deviations []string `yaml:"deviations,omitempty"`

	// Collection is filled by linkprof collect in the trace folder's copy.
	Collection *Collection `yaml:"collection,omitempty"`
}

// Burst says which part of a BurstGPT file the trace replays.
type Burst struct {
	File         string  `yaml:"file,omitempty"` // the BurstGPT release file used
	Start        float64 `yaml:"start"`          // trace seconds
	Window       float64 `yaml:"window"`         // trace seconds; 0: to the end
	TimeScale    float64 `yaml:"time_scale"`     // wall seconds per trace second
	MaxInputLen  int     `yaml:"max_input_len,omitempty"`
	MaxOutputLen int     `yaml:"max_output_len,omitempty"`
}

// FrameworkFlags are recorded either way because they decide what linkprof
// can see: CUDA-graph replays and custom all-reduce make no NCCL host calls.
type FrameworkFlags struct {
	CUDAGraphs      *bool             `yaml:"cuda_graphs"`
	CustomAllReduce *bool             `yaml:"custom_all_reduce"`
	Args            []string          `yaml:"args,omitempty"`
	Env             map[string]string `yaml:"env,omitempty"`
}

// External describes a trace driven by something other than the load
// generator (a training job).
type External struct {
	Description string `yaml:"description"`
	Command     string `yaml:"command,omitempty"`
}

// Collection holds the facts linkprof collect found on the machine.
type Collection struct {
	Date             string            `yaml:"date"`
	Host             string            `yaml:"host,omitempty"`
	GPUs             []GPUFact         `yaml:"gpus,omitempty"`
	NCCLVersion      string            `yaml:"nccl_version,omitempty"`
	TorchVersion     string            `yaml:"torch_version,omitempty"`
	FrameworkVersion string            `yaml:"framework_version,omitempty"`
	Server           []string          `yaml:"server_command,omitempty"`
	ServerEnv        map[string]string `yaml:"server_env,omitempty"`
	Recorder         []string          `yaml:"recorder_command,omitempty"`
	Load             *LoadFacts        `yaml:"load,omitempty"`
	Training         *TrainingFacts    `yaml:"training,omitempty"`
	Linkprof         string            `yaml:"linkprof_version,omitempty"`
	Notes            []string          `yaml:"notes,omitempty"`
}

// GPUFact is one line of nvidia-smi --query-gpu=name,driver_version.
type GPUFact struct {
	Name   string `yaml:"name"`
	Driver string `yaml:"driver"`
}

// LoadFacts summarises the load that ran during the recording.
type LoadFacts struct {
	Args      []string `yaml:"args,omitempty"`
	Sent      int      `yaml:"sent"`
	Completed int      `yaml:"completed"`
	Failed    int      `yaml:"failed"`
	DurationS float64  `yaml:"duration_s"`
	Results   string   `yaml:"results,omitempty"`
}

// TrainingFacts summarises a training stand-in's run (external cards).
type TrainingFacts struct {
	Command    []string `yaml:"command"`
	Ranks      int      `yaml:"ranks"`
	Steps      int      `yaml:"steps"`
	DurationS  float64  `yaml:"duration_s"`
	TokensPerS float64  `yaml:"tokens_per_s,omitempty"`
	Results    string   `yaml:"results,omitempty"`
}

// IsExternal reports whether the card's load is not driven by linkprof.
func (c *Card) IsExternal() bool { return c.Driver == DriverExternal }

// Driver and enum values.
const (
	DriverLoadgen  = "loadgen"
	DriverExternal = "external"

	DatasetDummy    = "dummy"
	DatasetBurstGPT = "burstgpt"

	ArrivalInfinite = "infinite"
	ArrivalTrace    = "trace"

	PromptRepeated = "repeated"
	PromptDistinct = "distinct"
)

// Marshal writes a card as YAML that Parse accepts.
func Marshal(c *Card) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding card: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding card: %w", err)
	}
	return buf.Bytes(), nil
}
