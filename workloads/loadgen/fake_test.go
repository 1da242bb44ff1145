package loadgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeServer is an OpenAI-compatible /v1/completions that streams one
// SSE event per token and records what it was sent.
type fakeServer struct {
	*httptest.Server
	firstToken, perToken time.Duration
	// behave scripts failures by max_tokens: "500", "garbage", "truncated", "hang".
	behave map[int]string

	inFlight, maxInFlight atomic.Int64
	mu                    sync.Mutex
	got                   []completionRequest
	auth                  []string
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{behave: map[int]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var req completionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n := f.inFlight.Add(1)
	for m := f.maxInFlight.Load(); n > m && !f.maxInFlight.CompareAndSwap(m, n); m = f.maxInFlight.Load() {
	}
	// Leave the count before the last event, so a client that starts its
	// next request on [DONE] is never counted twice.
	done := sync.OnceFunc(func() { f.inFlight.Add(-1) })
	defer done()
	f.mu.Lock()
	f.got = append(f.got, req)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	switch f.behave[req.MaxTokens] {
	case "500":
		http.Error(w, "engine exploded", http.StatusInternalServerError)
		return
	case "hang":
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	time.Sleep(f.firstToken)
	for i := range req.MaxTokens {
		if i > 0 {
			time.Sleep(f.perToken)
		}
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"text\":\"t%d\"}]}\n\n", i)
		fl.Flush()
	}
	switch f.behave[req.MaxTokens] {
	case "garbage":
		fmt.Fprint(w, "data: {not json\n\n")
		return
	case "truncated":
		return
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d}}\n\n", len(req.Prompt), req.MaxTokens)
	done()
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (f *fakeServer) requests() []completionRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]completionRequest(nil), f.got...)
}
