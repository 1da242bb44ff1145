package simlink

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Header is the first line of a schedule file.
const Header = "# linkprof simulated link schedule v1"

// Transfer is one line of the schedule: bytes a GPU sends and receives
// evenly between two CLOCK_MONOTONIC times.
type Transfer struct {
	GPU            int
	StartNs, EndNs int64
	TxBytes        uint64
	RxBytes        uint64
	Label          string // op name, or "background"
}

// bytesAt is how much of n bytes moved by t: n * clamp((t-start)/(end-start), 0, 1),
// floored to whole bytes (exact: 128-bit intermediate).
func bytesAt(n uint64, start, end, t int64) uint64 {
	switch {
	case t <= start:
		return 0
	case t >= end:
		return n
	}
	hi, lo := bits.Mul64(n, uint64(t-start))
	q, _ := bits.Div64(hi, lo, uint64(end-start))
	return q
}

// schedule follows a schedule file as the workload appends to it.
type schedule struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	partial []byte // an unfinished last line
	lineNo  int
	err     error // first malformed line
	gpus    int
	active  [][]Transfer // per GPU, not yet finished at the last read
	doneTx  []uint64     // per GPU, bytes of finished transfers
	doneRx  []uint64
	lastT   int64
}

func newSchedule(path string, gpus int) *schedule {
	return &schedule{path: path, gpus: gpus, active: make([][]Transfer, gpus),
		doneTx: make([]uint64, gpus), doneRx: make([]uint64, gpus)}
}

// bytes returns the DATA bytes GPU gpu has sent and received by time t.
// Reads come in time order (NVML's lock serializes them), so transfers
// finished by t are folded into a running sum once.
func (s *schedule) bytes(gpu int, t int64) (tx, rx uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh()
	if t >= s.lastT {
		s.fold(t)
		s.lastT = t
	}
	tx, rx = s.doneTx[gpu], s.doneRx[gpu]
	for _, x := range s.active[gpu] {
		tx += bytesAt(x.TxBytes, x.StartNs, x.EndNs, t)
		rx += bytesAt(x.RxBytes, x.StartNs, x.EndNs, t)
	}
	return tx, rx
}

// fold moves transfers finished by t out of the active lists.
func (s *schedule) fold(t int64) {
	for g := range s.active {
		keep := s.active[g][:0]
		for _, x := range s.active[g] {
			if x.EndNs <= t {
				s.doneTx[g] += x.TxBytes
				s.doneRx[g] += x.RxBytes
				continue
			}
			keep = append(keep, x)
		}
		s.active[g] = keep
	}
}

// refresh reads what the workload appended since the last call. A missing
// file is a workload that has not started yet: no traffic.
func (s *schedule) refresh() {
	if s.f == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return
		}
		s.f = f
	}
	var buf [64 << 10]byte
	for {
		n, err := s.f.Read(buf[:])
		s.partial = append(s.partial, buf[:n]...)
		if n == 0 || err != nil {
			break
		}
	}
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
	s.partial = append([]byte(nil), s.partial...)
}

func (s *schedule) line(text string) {
	s.lineNo++
	text = strings.TrimSpace(text)
	if s.lineNo == 1 && text != Header {
		s.fail(fmt.Errorf("line 1 is %q, want %q", text, Header))
	}
	if text == "" || strings.HasPrefix(text, "#") {
		return
	}
	x, err := ParseLine(text)
	if err == nil && (x.GPU < 0 || x.GPU >= s.gpus) {
		err = fmt.Errorf("GPU %d: the simulated host has %d", x.GPU, s.gpus)
	}
	if err != nil {
		s.fail(fmt.Errorf("line %d: %w", s.lineNo, err))
		return
	}
	s.active[x.GPU] = append(s.active[x.GPU], x)
}

func (s *schedule) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("schedule %s: %w", s.path, err)
	}
}

// ParseLine parses `<gpu> <start_mono_ns> <end_mono_ns> <data_tx_bytes> <data_rx_bytes> <label>`.
func ParseLine(text string) (Transfer, error) {
	f := strings.Fields(text)
	if len(f) != 6 {
		return Transfer{}, fmt.Errorf("%d fields, want 6: gpu start_ns end_ns tx_bytes rx_bytes label", len(f))
	}
	var x Transfer
	var errs []error
	gpu, err := strconv.Atoi(f[0])
	errs = append(errs, err)
	x.GPU = gpu
	x.StartNs, err = strconv.ParseInt(f[1], 10, 64)
	errs = append(errs, err)
	x.EndNs, err = strconv.ParseInt(f[2], 10, 64)
	errs = append(errs, err)
	x.TxBytes, err = strconv.ParseUint(f[3], 10, 64)
	errs = append(errs, err)
	x.RxBytes, err = strconv.ParseUint(f[4], 10, 64)
	errs = append(errs, err)
	x.Label = f[5]
	if err := errors.Join(errs...); err != nil {
		return Transfer{}, err
	}
	if x.EndNs < x.StartNs {
		return Transfer{}, fmt.Errorf("ends at %d before it starts at %d", x.EndNs, x.StartNs)
	}
	return x, nil
}

// close releases the file.
func (s *schedule) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}
