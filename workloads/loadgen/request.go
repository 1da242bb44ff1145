package loadgen

import "time"

// Request is one completion to send.
type Request struct {
	ID        int
	Prompt    []int         // token ids, sent as is: the prompt length is exact
	MaxTokens int           // with ignore_eos, the exact output length
	At        time.Duration // replay: offset from the run's start; static: unused
}

// Result is what happened to one request. Times are offsets or durations
// on the run's clock.
type Result struct {
	ID           int             `json:"id"`
	InputLen     int             `json:"input_len"`
	MaxTokens    int             `json:"max_tokens"`
	Scheduled    time.Duration   `json:"scheduled_ns,omitempty"`
	Sent         time.Duration   `json:"sent_ns"`
	TTFT         time.Duration   `json:"ttft_ns,omitempty"`
	E2E          time.Duration   `json:"e2e_ns,omitempty"`
	ITL          []time.Duration `json:"itl_ns,omitempty"`
	OutputTokens int             `json:"output_tokens"`
	ErrKind      string          `json:"error_kind,omitempty"` // see the Err* constants
	Err          string          `json:"error,omitempty"`
}

// Kinds of failure, counted separately in the summary.
const (
	ErrHTTP       = "http"       // non-2xx status
	ErrTimeout    = "timeout"    // the per-request timeout ran out
	ErrConnection = "connection" // could not connect, or the stream broke
	ErrSSE        = "sse"        // malformed stream or an error event
	ErrCancelled  = "cancelled"  // the run was interrupted (not a failure)
)

// OK reports whether the request completed.
func (r *Result) OK() bool { return r.ErrKind == "" }

// DummyPrompt is a prompt of n copies of token. distinct makes the first
// token depend on i so no two prompts share a prefix (defeats prefix
// caching; the cards' "repeated" prompts share it on purpose).
func DummyPrompt(i, n, token int, distinct bool) []int {
	p := make([]int, n)
	for k := range p {
		p[k] = token
	}
	if distinct && n > 0 {
		p[0] = token + 1 + i%20000
	}
	return p
}
