package nvlink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// The sampler paces its reader processes through their stdin, one line
// per change:
//
//	hz H    read at most H times a second (0: as fast as NVML allows)
//
// The reader takes a change at its next read.

// readerControl holds the latest change until the reader takes it.
type readerControl struct {
	period atomic.Int64 // ns between reads; -1: no change
}

// followControl reads control until it ends; a line it cannot parse stops
// the reader through stop.
func followControl(control io.Reader, stop context.CancelCauseFunc) *readerControl {
	c := &readerControl{}
	c.period.Store(-1)
	if control == nil {
		return c
	}
	go func() {
		sc := bufio.NewScanner(control)
		for sc.Scan() {
			if err := c.apply(sc.Text()); err != nil {
				stop(fmt.Errorf("reading the sampler's control line %q: %w", sc.Text(), err))
				return
			}
		}
	}()
	return c
}

func (c *readerControl) apply(line string) error {
	var hz float64
	if n, err := fmt.Sscanf(line, "hz %g", &hz); n != 1 || err != nil || hz < 0 {
		return errors.New(`want "hz H", H >= 0`)
	}
	c.period.Store(hzPeriod(hz))
	return nil
}

// takePeriod returns a new period, if one came.
func (c *readerControl) takePeriod() (int64, bool) {
	p := c.period.Swap(-1)
	return p, p >= 0
}
