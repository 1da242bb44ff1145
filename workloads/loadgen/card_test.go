package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/workloads"
)

func TestRunCardStaticWritesResults(t *testing.T) {
	card, _, err := workloads.Load("../testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeServer(t)
	f.firstToken = 10 * time.Millisecond
	out := filepath.Join(t.TempDir(), "r.json")
	var table strings.Builder
	rep, err := RunCard(context.Background(), card, Options{
		URL: f.URL, APIKey: "k", Requests: 7, OutputLen: 3, Output: out, Stdout: &table,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Completed != 7 || rep.Summary.TotalInputTokens != 7*16 || rep.Summary.TotalOutputTokens != 21 || rep.Mode != "static" {
		t.Fatalf("report %+v", rep.Summary)
	}
	if f.maxInFlight.Load() != 3 { // the card's batch
		t.Errorf("max in flight %d, want the card's 3", f.maxInFlight.Load())
	}
	var back Report
	data, _ := os.ReadFile(out)
	if err := json.Unmarshal(data, &back); err != nil || back.Summary.Completed != 7 || len(back.Requests) != 7 || back.Requests[6].ID != 6 {
		t.Fatalf("results file: %v %+v", err, back.Summary)
	}
	if !strings.Contains(table.String(), "Successful requests:                     7\n") {
		t.Errorf("table:\n%s", table.String())
	}
}

func TestRunCardBurstOverrides(t *testing.T) {
	card, err := workloads.Lookup("qwen3-32b-tp_4-batch_4-burst-vllm-group_11")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeServer(t)
	rep, err := RunCard(context.Background(), card, Options{
		URL: f.URL, Dataset: "testdata/burstgpt_small.csv", WindowSet: true, Start: 10, Window: 20,
		TimeScale: 0.01, Requests: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Window [10, 30): rows 12, 12.5, 13 (20 failed); the limit keeps 3.
	got := f.requests()
	if rep.Summary.Completed != 3 || len(got) != 3 || rep.Burst.Stats.Failed != 1 || rep.Burst.Window.MaxInput != 16384 {
		t.Fatalf("summary %+v burst %+v", rep.Summary, rep.Burst)
	}
	if len(got[0].Prompt) != 120 || got[0].MaxTokens != 7 || got[2].MaxTokens != 1 || got[0].Model != "Qwen/Qwen3-32B" {
		t.Errorf("first request %d/%d model %s", len(got[0].Prompt), got[0].MaxTokens, got[0].Model)
	}
}

func TestCheckRefuses(t *testing.T) {
	titan, _ := workloads.Lookup("llama3.1-8b-torchtitan-perlmutter")
	burst, _ := workloads.Lookup("qwen3-32b-tp_4-batch_4-burst-sglang-group_11")
	dummy, _ := workloads.Lookup("qwen3-32b-tp_2-batch_1-vllm-group_11")
	cases := []struct {
		card *workloads.Card
		o    Options
		want string
	}{
		{titan, Options{URL: "u"}, "driven by its own job"},
		{burst, Options{URL: "u"}, "pass --dataset FILE"},
		{burst, Options{URL: "u", Dataset: "x", InputLen: 5}, "drop --input-len"},
		{dummy, Options{URL: "u", Dataset: "x"}, "--dataset is for BurstGPT cards"},
		{dummy, Options{}, "--url is required"},
	}
	for _, c := range cases {
		err := Check(c.card, &c.o)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.card.Name, err, c.want)
		}
	}
	if err := Check(dummy, &Options{URL: "u"}); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}
