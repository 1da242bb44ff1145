package workloads

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The traces named in issue 5; one card each.
var issueTraces = []string{
	"llama3.1-8b-torchtitan-perlmutter", "deepseekv2lite-vllm-lambda1",
	"qwen3-32b-tp_2-batch_1-sglang-group_11", "qwen3-32b-tp_2-batch_4-sglang-group_11",
	"qwen3-32b-tp_4-batch_1-sglang-group_11", "qwen3-32b-tp_4-batch_4-sglang-group_11",
	"qwen3-32b-tp_4-batch_4-burst-sglang-group_11", "qwen3-32b-tp_2-batch_1-vllm-group_11",
	"qwen3-32b-tp_2-batch_4-vllm-group_11", "qwen3-32b-tp_4-batch_1-vllm-group_11",
	"qwen3-32b-tp_4-batch_4-vllm-group_11", "qwen3-32b-tp_4-batch_4-burst-vllm-group_11",
	"qwen3-30b-a3b-tp_2-batch_1-vllm-group_11", "qwen3-30b-a3b-tp_2-batch_4-vllm-group_11",
	"qwen3-30b-a3b-tp_4-batch_1-vllm-group_11", "qwen3-30b-a3b-tp_4-batch_4-vllm-group_11",
}

func TestShippedCardsAreTheIssueTraces(t *testing.T) {
	want := slices.Sorted(slices.Values(issueTraces))
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("shipped cards\n got %v\nwant %v", got, want)
	}
}

var nameTP = regexp.MustCompile(`-tp_(\d+)-`)
var nameBatch = regexp.MustCompile(`-batch_(\d+)-`)

// Every card must be valid and agree with what its name says.
func TestShippedCardsValidAndMatchTheirNames(t *testing.T) {
	for _, name := range Names() {
		c, err := Lookup(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m := nameTP.FindStringSubmatch(name); m != nil && strconv.Itoa(c.TP) != m[1] {
			t.Errorf("%s: tp %d", name, c.TP)
		}
		if m := nameBatch.FindStringSubmatch(name); m != nil && strconv.Itoa(c.Batch) != m[1] {
			t.Errorf("%s: batch %d", name, c.Batch)
		}
		if !strings.Contains(name, "-"+c.Framework) {
			t.Errorf("%s: framework %s not in the name", name, c.Framework)
		}
		if burst := strings.Contains(name, "-burst-"); burst != (c.Dataset == DatasetBurstGPT) {
			t.Errorf("%s: dataset %s", name, c.Dataset)
		}
		if strings.Contains(name, "group_11") != (c.Group == "group_11") {
			t.Errorf("%s: group %q", name, c.Group)
		}
		if strings.HasPrefix(name, "qwen3-30b-a3b") != (c.Architecture == "moe" && c.Model == "Qwen/Qwen3-30B-A3B") {
			t.Errorf("%s: model %s %s", name, c.Model, c.Architecture)
		}
	}
}

func TestFamiliesCoverTheirCards(t *testing.T) {
	count := map[string]int{}
	for _, name := range Names() {
		c, _ := Lookup(name)
		for _, f := range c.Families {
			count[f]++
		}
	}
	want := map[string]int{"scaling": 8, "bursty": 2, "moe": 4, "frameworks": 10}
	for f, n := range want {
		if count[f] != n {
			t.Errorf("family %s has %d cards, want %d", f, count[f], n)
		}
	}
	if got := len(Families()); got != 4 {
		t.Errorf("%d families, want 4", got)
	}
}

func TestTorchtitanIsExternal(t *testing.T) {
	c, err := Lookup("llama3.1-8b-torchtitan-perlmutter")
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsExternal() || c.External.Description == "" {
		t.Fatalf("driver %q external %+v", c.Driver, c.External)
	}
}

func TestLoadFileCard(t *testing.T) {
	c, _, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Duration != 90*time.Second || c.Prompt != PromptDistinct || c.Batch != 3 ||
		c.Flags.Env["NCCL_DEBUG"] != "INFO" || !slices.Equal(c.Flags.Args, []string{"--max-len", "4096"}) {
		t.Fatalf("decoded %+v", c)
	}
}

func TestUnknownCard(t *testing.T) {
	if _, _, err := Load("no-such-card"); !errors.Is(err, ErrUnknownCard) {
		t.Fatalf("err = %v", err)
	}
}

func TestBadCardsGiveLineNumbers(t *testing.T) {
	cases := map[string][]string{
		"tp3.yaml": {"testdata/bad/tp3.yaml:5: tp must be 1, 2, 4 or 8, not 3"},
		"many.yaml": {
			`testdata/bad/many.yaml:1: name "Bad Name" must be lowercase letters, digits, '.', '_' or '-'`,
			`testdata/bad/many.yaml:2: unknown family "nonsense" (known: scaling, bursty, moe, frameworks)`,
			`testdata/bad/many.yaml:4: architecture must be dense | moe, not "sparse"`,
			`testdata/bad/many.yaml:7: batch (requests in flight) must be at least 1, not 0`,
			`testdata/bad/many.yaml:9: burst (start, window, time_scale) is required for dataset burstgpt`,
			`testdata/bad/many.yaml:10: arrival must be trace for dataset burstgpt, not "infinite"`,
			`testdata/bad/many.yaml:11: input_len and output_len come from the BurstGPT file: remove them`,
			`testdata/bad/many.yaml:13: flags.custom_all_reduce is required (true or false): custom all-reduce bypasses NCCL`,
			`testdata/bad/many.yaml:15: assumed: unknown field "colour" (known: tp, batch, dataset, arrival, prompt, input_len, output_len, requests, duration, burst, hardware, flags, flags.cuda_graphs, flags.custom_all_reduce, flags.args, flags.env, external.command)`,
		},
		"unknown_field.yaml": {"testdata/bad/unknown_field.yaml:17: field cuda_graph not found in type workloads.FrameworkFlags"},
		"type.yaml":          {"testdata/bad/type.yaml:5: cannot unmarshal !!str `two` into int"},
		"external.yaml": {
			"testdata/bad/external.yaml:5: driver external needs external.description (what drove the trace)",
			"testdata/bad/external.yaml:6: requests is for driver loadgen: an external driver sets its own load",
		},
	}
	for file, want := range cases {
		_, _, err := Load("testdata/bad/" + file)
		if err == nil {
			t.Errorf("%s: no error", file)
			continue
		}
		if got := strings.Split(err.Error(), "; "); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", file, got, want)
		}
	}
}

func TestSyntaxErrorHasLine(t *testing.T) {
	_, err := Parse("x.yaml", []byte("name: a\nmodel: b\n  c: d\n"))
	want := "x.yaml:3: mapping values are not allowed in this context"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestCardRoundTrip(t *testing.T) {
	data, _ := os.ReadFile("testdata/good.yaml")
	c, err := Parse("good.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse("again.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c2.Duration != c.Duration || *c2.Flags.CUDAGraphs != *c.Flags.CUDAGraphs || c2.Name != c.Name {
		t.Fatalf("round trip changed the card:\n%s", out)
	}
}
