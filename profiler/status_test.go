package profiler

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// A busy recording's status line is about 170 columns: on a terminal it
// is cut to fit, since a wrapped line cannot be rewritten in place; piped,
// it stays one whole line.
func TestStatusLineFitsTerminal(t *testing.T) {
	snap := statusSnapshot{elapsed: 12 * time.Second, processes: 5, nccl: 4, total: 123456, lost: 0,
		byKind: map[trace.Kind]uint64{trace.AllReduce: 90000, trace.AllGather: 20000, trace.ReduceScatter: 10000, trace.Broadcast: 3000},
		nvmlHz: map[int]float64{0: 261, 1: 262.4, 2: 259.7, 3: 263}}
	before := statusSnapshot{elapsed: 11 * time.Second, total: 100000, byKind: map[trace.Kind]uint64{}}
	var full bytes.Buffer
	piped := newStatusLine(&full, false, func() int { return 80 })
	piped.prev = before
	piped.print(snap)
	if n := len(strings.TrimSuffix(full.String(), "\n")); n < 120 || strings.Count(full.String(), "\n") != 1 {
		t.Errorf("piped line (%d columns) %q: want the whole line", n, full.String())
	}
	for _, width := range []int{200, 120, 80, 60, 20, 1} {
		var out bytes.Buffer
		l := newStatusLine(&out, true, func() int { return width })
		l.prev = before
		l.print(snap)
		line := strings.TrimPrefix(out.String(), "\r\033[K")
		if len(line) >= width || strings.Contains(line, "\n") {
			t.Errorf("width %d: %d columns: %q", width, len(line), line)
		}
		if width >= 80 && (!strings.Contains(line, "12s | 5 procs") || !strings.Contains(line, "lost 0 | nvml ")) {
			t.Errorf("width %d: %q lost the essentials", width, line)
		}
		t.Logf("%3d: %s", width, line)
	}
}

// A stall goes first on the status line, however narrow the terminal.
func TestStatusLineStallFirst(t *testing.T) {
	l := newStatusLine(io.Discard, true, nil)
	p := l.parts(statusSnapshot{elapsed: 3 * time.Second, byKind: map[trace.Kind]uint64{},
		stall: "STALL 2s: comm 2-rank #1 seq 7 AllReduce 4.00 MiB: waiting for rank 1"})
	for _, w := range []int{0, 200, 60} {
		if line := p.fit(w); !strings.HasPrefix(line, "STALL 2s: comm 2-rank #1") {
			t.Errorf("width %d: %q", w, line)
		}
	}
}
