package nvlink

import (
	"context"
	"sync"
	"time"
)

// task is one kind of read for one GPU, due again every period.
type task struct {
	run    func(ctx context.Context) error
	period int64 // ns; 0: whenever it is the longest-waiting task
	due    int64 // monotonic ns it may run next
}

// reader runs its tasks earliest-due first. A task without a period is due
// again the moment it ran, so tasks without a period take turns in order:
// that is the round-robin schedule.
type reader struct {
	clock Clock
	tasks []*task
}

// loop runs tasks until ctx is done or a task fails.
func (r *reader) loop(ctx context.Context) error {
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

// reschedule sets the next due time. A task that fell more than a period
// behind starts afresh rather than bursting to catch up.
func (t *task) reschedule(now int64) {
	if t.period == 0 {
		t.due = now
		return
	}
	t.due += t.period
	if t.due < now-t.period {
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

// runReaders runs the readers until ctx is done and returns the first error;
// the first error also stops the others.
func runReaders(ctx context.Context, readers []*reader) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg, ready sync.WaitGroup
	errs := make([]error, len(readers))
	ready.Add(len(readers))
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Start together, so no reader has the first few turns alone.
			ready.Done()
			ready.Wait()
			if errs[i] = r.loop(ctx); errs[i] != nil {
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
