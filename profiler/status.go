package profiler

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

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
}

func (r *recorder) snapshot() statusSnapshot {
	s := statusSnapshot{elapsed: time.Duration(MonoNow() - r.started), byKind: map[trace.Kind]uint64{}}
	r.mu.Lock()
	s.processes = len(r.targets)
	r.mu.Unlock()
	s.nccl = r.disc.ncclProcesses()
	s.total = r.pump.total.Load()
	for _, k := range trace.Kinds() {
		if k.IsCollective() {
			s.byKind[k] = r.pump.count(k)
		}
	}
	s.lost, _ = r.probes.Lost()
	if r.cfg.Sampler != nil {
		s.nvmlHz = r.cfg.Sampler.Rates()
	}
	return s
}

// statusLine prints the live one-line status on stderr: rewritten in place
// on a terminal, a line every few seconds otherwise.
type statusLine struct {
	out  io.Writer
	tty  bool
	prev statusSnapshot
}

func newStatusLine(out io.Writer, tty bool) *statusLine {
	if out == nil {
		return nil
	}
	return &statusLine{out: out, tty: tty}
}

func (l *statusLine) every() time.Duration {
	if l.tty {
		return statusEvery
	}
	return pipeStatusNL
}

func (l *statusLine) print(s statusSnapshot) {
	line := l.format(s)
	l.prev = s
	if l.tty {
		fmt.Fprintf(l.out, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(l.out, line)
}

func (l *statusLine) format(s statusSnapshot) string {
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
	line := fmt.Sprintf("recording %s | %d procs (%d NCCL) | %s events, %s/s",
		s.elapsed.Truncate(100*time.Millisecond), s.processes, s.nccl, human(float64(s.total)), human(rate(s.total, l.prev.total)))
	if len(ops) > 0 {
		line += " [" + strings.Join(ops, ", ") + "]"
	}
	line += fmt.Sprintf(" | lost %d", s.lost)
	if len(s.nvmlHz) > 0 {
		line += " | nvml " + formatRates(s.nvmlHz)
	}
	return line
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
