package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// APIKeyEnv names the environment variable whose value is sent as the
// bearer token. It is never a flag, so it stays out of shell history and
// process listings.
const APIKeyEnv = "OPENAI_API_KEY"

// Client streams completions from one OpenAI-compatible server.
type Client struct {
	URL     string // base URL; /v1/completions is appended
	Model   string
	APIKey  string        // empty: no Authorization header
	Timeout time.Duration // per request; 0: none
	HTTP    *http.Client
	Clock   Clock
}

// NewClient makes a client whose connection pool holds conns connections.
func NewClient(url, model, apiKey string, conns int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &Client{
		URL: strings.TrimSuffix(url, "/"), Model: model, APIKey: apiKey,
		HTTP: &http.Client{Transport: tr}, Clock: RealClock{},
	}
}

type completionRequest struct {
	Model         string         `json:"model"`
	Prompt        []int          `json:"prompt"`
	MaxTokens     int            `json:"max_tokens"`
	IgnoreEOS     bool           `json:"ignore_eos"`
	Stream        bool           `json:"stream"`
	StreamOptions map[string]any `json:"stream_options"`
	Temperature   float64        `json:"temperature"`
}

type chunk struct {
	Choices []struct {
		Text string `json:"text"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Do sends one request and streams its answer. start is the run's origin
// on the client's clock, so Sent is an offset from it. Do never returns an
// error: failures are recorded in the Result.
func (c *Client) Do(ctx context.Context, start time.Time, req Request) Result {
	res := Result{ID: req.ID, InputLen: len(req.Prompt), MaxTokens: req.MaxTokens, Scheduled: req.At}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if c.Timeout > 0 {
		rctx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	defer cancel()
	sent := c.Clock.Now()
	res.Sent = sent.Sub(start)
	body, err := c.post(rctx, req)
	if err != nil {
		kind := ErrConnection
		if errors.As(err, new(httpError)) {
			kind = ErrHTTP
		}
		c.fail(ctx, rctx, &res, kind, err)
		return res
	}
	defer body.Close()
	if err := c.stream(body, sent, &res); err != nil {
		kind := ErrSSE
		var ioErr streamIOError
		if errors.As(err, &ioErr) {
			kind = ErrConnection
		}
		c.fail(ctx, rctx, &res, kind, err)
	}
	return res
}

// fail records err, telling the run's cancellation and the request's own
// timeout apart from what the server did.
func (c *Client) fail(parent, rctx context.Context, res *Result, kind string, err error) {
	switch {
	case parent.Err() != nil:
		kind = ErrCancelled
	case rctx.Err() != nil:
		kind, err = ErrTimeout, fmt.Errorf("no complete answer within %v", c.Timeout)
	}
	res.ErrKind, res.Err = kind, err.Error()
}

type httpError struct{ msg string }

func (e httpError) Error() string { return e.msg }

func (c *Client) post(ctx context.Context, req Request) (io.ReadCloser, error) {
	payload, err := json.Marshal(completionRequest{
		Model: c.Model, Prompt: req.Prompt, MaxTokens: req.MaxTokens, IgnoreEOS: true,
		Stream: true, StreamOptions: map[string]any{"include_usage": true},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/v1/completions", bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "text/event-stream")
	if c.APIKey != "" {
		hr.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTP.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("posting completion: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		return nil, httpError{fmt.Sprintf("http %s: %s", resp.Status, strings.TrimSpace(string(msg)))}
	}
	return resp.Body, nil
}

type streamIOError struct{ err error }

func (e streamIOError) Error() string { return "reading stream: " + e.err.Error() }
func (e streamIOError) Unwrap() error { return e.err }

// stream reads SSE events until "data: [DONE]". A chunk with choices is a
// token event (text may be empty, as in vLLM's benchmark); the usage chunk
// gives the output token count when the server sends one.
func (c *Client) stream(body io.Reader, sent time.Time, res *Result) error {
	br := bufio.NewReaderSize(body, 64<<10)
	var last time.Time
	events, usage := 0, -1
	for {
		line, err := br.ReadString('\n')
		if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("stream ended without data: [DONE] after %d tokens", events)
			}
			return streamIOError{err}
		}
		data, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data:")
		if !ok {
			continue // blank separators, comments, event: and id: fields
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			break
		}
		var ch chunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			return fmt.Errorf("malformed event %.60q: %w", data, err)
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			return fmt.Errorf("server error event: %.200s", ch.Error)
		}
		now := c.Clock.Now()
		switch {
		case len(ch.Choices) > 0:
			if events == 0 {
				res.TTFT = now.Sub(sent)
			} else {
				res.ITL = append(res.ITL, now.Sub(last))
			}
			last = now
			events++
		case ch.Usage != nil:
			usage = ch.Usage.CompletionTokens
		}
	}
	if events == 0 {
		return errors.New("stream held no tokens")
	}
	res.E2E = c.Clock.Now().Sub(sent)
	res.OutputTokens = events
	if usage >= 0 {
		res.OutputTokens = usage
	}
	return nil
}
