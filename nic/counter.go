package nic

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// counter is one sysfs counter file, kept open and read again from offset
// 0 each time: sysfs renders the value on every read at offset 0.
type counter struct {
	path string
	f    *os.File
	buf  [32]byte
}

func openCounter(root, rel string) (*counter, error) {
	c := &counter{path: filepath.Join(root, rel)}
	f, err := os.Open(c.path)
	if err != nil {
		return nil, fmt.Errorf("opening counter: %w", err)
	}
	c.f = f
	return c, nil
}

// errNotCounter is a file whose content is no decimal number.
var errNotCounter = errors.New("not a decimal counter")

// read returns the counter's value.
func (c *counter) read() (uint64, error) {
	n, err := c.f.ReadAt(c.buf[:], 0)
	if n == 0 && err != nil {
		return 0, fmt.Errorf("reading %s: %w", c.path, err)
	}
	v, ok := parseDecimal(c.buf[:n])
	if !ok {
		return 0, fmt.Errorf("reading %s: %w", c.path, errNotCounter)
	}
	return v, nil
}

func (c *counter) close() error { return c.f.Close() }

// parseDecimal reads an unsigned decimal number and a trailing newline,
// without allocating.
func parseDecimal(b []byte) (uint64, bool) {
	var v uint64
	digits := 0
	for _, ch := range b {
		if ch == '\n' {
			break
		}
		d := uint64(ch - '0')
		if ch < '0' || ch > '9' || v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
		digits++
	}
	return v, digits > 0
}
