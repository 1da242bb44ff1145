package nvlink

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// task is one kind of read for one GPU, due again every period.
type task struct {
	run    func(ctx context.Context) error
	period int64 // ns; 0: whenever it is the longest-waiting task
	due    int64 // monotonic ns it may run next
	// burst runs the task this many times in a row (0 or 1: once); a period
	// then spaces the bursts, burst x period apart, so the rate stays.
	burst int
	runs  int
	// backoff, when set, replaces period and burst: a lost GPU is probed.
	backoff int64
	// notBefore holds the next run until this monotonic ns (a reader over
	// its CPU budget); set by run.
	notBefore int64
	// catchUp is how many periods a task may fall behind and still make
	// up for them with reads back to back; 0 or 1: it starts afresh.
	catchUp int
}

// reader runs its tasks earliest-due first. A task without a period is due
// again the moment it ran, so tasks without a period take turns in order:
// that is the round-robin schedule.
type reader struct {
	clock Clock
	tasks []*task
	pin   bool // lock the loop to one OS thread, in case NVML keeps per-thread state
	// started, when set, is the readers' start line: none reads before
	// all run (a pinned reader's new OS thread may take a while), so no
	// reader has the lock, or the GPUs' time, to itself at first.
	started *sync.WaitGroup
}

// loop runs tasks until ctx is done or a task fails.
func (r *reader) loop(ctx context.Context) error {
	if r.pin {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	if r.started != nil {
		r.started.Done()
		r.started.Wait()
	}
	if len(r.tasks) == 0 {
		<-ctx.Done()
		return nil
	}
	start := r.clock.MonoNs()
	for _, t := range r.tasks {
		t.due = max(t.due, start)
	}
	for ctx.Err() == nil {
		t := r.next()
		if wait := t.due - r.clock.MonoNs(); wait > 0 {
			if r.clock.Sleep(ctx, time.Duration(wait)) != nil {
				return nil
			}
		}
		if err := t.run(ctx); err != nil {
			return err
		}
		t.reschedule(r.clock.MonoNs())
		t.due = max(t.due, t.notBefore)
	}
	return nil
}

// next picks the earliest-due task; ties go to the first in order.
func (r *reader) next() *task {
	best := r.tasks[0]
	for _, t := range r.tasks[1:] {
		if t.due < best.due {
			best = t
		}
	}
	return best
}

// reschedule sets the next due time. Within a burst the due time stays, so
// the task is still the earliest and runs again. A task that fell more than
// a period behind (catchUp periods, when set) starts afresh rather than
// bursting to catch up.
func (t *task) reschedule(now int64) {
	if t.backoff > 0 {
		t.runs, t.due = 0, now+t.backoff
		return
	}
	if t.runs++; t.burst > 1 && t.runs%t.burst != 0 {
		return
	}
	if t.period == 0 {
		t.due = now
		return
	}
	step := t.period * int64(max(t.burst, 1))
	t.due += step
	if t.due < now-step*int64(max(t.catchUp, 1)) {
		t.due = now
	}
}

// locker serializes NVML calls across readers; noLock lets them run free.
type locker interface {
	Lock()
	Unlock()
}

// fairLock hands the lock to waiters in arrival order, so per-GPU readers
// take turns. sync.Mutex lets the reader that just unlocked take it again,
// which starves the other GPUs until its starvation mode kicks in after 1 ms.
type fairLock chan struct{}

func newFairLock() fairLock { return make(fairLock, 1) }

// Lock queues for the lock: blocked senders on a channel are served FIFO.
func (l fairLock) Lock() { l <- struct{}{} }

// Unlock hands the lock to the longest waiter, if any.
func (l fairLock) Unlock() { <-l }

type noLock struct{}

func (noLock) Lock()   {}
func (noLock) Unlock() {}

// runAll runs the loops (readers, reader-process supervisors) until ctx is
// done and returns the first error; the first error also stops the others.
func runAll(ctx context.Context, loops []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(loops))
	for i, loop := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The readers start together (reader.started), once pinned.
			if errs[i] = loop(ctx); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
