package loadgen

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Doer sends one request; *Client is the real one.
type Doer interface {
	Do(ctx context.Context, start time.Time, req Request) Result
}

// Runner drives requests with at most Batch in flight.
type Runner struct {
	Client   Doer
	Batch    int
	Clock    Clock
	Progress io.Writer // progress bar; nil: none

	inFlight, maxInFlight atomic.Int64
	mu                    sync.Mutex
	results               []Result
}

// Run is the outcome of one Static or Replay call.
type Run struct {
	Start, End  time.Time
	Results     []Result // in completion order
	MaxInFlight int
	Interrupted bool // ctx ended before the load did
}

// Static keeps exactly Batch requests in flight, with no pacing, until n
// requests were sent (n > 0) or d elapsed (d > 0), whichever comes first.
// build makes request i. Requests in flight when d elapses are finished.
func (r *Runner) Static(ctx context.Context, n int, d time.Duration, build func(i int) Request) Run {
	start := r.begin()
	bar := r.bar(n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range r.Batch {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if (n > 0 && i >= n) || (d > 0 && r.Clock.Now().Sub(start) >= d) || ctx.Err() != nil {
					return
				}
				r.do(ctx, start, build(i), bar)
			}
		})
	}
	wg.Wait()
	return r.finish(ctx, start, bar)
}

// Replay sends each request at its At offset from the start (on the
// runner's clock), or as soon after as a slot of the Batch frees.
func (r *Runner) Replay(ctx context.Context, reqs []Request) Run {
	start := r.begin()
	bar := r.bar(len(reqs))
	slots := make(chan struct{}, r.Batch)
	var wg sync.WaitGroup
	for _, req := range reqs {
		if r.Clock.Sleep(ctx, req.At-r.Clock.Now().Sub(start)) != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-slots }()
			r.do(ctx, start, req, bar)
		})
	}
	wg.Wait()
	return r.finish(ctx, start, bar)
}

func (r *Runner) begin() time.Time {
	if r.Clock == nil {
		r.Clock = RealClock{}
	}
	if r.Batch < 1 {
		r.Batch = 1
	}
	r.results = nil
	r.maxInFlight.Store(0)
	return r.Clock.Now()
}

func (r *Runner) do(ctx context.Context, start time.Time, req Request, bar *progressbar.ProgressBar) {
	n := r.inFlight.Add(1)
	for {
		m := r.maxInFlight.Load()
		if n <= m || r.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	res := r.Client.Do(ctx, start, req)
	r.inFlight.Add(-1)
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
	if bar != nil && res.ErrKind != ErrCancelled {
		bar.Add(1)
	}
}

func (r *Runner) finish(ctx context.Context, start time.Time, bar *progressbar.ProgressBar) Run {
	if bar != nil {
		bar.Finish()
		io.WriteString(r.Progress, "\n")
	}
	return Run{
		Start: start, End: r.Clock.Now(), Results: r.results,
		MaxInFlight: int(r.maxInFlight.Load()), Interrupted: ctx.Err() != nil,
	}
}

// bar makes a progress bar over n requests (a spinner when n is unknown).
func (r *Runner) bar(n int) *progressbar.ProgressBar {
	if r.Progress == nil {
		return nil
	}
	if n <= 0 {
		n = -1
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(r.Progress),
		progressbar.OptionSetDescription("requests"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
}
