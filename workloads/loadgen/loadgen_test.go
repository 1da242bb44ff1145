package loadgen

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func testClient(f *fakeServer, clock Clock) *Client {
	c := NewClient(f.URL+"/", "test-model", "sk-test", 8)
	if clock != nil {
		c.Clock = clock
	}
	return c
}

func TestStaticKeepsExactlyBatchInFlight(t *testing.T) {
	for _, batch := range []int{1, 4} {
		f := newFakeServer(t)
		f.firstToken, f.perToken = 5*time.Millisecond, 2*time.Millisecond
		r := &Runner{Client: testClient(f, nil), Batch: batch}
		run := r.Static(context.Background(), 24, 0, func(i int) Request {
			return Request{ID: i, Prompt: DummyPrompt(i, 33, 7, false), MaxTokens: 5}
		})
		if got := f.maxInFlight.Load(); got != int64(batch) {
			t.Errorf("batch %d: server saw at most %d in flight", batch, got)
		}
		if run.MaxInFlight != batch {
			t.Errorf("batch %d: runner counted %d in flight", batch, run.MaxInFlight)
		}
		s := Summarize(run)
		if s.Completed != 24 || s.Failed != 0 || s.TotalOutputTokens != 24*5 || s.TotalInputTokens != 24*33 {
			t.Errorf("batch %d: summary %+v", batch, s)
		}
	}
}

func TestRequestsCarryExactTokensAndKey(t *testing.T) {
	f := newFakeServer(t)
	r := &Runner{Client: testClient(f, nil), Batch: 2}
	r.Static(context.Background(), 3, 0, func(i int) Request {
		return Request{ID: i, Prompt: DummyPrompt(i, 10+i, 100, true), MaxTokens: 2 + i}
	})
	got := f.requests()
	slices.SortFunc(got, func(a, b completionRequest) int { return a.MaxTokens - b.MaxTokens })
	for i, req := range got {
		want := DummyPrompt(i, 10+i, 100, true)
		if !slices.Equal(req.Prompt, want) || req.MaxTokens != 2+i || !req.IgnoreEOS || !req.Stream || req.Model != "test-model" {
			t.Errorf("request %d: %+v", i, req)
		}
		if want[0] != 101+i || want[1] != 100 {
			t.Errorf("distinct prompt %d starts %v", i, want[:2])
		}
	}
	if len(got) != 3 || f.auth[0] != "Bearer sk-test" {
		t.Fatalf("%d requests, auth %q", len(got), f.auth)
	}
}

func TestStaticDurationStopsIssuing(t *testing.T) {
	f := newFakeServer(t)
	f.firstToken = 10 * time.Millisecond
	r := &Runner{Client: testClient(f, nil), Batch: 2}
	run := r.Static(context.Background(), 0, 100*time.Millisecond, func(i int) Request {
		return Request{ID: i, Prompt: []int{1}, MaxTokens: 1}
	})
	// Each request takes >= 10 ms, two at a time: at most 2*(100/10+1) can start.
	if n := len(run.Results); n < 2 || n > 22 {
		t.Fatalf("%d requests in 100 ms", n)
	}
}

func TestReadBurstGPTWindow(t *testing.T) {
	f, err := os.Open("testdata/burstgpt_small.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := Window{Start: 5, Length: 30, TimeScale: 0.5, MaxInput: 1024}
	rows, st, err := ReadBurstGPT(f, "small.csv", w)
	if err != nil {
		t.Fatal(err)
	}
	want := []BurstRow{{5, 472, 18}, {6, 37, 12}, {12, 120, 7}, {12.5, 64, 3}, {13, 10, 1}, {31, 1024, 40}, {33, 16, 5}}
	if !slices.Equal(rows, want) {
		t.Errorf("rows\n got %v\nwant %v", rows, want)
	}
	if st != (BurstStats{Rows: 10, Failed: 2, Outside: 1, Clamped: 1}) {
		t.Errorf("stats %+v", st)
	}
	reqs := ReplayRequests(rows, w, 9, false)
	if reqs[5].At != 13*time.Second || len(reqs[5].Prompt) != 1024 || reqs[5].MaxTokens != 40 || reqs[1].At != 500*time.Millisecond {
		t.Errorf("request 5: at %v, %d tokens, max %d; request 1 at %v", reqs[5].At, len(reqs[5].Prompt), reqs[5].MaxTokens, reqs[1].At)
	}
}

func TestReadBurstGPTErrors(t *testing.T) {
	cases := map[string]string{
		"Timestamp,Model,Request tokens,Response tokens\n1,a,2,3\nx,a,2,3\n": `bad.csv:3: Timestamp "x" is not a number of seconds`,
		"Timestamp,Model,Response tokens\n1,a,3\n":                           `bad.csv:1: no "Request tokens" column`,
		"Timestamp,Request tokens,Response tokens\n1,2,-3\n":                 `bad.csv:2: Response tokens "-3" is not a count`,
	}
	for in, want := range cases {
		_, _, err := ReadBurstGPT(strings.NewReader(in), "bad.csv", Window{})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want prefix %s", err, want)
		}
	}
}

// The replay runs 14 s of schedule 10 times faster than real time; every
// request must leave within 1 s of the scaled clock (100 ms of real time,
// room for a loaded CI machine) after its slot, and never before it.
func TestReplayTimingOnScaledClock(t *testing.T) {
	f := newFakeServer(t)
	clock := NewScaledClock(10)
	file, _ := os.Open("testdata/burstgpt_small.csv")
	defer file.Close()
	w := Window{Start: 5, Length: 30, TimeScale: 0.5}
	rows, _, err := ReadBurstGPT(file, "small.csv", w)
	if err != nil {
		t.Fatal(err)
	}
	reqs := ReplayRequests(rows, w, 9, false)
	r := &Runner{Client: testClient(f, clock), Batch: 4, Clock: clock}
	run := r.Replay(context.Background(), reqs)
	if len(run.Results) != len(reqs) || Summarize(run).Completed != len(reqs) {
		t.Fatalf("%d results of %d", len(run.Results), len(reqs))
	}
	for _, res := range run.Results {
		late := res.Sent - reqs[res.ID].At
		if late < 0 || late > time.Second {
			t.Errorf("request %d scheduled %v sent %v", res.ID, reqs[res.ID].At, res.Sent)
		}
	}
	// Requests due together may reach the server in any order: compare
	// the token counts sent with the rows' as multisets.
	sent := map[[2]int]int{}
	for _, req := range f.requests() {
		sent[[2]int{len(req.Prompt), req.MaxTokens}]++
	}
	for _, row := range rows {
		sent[[2]int{row.Request, row.Response}]--
	}
	for k, n := range sent {
		if n != 0 {
			t.Errorf("prompt/output tokens %v sent %+d times more than the file asks", k, n)
		}
	}
	if d := run.End.Sub(run.Start); d < 14*time.Second {
		t.Errorf("replay of 14 s took %v on its clock", d)
	}
}

func TestReplayCapsConcurrency(t *testing.T) {
	f := newFakeServer(t)
	f.firstToken = 20 * time.Millisecond
	reqs := make([]Request, 6)
	for i := range reqs {
		reqs[i] = Request{ID: i, Prompt: []int{1, 2}, MaxTokens: 1}
	}
	r := &Runner{Client: testClient(f, nil), Batch: 2}
	run := r.Replay(context.Background(), reqs)
	if f.maxInFlight.Load() != 2 || run.MaxInFlight != 2 || len(run.Results) != 6 {
		t.Fatalf("max in flight %d/%d, %d results", f.maxInFlight.Load(), run.MaxInFlight, len(run.Results))
	}
}

func TestFailuresCounted(t *testing.T) {
	f := newFakeServer(t)
	f.behave = map[int]string{7: "500", 8: "garbage", 9: "truncated", 10: "hang"}
	c := testClient(f, nil)
	c.Timeout = 300 * time.Millisecond
	maxTokens := []int{3, 7, 8, 9, 10, 4}
	r := &Runner{Client: c, Batch: 3}
	run := r.Static(context.Background(), len(maxTokens), 0, func(i int) Request {
		return Request{ID: i, Prompt: []int{5}, MaxTokens: maxTokens[i]}
	})
	s := Summarize(run)
	want := map[string]int{ErrHTTP: 1, ErrSSE: 2, ErrTimeout: 1}
	if s.Completed != 2 || s.Failed != 4 || len(s.Failures) != len(want) {
		t.Fatalf("summary %+v", s)
	}
	for k, n := range want {
		if s.Failures[k] != n {
			t.Errorf("failures[%s] = %d, want %d (%v)", k, s.Failures[k], n, s.Failures)
		}
	}
	for _, res := range run.Results {
		if res.ID == 1 && !strings.Contains(res.Err, "500") {
			t.Errorf("http error text %q", res.Err)
		}
	}
}

func TestConnectionRefusedCounted(t *testing.T) {
	f := newFakeServer(t)
	c := testClient(f, nil)
	f.Close()
	r := &Runner{Client: c, Batch: 1}
	s := Summarize(r.Static(context.Background(), 2, 0, func(i int) Request { return Request{ID: i, Prompt: []int{1}, MaxTokens: 1} }))
	if s.Failed != 2 || s.Failures[ErrConnection] != 2 {
		t.Fatalf("summary %+v", s)
	}
}

func TestCancelKeepsCollected(t *testing.T) {
	f := newFakeServer(t)
	f.behave = map[int]string{2: "hang"}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{Client: testClient(f, nil), Batch: 2}
	time.AfterFunc(200*time.Millisecond, cancel)
	run := r.Static(ctx, 0, 0, func(i int) Request {
		mt := 1
		if i >= 3 {
			mt = 2 // hangs until the run is cancelled
		}
		return Request{ID: i, Prompt: []int{1}, MaxTokens: mt}
	})
	s := Summarize(run)
	if !run.Interrupted || s.Completed != 3 || s.Cancelled != 2 || s.Failed != 0 {
		t.Fatalf("interrupted %v, summary %+v", run.Interrupted, s)
	}
}

func TestLatenciesMeasured(t *testing.T) {
	f := newFakeServer(t)
	f.firstToken, f.perToken = 40*time.Millisecond, 15*time.Millisecond
	r := &Runner{Client: testClient(f, nil), Batch: 1}
	s := Summarize(r.Static(context.Background(), 2, 0, func(i int) Request { return Request{ID: i, Prompt: []int{1}, MaxTokens: 4} }))
	ms := func(d Dist, lo, hi float64) bool { return d.Mean >= lo && d.Mean < hi }
	// The server sleeps before each token, so the first token and the whole
	// request take at least that long; the gaps between tokens can each be
	// shorter (a token delayed by the scheduler shortens the next gap: CI
	// measured a mean of 14.97 ms for 15), so their bound has some slack.
	if !ms(s.TTFT, 40, 200) || !ms(s.ITL, 12, 100) || !ms(s.TPOT, 12, 100) || !ms(s.E2EL, 85, 400) {
		t.Fatalf("ttft %+v itl %+v tpot %+v e2e %+v", s.TTFT, s.ITL, s.TPOT, s.E2EL)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestSummaryFromScriptedLatencies(t *testing.T) {
	ms := time.Millisecond
	start := time.Unix(1000, 0)
	run := Run{Start: start, End: start.Add(2 * time.Second), MaxInFlight: 3, Results: []Result{
		{ID: 0, InputLen: 10, MaxTokens: 3, OutputTokens: 3, TTFT: 100 * ms, ITL: []time.Duration{10 * ms, 20 * ms}, E2E: 130 * ms},
		{ID: 1, InputLen: 20, MaxTokens: 3, OutputTokens: 2, TTFT: 200 * ms, ITL: []time.Duration{30 * ms}, E2E: 240 * ms},
		{ID: 2, InputLen: 30, MaxTokens: 1, OutputTokens: 1, TTFT: 300 * ms, E2E: 300 * ms},
		{ID: 3, InputLen: 40, MaxTokens: 1, ErrKind: ErrHTTP, Err: "http 500"},
		{ID: 4, InputLen: 50, MaxTokens: 1, ErrKind: ErrCancelled},
	}}
	s := Summarize(run)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"completed", float64(s.Completed), 3}, {"failed", float64(s.Failed), 1}, {"cancelled", float64(s.Cancelled), 1},
		{"short", float64(s.ShortOutputs), 1}, {"input", float64(s.TotalInputTokens), 60}, {"output", float64(s.TotalOutputTokens), 6},
		{"duration", s.Duration, 2}, {"req/s", s.RequestThroughput, 1.5}, {"tok/s", s.OutputThroughput, 3}, {"total tok/s", s.TotalTokenThroughput, 33},
		{"ttft mean", s.TTFT.Mean, 200}, {"ttft median", s.TTFT.Median, 200}, {"ttft p99", s.TTFT.P99, 298}, {"ttft p90", s.TTFT.P90, 280},
		{"ttft std", s.TTFT.Std, math.Sqrt(20000.0 / 3)},
		{"itl mean", s.ITL.Mean, 20}, {"itl median", s.ITL.Median, 20}, {"itl p99", s.ITL.P99, 29.8},
		{"tpot mean", s.TPOT.Mean, 27.5}, {"tpot median", s.TPOT.Median, 27.5}, {"tpot p99", s.TPOT.P99, 39.75},
		{"e2e mean", s.E2EL.Mean, 670.0 / 3}, {"e2e median", s.E2EL.Median, 240}, {"e2e p99", s.E2EL.P99, 298.8},
	}
	for _, c := range checks {
		if !near(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.Failures[ErrHTTP] != 1 || len(s.Failures) != 1 {
		t.Errorf("failures %v", s.Failures)
	}
	var b strings.Builder
	s.WriteTable(&b)
	for _, line := range []string{
		"Successful requests:                     3",
		"Request throughput (req/s):              1.50",
		"P99 TTFT (ms):                           298.00",
		"Median ITL (ms):                         20.00",
		"  http:                                  1",
	} {
		if !strings.Contains(b.String(), line+"\n") && !strings.Contains(b.String(), line+" ") {
			t.Errorf("table lacks %q:\n%s", line, b.String())
		}
	}
}
