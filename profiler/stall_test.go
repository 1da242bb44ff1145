package profiler

import (
	"bytes"
	"context"
	"fmt"
	"github.com/linkprof/linkprof/internal/clock"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/trace"
)

// flatLinks is a LinkSampler of GPUs whose NVLink counters never move, as
// when every rank waits: read every 2 ms.
type flatLinks struct{ gpus int }

func (f flatLinks) Run(ctx context.Context, w *trace.Writer) error {
	for g := range f.gpus {
		if err := w.WriteJSON(trace.RecGPU, trace.GPU{Index: g, UUID: fmt.Sprintf("GPU-flat-%d", g), CounterUnitKB: true}); err != nil {
			return err
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for g := range f.gpus {
			now := clock.Mono()
			s := trace.Sample{GPU: uint32(g), Flags: trace.SampleOK, MonoBeforeNs: now - 1000, MonoAfterNs: now,
				WallUs: time.Now().UnixMicro(), DataTxKiB: 1 << 20, DataRxKiB: 1 << 20}
			if err := w.WriteSamples(s); err != nil {
				return err
			}
		}
	}
}

func (f flatLinks) Rates() map[int]float64 { return map[int]float64{0: 500, 1: 500} }

// rankPids reads "rank R PID" lines from the ranks program's truth.
func rankPids(t *testing.T, lines []string) map[int]int {
	pids := map[int]int{}
	for _, l := range lines {
		var r, pid int
		if n, _ := fmt.Sscanf(l, "rank %d %d", &r, &pid); n == 2 {
			pids[r] = pid
		}
	}
	return pids
}

// (a) Rank 1 of 2 sleeps 20 ms before each of 100 all-reduces: the report
// names it last in >= 95% of the collectives, rank 0's wait is 20 ms
// within 10%, the profile's wait samples sit under "wait for rank 1" and
// the timeline marks each collective's last arrival.
func TestStragglerNamedLast(t *testing.T) {
	requirePrivileges(t)
	const iters, delay = 100, 20 * time.Millisecond
	cfg := testConfig(t)
	cfg.StallAfter = time.Second
	cfg.Command = []string{progs.Ranks, "2", strconv.Itoa(iters), "1", strconv.Itoa(int(delay / time.Microsecond))}
	cfg.CommandEnv = env("DRIVER_TRUTH=" + filepath.Join(t.TempDir(), "truth"))
	if sum, _ := record(t, cfg, 60*time.Second); sum.ExitStatus == nil || *sum.ExitStatus != 0 {
		t.Fatalf("ranks exit %v", sum.ExitStatus)
	}
	var tl bytes.Buffer
	out, err := pipeline.Run(cfg.Dir, correlate.Options{}, &tl)
	if err != nil {
		t.Fatal(err)
	}
	a := out.Report.Arrivals
	if len(a.Comms) != 1 || a.Comms[0].Collectives != iters || len(a.Comms[0].Ranks) != 2 {
		t.Fatalf("arrivals %+v: want one 2-rank communicator with %d matched collectives", a, iters)
	}
	r0, r1 := a.Comms[0].Ranks[0], a.Comms[0].Ranks[1]
	if r1.LastFraction < 0.95 {
		t.Errorf("rank 1 last in %.1f%% of collectives, want >= 95%%", 100*r1.LastFraction)
	}
	if e := float64(r0.WaitP50Ns)/float64(delay) - 1; math.Abs(e) > 0.10 {
		t.Errorf("rank 0 waits p50 %v for rank 1, injected %v (%+.1f%%)", time.Duration(r0.WaitP50Ns), delay, 100*e)
	}
	t.Logf("rank 1 last in %.1f%%; rank 0 wait p50 %v p99 %v", 100*r1.LastFraction, time.Duration(r0.WaitP50Ns), time.Duration(r0.WaitP99Ns))
	if len(out.Report.Stalls) != 0 {
		t.Errorf("stalls %+v: a 20 ms straggler is no stall", out.Report.Stalls)
	}
	var waitNs int64
	wait := slices.IndexFunc(out.Profile.SampleType, func(v *profile.ValueType) bool { return v.Type == "wait" })
	for _, s := range out.Profile.Sample {
		if s.Location[0].Line[0].Function.Name == "wait for rank 1" {
			waitNs += s.Value[wait]
		}
	}
	if waitNs != r0.WaitTotalNs {
		t.Errorf("profile: %d ns under \"wait for rank 1\", report says rank 0 waited %d ns", waitNs, r0.WaitTotalNs)
	}
	if n := strings.Count(tl.String(), `"name":"last: AllReduce"`); n != iters {
		t.Errorf("timeline marks %d last arrivals, want %d", n, iters)
	}
}

// (b) Rank 1 of 2 stops itself with SIGSTOP instead of its 50th all-reduce
// while rank 0 enters it: the recorder reports the stall within 2 s, on the
// status line, in the trace and to --on-stall, naming rank 1 and the
// collective it never entered, and the recording still ends cleanly.
func TestStallReportedLive(t *testing.T) {
	requirePrivileges(t)
	const stopAt = 50
	truth := filepath.Join(t.TempDir(), "truth")
	var status lockedBuffer
	cfg := testConfig(t)
	cfg.StallAfter, cfg.Duration, cfg.Sampler = time.Second, 4*time.Second, flatLinks{gpus: 2}
	cfg.Status, cfg.OnStall = &status, `echo "missing=$LINKPROF_STALL_MISSING_PIDS seq=$LINKPROF_STALL_SEQ"`
	cfg.Command = []string{progs.Ranks, "2", "1000000", "1", "2000"}
	cfg.CommandEnv = env("DRIVER_TRUTH="+truth, "RANKS_STOP_AT="+strconv.Itoa(stopAt))
	sum, tr := record(t, cfg, 30*time.Second)
	lines := readTruth(t, truth)
	pids := rankPids(t, lines)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if sum.Reason != "duration" || tr.Stop == nil {
		t.Fatalf("reason %q, stop record %v: want a clean stop at the duration", sum.Reason, tr.Stop)
	}
	var stopNs int64
	for _, l := range lines {
		fmt.Sscanf(l, "stop 1 %d %d", new(int), &stopNs)
	}
	if len(tr.Stalls) == 0 || stopNs == 0 {
		t.Fatalf("stall records %+v, stop at %d: want a stall after rank 1 stopped", tr.Stalls, stopNs)
	}
	first := tr.Stalls[0]
	if first.Kind != stallMissing || first.Seq != stopAt || first.Op != "AllReduce" || len(first.Missing) != 1 ||
		first.Missing[0].Rank != 1 || first.Missing[0].Pid != uint32(pids[1]) || first.Missing[0].LastSeq != stopAt-1 ||
		len(first.Arrived) != 1 || first.Arrived[0].Rank != 0 || first.LinksFlatNs < int64(time.Second) {
		t.Errorf("stall %+v: want rank 1 (pid %d) missing from AllReduce seq %d, its last seq %d, rank 0 in, links flat", first, pids[1], stopAt, stopAt-1)
	}
	if d := time.Duration(first.MonoNs - stopNs); d > 2*time.Second || d < cfg.StallAfter {
		t.Errorf("stall reported %v after rank 1 stopped, want within 2 s (and after --stall-after %v)", d, cfg.StallAfter)
	}
	if last := tr.Stalls[len(tr.Stalls)-1]; last.ID != first.ID || last.End != "recording-stopped" {
		t.Errorf("last stall record %+v: want the same stall, open until the recording stopped", last)
	}
	if s := status.String(); !strings.Contains(s, "STALL") || !strings.Contains(s, fmt.Sprintf("waiting for rank 1 (pid %d, last seq %d AllReduce", pids[1], stopAt-1)) {
		t.Errorf("status line lacks the stall:\n%s", s)
	}
	checkOnStallLog(t, cfg.Dir, fmt.Sprintf("missing=%d seq=%d", pids[1], stopAt))
	out, err := pipeline.Run(cfg.Dir, correlate.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ss := out.Report.Stalls; len(ss) != 1 || ss[0].Missing[0].Rank != 1 || ss[0].End != "recording-stopped" {
		t.Errorf("report stalls %+v", ss)
	}
}

func checkOnStallLog(t *testing.T, dir, want string) {
	t.Helper()
	var b []byte
	for range 50 {
		if b, _ = os.ReadFile(filepath.Join(dir, OnStallLog)); strings.Contains(string(b), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("%s holds %q, want %q", OnStallLog, b, want)
}

// lockedBuffer is a status writer read after the recording.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
