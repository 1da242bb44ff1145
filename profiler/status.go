package profiler

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// statusSnapshot is what the live status line shows.
type statusSnapshot struct {
	elapsed   time.Duration
	processes int
	nccl      int
	total     uint64
	byKind    map[trace.Kind]uint64
	lost      uint64
	nvmlHz    map[int]float64
	stall     string // the oldest open stall, "" none
}

func (r *recorder) snapshot() statusSnapshot {
	s := statusSnapshot{elapsed: time.Duration(clock.Mono() - r.started), byKind: map[trace.Kind]uint64{}}
	r.mu.Lock()
	s.processes = len(r.targets)
	r.mu.Unlock()
	s.nccl = r.disc.ncclProcesses()
	s.total = r.pump.total.Load()
	for _, k := range trace.Kinds() {
		if k.IsCollective() || k.IsCustomCollective() {
			s.byKind[k] = r.pump.count(k)
		}
	}
	s.lost, _ = r.probes.Lost()
	if r.cfg.Sampler != nil {
		s.nvmlHz = r.cfg.Sampler.Rates()
	}
	if r.stalls != nil {
		s.stall = r.stalls.status(clock.Mono())
	}
	return s
}

// statusLine prints the live one-line status on stderr: rewritten in place
// on a terminal and cut to its width, a full line every few seconds
// otherwise.
type statusLine struct {
	out   io.Writer
	tty   bool
	width func() int
	prev  statusSnapshot
}

func newStatusLine(out io.Writer, tty bool, width func() int) *statusLine {
	if out == nil {
		return nil
	}
	return &statusLine{out: out, tty: tty, width: width}
}

func (l *statusLine) every() time.Duration {
	if l.tty {
		return statusEvery
	}
	return pipeStatusNL
}

func (l *statusLine) print(s statusSnapshot) {
	p := l.parts(s)
	l.prev = s
	if l.tty {
		w := 0
		if l.width != nil {
			w = l.width()
		}
		fmt.Fprintf(l.out, "\r\033[K%s", p.fit(w))
		return
	}
	fmt.Fprintln(l.out, p.full())
}

// statusParts are the pieces of a status line, the optional ones apart so
// a narrow terminal can do without them.
type statusParts struct {
	head, headShort, ops, lost, nvml, nvmlShort string
	stall                                       string // first, whatever the width
}

func (p statusParts) join(head string, ops bool, nvml string) string {
	line := head
	if p.stall != "" {
		line = p.stall + " | " + head
	}
	if ops && p.ops != "" {
		line += " [" + p.ops + "]"
	}
	line += p.lost
	if nvml != "" {
		line += " | nvml " + nvml
	}
	return line
}

func (p statusParts) full() string { return p.join(p.head, true, p.nvml) }

// fit returns the fullest line shorter than width columns (the last column
// is left free: writing it wraps on some terminals): without the per-op
// rates, then with the NVML rates as a range, then in short words, then
// cut.
func (p statusParts) fit(width int) string {
	if width <= 0 {
		return p.full()
	}
	short := p.join(p.headShort, false, p.nvmlShort)
	for _, line := range []string{p.full(), p.join(p.head, false, p.nvml), p.join(p.head, false, p.nvmlShort), short} {
		if len(line) < width {
			return line
		}
	}
	return short[:max(width-1, 0)]
}

func (l *statusLine) parts(s statusSnapshot) statusParts {
	dt := (s.elapsed - l.prev.elapsed).Seconds()
	rate := func(now, before uint64) float64 {
		if dt <= 0 {
			return 0
		}
		return float64(now-before) / dt
	}
	var ops []string
	for k, n := range s.byKind {
		if r := rate(n, l.prev.byKind[k]); r > 0 {
			ops = append(ops, fmt.Sprintf("%s %s/s", k.Op(), human(r)))
		}
	}
	sort.Strings(ops)
	elapsed, events, evRate := s.elapsed.Truncate(100*time.Millisecond), human(float64(s.total)), human(rate(s.total, l.prev.total))
	p := statusParts{
		head:      fmt.Sprintf("recording %s | %d procs (%d NCCL) | %s events, %s/s", elapsed, s.processes, s.nccl, events, evRate),
		headShort: fmt.Sprintf("rec %s | %d procs, %d NCCL | %s ev, %s/s", elapsed, s.processes, s.nccl, events, evRate),
		ops:       strings.Join(ops, ", "),
		lost:      fmt.Sprintf(" | lost %d", s.lost),
		stall:     s.stall,
	}
	if len(s.nvmlHz) > 0 {
		p.nvml, p.nvmlShort = formatRates(s.nvmlHz), rateRange(s.nvmlHz)
	}
	return p
}

// rateRange is the NVML rates in short: "4 GPUs 259-263 Hz".
func rateRange(hz map[int]float64) string {
	lo, hi := -1.0, 0.0
	for _, r := range hz {
		if lo < 0 || r < lo {
			lo = r
		}
		hi = max(hi, r)
	}
	gpus := fmt.Sprintf("%d GPUs", len(hz))
	if len(hz) == 1 {
		gpus = "1 GPU"
	}
	if fmt.Sprintf("%.0f", lo) == fmt.Sprintf("%.0f", hi) {
		return fmt.Sprintf("%s %.0f Hz", gpus, hi)
	}
	return fmt.Sprintf("%s %.0f-%.0f Hz", gpus, lo, hi)
}

func (l *statusLine) end() {
	if l.tty {
		fmt.Fprintln(l.out)
	}
}

func formatRates(hz map[int]float64) string {
	gpus := make([]int, 0, len(hz))
	for g := range hz {
		gpus = append(gpus, g)
	}
	sort.Ints(gpus)
	parts := make([]string, len(gpus))
	for i, g := range gpus {
		parts[i] = fmt.Sprintf("gpu%d %.0f Hz", g, hz[g])
	}
	return strings.Join(parts, ", ")
}

// human formats a count with k/M suffixes.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
