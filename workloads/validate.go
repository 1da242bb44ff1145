package workloads

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

type validator struct {
	root   *yaml.Node
	issues []Issue
}

func (v *validator) errorf(path []string, format string, args ...any) {
	v.issues = append(v.issues, Issue{lineOf(v.root, path...), fmt.Sprintf(format, args...)})
}

func p(path ...string) []string { return path }

var cardName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func (v *validator) card(c *Card) {
	switch {
	case c.Name == "":
		v.errorf(p("name"), "name is required")
	case !cardName.MatchString(c.Name):
		v.errorf(p("name"), "name %q must be lowercase letters, digits, '.', '_' or '-'", c.Name)
	}
	v.families(c.Families)
	v.required(p("model"), c.Model)
	v.required(p("hardware"), c.Hardware)
	v.oneOf(p("architecture"), c.Architecture, "dense", "moe")
	v.oneOf(p("framework"), c.Framework, "vllm", "sglang", "standin", "torchtitan")
	v.oneOf(p("driver"), c.Driver, DriverLoadgen, DriverExternal)
	v.flags(&c.Flags)
	v.assumed(c.Assumed)
	switch c.Driver {
	case DriverLoadgen:
		v.loadgen(c)
	case DriverExternal:
		v.external(c)
	}
}

func (v *validator) required(path []string, val string) {
	if strings.TrimSpace(val) == "" {
		v.errorf(path, "%s is required", path[len(path)-1])
	}
}

func (v *validator) oneOf(path []string, val string, allowed ...string) {
	if slices.Contains(allowed, val) {
		return
	}
	key := path[len(path)-1]
	if val == "" {
		v.errorf(path, "%s is required (%s)", key, strings.Join(allowed, " | "))
		return
	}
	v.errorf(path, "%s must be %s, not %q", key, strings.Join(allowed, " | "), val)
}

func (v *validator) families(fams []string) {
	seen := map[string]bool{}
	for _, f := range fams {
		if _, ok := FamilyByName(f); !ok {
			v.errorf(p("families"), "unknown family %q (known: %s)", f, strings.Join(familyNames(), ", "))
		}
		if seen[f] {
			v.errorf(p("families"), "family %q listed twice", f)
		}
		seen[f] = true
	}
}

func (v *validator) flags(f *FrameworkFlags) {
	if f.CUDAGraphs == nil {
		v.errorf(p("flags", "cuda_graphs"), "flags.cuda_graphs is required (true or false): it decides whether decode collectives call NCCL")
	}
	if f.CustomAllReduce == nil {
		v.errorf(p("flags", "custom_all_reduce"), "flags.custom_all_reduce is required (true or false): custom all-reduce bypasses NCCL")
	}
	for k := range f.Env {
		if k == "" || strings.ContainsAny(k, "= ") {
			v.errorf(p("flags", "env"), "flags.env key %q is not an environment variable name", k)
		}
	}
}

// assumable are the keys a card may mark as assumed.
var assumable = []string{
	"tp", "batch", "dataset", "arrival", "prompt", "input_len", "output_len", "requests",
	"duration", "burst", "hardware", "flags", "flags.cuda_graphs", "flags.custom_all_reduce",
	"flags.args", "flags.env", "external.command",
}

func (v *validator) assumed(keys []string) {
	for _, k := range keys {
		if !slices.Contains(assumable, k) {
			v.errorf(p("assumed"), "assumed: unknown field %q (known: %s)", k, strings.Join(assumable, ", "))
		}
	}
}

// ValidTP reports whether tp is a tensor-parallel size the cards know.
func ValidTP(tp int) bool { return slices.Contains([]int{1, 2, 4, 8}, tp) }

func (v *validator) tp(tp int) {
	if !ValidTP(tp) {
		v.errorf(p("tp"), "tp must be 1, 2, 4 or 8, not %d", tp)
	}
}

func (v *validator) loadgen(c *Card) {
	v.tp(c.TP)
	if c.Batch < 1 {
		v.errorf(p("batch"), "batch (requests in flight) must be at least 1, not %d", c.Batch)
	}
	if c.Framework == "torchtitan" {
		v.errorf(p("framework"), "torchtitan is a training job: use driver: external")
	}
	if c.External != nil {
		v.errorf(p("external"), "external is only for driver: external")
	}
	if c.Requests < 0 {
		v.errorf(p("requests"), "requests must not be negative")
	}
	if c.Duration < 0 {
		v.errorf(p("duration"), "duration must not be negative")
	}
	v.oneOf(p("dataset"), c.Dataset, DatasetDummy, DatasetBurstGPT)
	switch c.Dataset {
	case DatasetDummy:
		v.dummy(c)
	case DatasetBurstGPT:
		v.burstgpt(c)
	}
}

func (v *validator) dummy(c *Card) {
	if c.Arrival != ArrivalInfinite {
		v.errorf(p("arrival"), "arrival must be infinite for dataset dummy, not %q", c.Arrival)
	}
	if c.Prompt != "" {
		v.oneOf(p("prompt"), c.Prompt, PromptRepeated, PromptDistinct)
	}
	if c.InputLen < 1 {
		v.errorf(p("input_len"), "input_len must be at least 1 token for dataset dummy")
	}
	if c.OutputLen < 1 {
		v.errorf(p("output_len"), "output_len must be at least 1 token for dataset dummy")
	}
	if (c.Requests > 0) == (c.Duration > 0) {
		v.errorf(p("requests"), "give exactly one of requests and duration for dataset dummy")
	}
	if c.Burst != nil {
		v.errorf(p("burst"), "burst is only for dataset burstgpt")
	}
}

func (v *validator) burstgpt(c *Card) {
	if c.Arrival != ArrivalTrace {
		v.errorf(p("arrival"), "arrival must be trace for dataset burstgpt, not %q", c.Arrival)
	}
	if has(v.root, "input_len") || has(v.root, "output_len") {
		v.errorf(p("input_len"), "input_len and output_len come from the BurstGPT file: remove them")
	}
	if has(v.root, "prompt") {
		v.errorf(p("prompt"), "prompt is only for dataset dummy")
	}
	b := c.Burst
	if b == nil {
		v.errorf(p("dataset"), "burst (start, window, time_scale) is required for dataset burstgpt")
		return
	}
	if b.Start < 0 || b.Window < 0 {
		v.errorf(p("burst", "start"), "burst.start and burst.window must not be negative")
	}
	if b.TimeScale <= 0 {
		v.errorf(p("burst", "time_scale"), "burst.time_scale must be above 0 (1 replays in real time)")
	}
	if b.MaxInputLen < 0 || b.MaxOutputLen < 0 {
		v.errorf(p("burst", "max_input_len"), "burst.max_input_len and max_output_len must not be negative")
	}
}

func (v *validator) external(c *Card) {
	if c.External == nil || strings.TrimSpace(c.External.Description) == "" {
		at := p("external", "description")
		if c.External == nil {
			at = p("driver")
		}
		v.errorf(at, "driver external needs external.description (what drove the trace)")
	}
	if has(v.root, "tp") {
		v.tp(c.TP)
	}
	for _, k := range []string{"dataset", "arrival", "prompt", "input_len", "output_len", "requests", "duration", "burst", "batch"} {
		if has(v.root, k) {
			v.errorf(p(k), "%s is for driver loadgen: an external driver sets its own load", k)
		}
	}
}
