package nvlink_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
	"github.com/linkprof/linkprof/trace"
)

// seqBase and seqStep make counters that count reads: GPU g's slot s at its
// k-th read (k from 1) is seqBase + k*seqStep(g, s), served as 32-bit values,
// so they wrap within the first 10 reads and the unwrapped value is exact.
const seqBase = 1<<32 - 1000

func seqStep(gpu, slot int) uint64 { return uint64(100 * (gpu + 1) * (slot + 1)) }

// seqHost is a fake host with those counters, on the system clock (readers
// in other processes cannot share a fake one).
func seqHost(gpus int) *nvmlfake.Server { return seqHostSlowed(gpus, nil) }

// seqHostSlowed is seqHost with onRead called by each read, outside NVML's
// lock, as a driver that serves some readers slower than others.
func seqHostSlowed(gpus int, onRead func(gpu int)) *nvmlfake.Server {
	reads := make([]atomic.Int64, gpus)
	counters := func(gpu int, field, scope uint32, mono int64) (uint64, nvml.Return) {
		slot := int(field - nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX)
		k := reads[gpu].Load()
		if slot == 0 { // fields come in slot order within a read
			k = reads[gpu].Add(1)
		}
		return seqBase + uint64(k)*seqStep(gpu, slot), nvml.SUCCESS
	}
	return nvmlfake.New(nvmlfake.Options{GPUs: gpus, ValueType: nvml.VALUE_TYPE_UNSIGNED_INT, Counters: counters, OnRead: onRead})
}

// checkSeq checks a GPU's good samples against reads ks of a seqHost:
// exact unwrapped values, and the wrap flag exactly where a counter crossed 2^32.
func checkSeq(t *testing.T, gpu int, got []trace.Sample, ks []int) {
	t.Helper()
	if len(got) != len(ks) {
		t.Fatalf("GPU %d: %d good samples, want %d", gpu, len(got), len(ks))
	}
	for i, s := range got {
		vals := []uint64{s.DataTxKiB, s.DataRxKiB, s.RawTxKiB, s.RawRxKiB}
		wrapped := false
		for slot, v := range vals {
			want := seqBase + uint64(ks[i])*seqStep(gpu, slot)
			if v != want {
				t.Fatalf("GPU %d sample %d (read %d) slot %d = %d, want %d", gpu, i, ks[i], slot, v, want)
			}
			if i > 0 && want>>32 != (seqBase+uint64(ks[i-1])*seqStep(gpu, slot))>>32 {
				wrapped = true
			}
		}
		if s.Flags&trace.SampleWrapped != 0 != wrapped {
			t.Fatalf("GPU %d sample %d (read %d): flags %#x, wrapped should be %v", gpu, i, ks[i], s.Flags, wrapped)
		}
	}
}

func goodSamples(all []trace.Sample, gpu int) (good []trace.Sample, gaps int) {
	for _, s := range all {
		switch {
		case s.GPU != uint32(gpu):
		case s.OK():
			good = append(good, s)
		default:
			gaps++
		}
	}
	return good, gaps
}

func seq(from, to int) []int {
	var ks []int
	for k := from; k <= to; k++ {
		ks = append(ks, k)
	}
	return ks
}

// perGPUSink stops the run once every GPU has n good samples.
type perGPUSink struct {
	memSink
	n    int
	good map[uint32]int
	gpus int
	done context.CancelFunc
}

func (p *perGPUSink) WriteSamples(s ...trace.Sample) error {
	if err := p.memSink.WriteSamples(s...); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range s {
		if x.OK() {
			p.good[x.GPU]++
		}
	}
	enough := 0
	for _, n := range p.good {
		if n >= p.n {
			enough++
		}
	}
	if enough == p.gpus {
		p.done()
	}
	return nil
}

// runPerProcess runs the per-process schedule on 2 fake GPUs until each has
// n good samples.
func runPerProcess(t *testing.T, cfg nvlink.Config, n int) (*nvlink.Sampler, *perGPUSink) {
	t.Helper()
	cfg.Schedule = nvlink.SchedulePerProcess
	s, err := nvlink.Open(seqHost(2), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &perGPUSink{n: n, good: map[uint32]int{}, gpus: 2, done: cancel}
	if err := s.RunTo(ctx, sink); err != nil {
		t.Fatalf("run: %v", err)
	}
	return s, sink
}

// inProcess runs each GPU's reader loop in a goroutine over the reader
// side's own fake host (a real reader has its own NVML), through a pipe, as
// a child process would. GPU 0's first reader fails its write after
// dieAfter records (0: never), as a reader process that dies.
func inProcess(host *nvmlfake.Server, dieAfter int) nvlink.StartReaderFunc {
	var starts [2]atomic.Int32
	return func(ctx context.Context, a nvlink.ReaderArgs) (*nvlink.ReaderStream, error) {
		pr, pw := io.Pipe()
		cr, cw := io.Pipe()
		a.Control = cr
		var out io.Writer = pw
		if starts[a.GPU].Add(1) == 1 && a.GPU == 0 && dieAfter > 0 {
			out = &failAfter{w: pw, n: dieAfter}
		}
		done := make(chan error, 1)
		go func() {
			err := nvlink.RunReader(ctx, host, a, out)
			pw.CloseWithError(err)
			done <- err
		}()
		wait := func() error {
			pr.Close() // unblocks a reader stuck writing
			return <-done
		}
		return &nvlink.ReaderStream{Out: pr, Control: cw, Wait: wait}, nil
	}
}

type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("reader killed")
	}
	f.n--
	return f.w.Write(p)
}

// The parent decodes the readers' raw records into exact, unwrapped samples.
func TestPerProcessDecodesReaders(t *testing.T) {
	s, sink := runPerProcess(t, nvlink.Config{Hz: 2000, StartReader: inProcess(seqHost(2), 0)}, 40)
	for gpu := range 2 {
		good, gaps := goodSamples(sink.samples, gpu)
		if gaps != 0 {
			t.Errorf("GPU %d: %d gaps", gpu, gaps)
		}
		checkSeq(t, gpu, good, seq(1, len(good)))
		if len(good) < 40 || s.Rates()[gpu] <= 0 {
			t.Errorf("GPU %d: %d samples, rate %v", gpu, len(good), s.Rates()[gpu])
		}
	}
	if len(sink.notes) != 0 {
		t.Errorf("notes: %+v", sink.notes)
	}
}

// Reader processes served unevenly are paced to one rate: GPU 1's reads
// take 4 ms, GPU 0's next to nothing, and GPU 0 is held near GPU 1's rate
// instead of reading hundreds of times faster. The decoded counters stay
// exact.
func TestPerProcessPacesReadersEvenly(t *testing.T) {
	slow := func(gpu int) {
		if gpu == 1 {
			time.Sleep(4 * time.Millisecond)
		}
	}
	cfg := nvlink.Config{Schedule: nvlink.SchedulePerProcess, PaceWindow: 100 * time.Millisecond,
		StartReader: inProcess(seqHostSlowed(2, slow), 0)}
	s, err := nvlink.Open(seqHost(2), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sink := &perGPUSink{n: 200, good: map[uint32]int{}, gpus: 2, done: cancel}
	if err := s.RunTo(ctx, sink); err != nil {
		t.Fatalf("run: %v", err)
	}
	end := sink.samples[len(sink.samples)-1].MonoAfterNs
	var last [2]int // reads in the last 300 ms
	for _, smp := range sink.samples {
		if smp.OK() && smp.MonoAfterNs > end-300*time.Millisecond.Nanoseconds() {
			last[smp.GPU]++
		}
	}
	t.Logf("last 300 ms: %v", last)
	if ratio := float64(last[0]) / float64(last[1]); ratio < 0.75 || ratio > 1.35 {
		t.Errorf("last 300 ms: GPU 0 read %d times, GPU 1 %d: ratio %.2f, want paced to about 1", last[0], last[1], ratio)
	}
	for gpu := range 2 {
		good, _ := goodSamples(sink.samples, gpu)
		checkSeq(t, gpu, good, seq(1, len(good)))
	}
}

// A reader that dies leaves one gap and a note; its restart continues the
// counters (the read it lost in dying is simply missing), and the other GPU
// is not disturbed.
func TestPerProcessRestartsADeadReader(t *testing.T) {
	_, sink := runPerProcess(t, nvlink.Config{Hz: 2000, StartReader: inProcess(seqHost(2), 5)}, 30)
	good, gaps := goodSamples(sink.samples, 0)
	if gaps != 1 {
		t.Fatalf("GPU 0: %d gaps, want 1", gaps)
	}
	// Reads 1-5 arrived, read 6 was made but its write failed, then the
	// restarted reader goes on from read 7.
	checkSeq(t, 0, good, append(seq(1, 5), seq(7, len(good)+1)...))
	var gap trace.Sample
	for _, s := range sink.gpuSamples(0) {
		if !s.OK() {
			gap = s
		}
	}
	if gap.MonoBeforeNs <= good[4].MonoAfterNs || gap.MonoBeforeNs >= good[5].MonoBeforeNs {
		t.Errorf("gap at %d, not between read 5 (%d) and 7 (%d)", gap.MonoBeforeNs, good[4].MonoAfterNs, good[5].MonoBeforeNs)
	}
	good1, gaps1 := goodSamples(sink.samples, 1)
	if gaps1 != 0 {
		t.Errorf("GPU 1: %d gaps", gaps1)
	}
	checkSeq(t, 1, good1, seq(1, len(good1)))
	re := regexp.MustCompile(`^GPU 0 \(UUID GPU-00000000-fake-0000-0000-000000000000\): its NVML reader process ended at \+\d+\.\ds \(writing sample: reader killed\): restarting it \(1 of 3\)$`)
	if len(sink.notes) != 1 || sink.notes[0].Level != "warn" || !re.MatchString(sink.notes[0].Text) {
		t.Errorf("notes: %+v", sink.notes)
	}
}

// A reader that never starts is retried Restarts times, then given up on,
// with a gap and a note each time; the recording goes on.
func TestPerProcessGivesUp(t *testing.T) {
	start := func(context.Context, nvlink.ReaderArgs) (*nvlink.ReaderStream, error) {
		return nil, errors.New("no NVML here")
	}
	host := seqHost(1)
	s, err := nvlink.Open(host, nvlink.Config{Schedule: nvlink.SchedulePerProcess, StartReader: start, Restarts: 2})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sink := &noteSink{want: 3, done: cancel}
	if err := s.RunTo(ctx, sink); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []string{
		`restarting it \(1 of 2\)$`,
		`restarting it \(2 of 2\)$`,
		`after 2 restarts: its counters are no longer read$`,
	}
	if len(sink.notes) != 3 || len(sink.samples) != 3 {
		t.Fatalf("%d notes, %d samples, want 3 of each: %+v", len(sink.notes), len(sink.samples), sink.notes)
	}
	prefix := regexp.MustCompile(`^GPU 0 \(UUID GPU-00000000-fake-0000-0000-000000000000\): its NVML reader process ended at \+\d+\.\ds \(no NVML here\)`)
	for i, n := range sink.notes {
		if !prefix.MatchString(n.Text) || !regexp.MustCompile(want[i]).MatchString(n.Text) || n.Level != "warn" || sink.samples[i].OK() {
			t.Errorf("note %d %q, sample %+v", i, n.Text, sink.samples[i])
		}
	}
}

// noteSink stops the run after want notes.
type noteSink struct {
	memSink
	want int
	done context.CancelFunc
}

func (n *noteSink) WriteJSON(t trace.RecordType, v any) error {
	if err := n.memSink.WriteJSON(t, v); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.notes) >= n.want {
		n.done()
	}
	return nil
}

// recordSink collects a reader's records and stops it after n.
type recordSink struct {
	n    int
	recs []trace.Sample
	done context.CancelFunc
}

func (r *recordSink) Write(p []byte) (int, error) {
	r.recs = append(r.recs, trace.DecodeSample(p))
	if len(r.recs) == r.n {
		r.done()
	}
	return len(p), nil
}

// A reader takes the rate the sampler sends on its control stream: started
// at 1000 reads/s and told "hz 100", its reads end up exactly 10 ms apart
// on the fake clock. The control line is read by another goroutine, so on a
// loaded machine many reads at 1 ms may come first: the sink waits for 20
// reads in a row 10 ms apart and fails only if they never come.
func TestReaderFollowsControl(t *testing.T) {
	clk := nvmlfake.NewClock(1e9, 0)
	host := nvmlfake.New(nvmlfake.Options{GPUs: 1, Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	out := &gapSink{want: 10_000_000, run: 20, limit: 1_000_000, done: cancel}
	a := nvlink.ReaderArgs{GPU: 0, Hz: 1000, Slots: []int{0}, Clock: clk, Control: strings.NewReader("hz 100\n")}
	if err := nvlink.RunReader(ctx, host, a, out); err != nil {
		t.Fatalf("reader: %v", err)
	}
	if out.inRun < out.run {
		t.Fatalf("%d reads without %d in a row 10 ms apart (hz 100); last gap %d ns", out.reads, out.run, out.lastGap)
	}
}

// gapSink stops the reader once run reads in a row were want ns apart, or
// after limit reads.
type gapSink struct {
	want, lastGap, prev int64
	run, inRun, reads   int
	limit               int
	done                context.CancelFunc
}

func (g *gapSink) Write(p []byte) (int, error) {
	s := trace.DecodeSample(p)
	if g.reads > 0 {
		g.lastGap = int64(s.MonoBeforeNs) - g.prev
		if g.lastGap == g.want {
			g.inRun++
		} else {
			g.inRun = 0
		}
	}
	g.prev, g.reads = int64(s.MonoBeforeNs), g.reads+1
	if g.inRun >= g.run || g.reads >= g.limit {
		g.done()
	}
	return len(p), nil
}

// A control line the reader does not understand stops it with an error
// that names it.
func TestReaderRejectsABadControlLine(t *testing.T) {
	clk := nvmlfake.NewClock(1e9, 0)
	host := nvmlfake.New(nvmlfake.Options{GPUs: 1, Clock: clk})
	a := nvlink.ReaderArgs{GPU: 0, Hz: 1000, Slots: []int{0}, Clock: clk, Control: strings.NewReader("fast please\n")}
	err := nvlink.RunReader(context.Background(), host, a, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `control line "fast please"`) {
		t.Fatalf("reader ended with %v, want the bad control line named", err)
	}
}

// Under --nvml-cpu a reader reads only as often as its share of a core
// allows: at 2 ms of CPU a read and 5% of a core, one read every 40 ms once
// the 50 ms of CPU it may spend ahead is spent (after 26 reads: the bucket
// may reach 0), on the fake clock.
func TestReaderKeepsItsCPUShare(t *testing.T) {
	clk := nvmlfake.NewClock(1e9, 0)
	host := nvmlfake.New(nvmlfake.Options{GPUs: 1, Clock: clk})
	cpu := func() time.Duration { return time.Duration(host.Reads(0)) * 2 * time.Millisecond }
	ctx, cancel := context.WithCancel(context.Background())
	out := &recordSink{n: 100, done: cancel}
	a := nvlink.ReaderArgs{GPU: 0, Slots: []int{0}, Clock: clk, CPU: cpu, CPUShare: 0.05}
	if err := nvlink.RunReader(ctx, host, a, out); err != nil {
		t.Fatalf("reader: %v", err)
	}
	for i := 1; i < len(out.recs); i++ {
		d := out.recs[i].MonoBeforeNs - out.recs[i-1].MonoBeforeNs
		want := int64(0)
		if i >= 26 {
			want = 40_000_000
		}
		if d < want-1000 || d > want+1000 {
			t.Fatalf("reads %d and %d %d ns apart, want %d", i-1, i, d, want)
		}
	}
}

// A capped reader makes up for a slow read with the next ones: at 100
// reads/s with every 10th read taking 35 ms, it still keeps 100 reads/s.
func TestReaderKeepsItsRateThroughSlowReads(t *testing.T) {
	clk := nvmlfake.NewClock(1e9, 0)
	var n int
	slow := func(int) {
		if n++; n%10 == 0 {
			clk.Advance(35 * time.Millisecond)
		}
	}
	host := nvmlfake.New(nvmlfake.Options{GPUs: 1, Clock: clk, OnRead: slow})
	ctx, cancel := context.WithCancel(context.Background())
	out := &recordSink{n: 100, done: cancel}
	a := nvlink.ReaderArgs{GPU: 0, Hz: 100, Slots: []int{0}, Clock: clk}
	if err := nvlink.RunReader(ctx, host, a, out); err != nil {
		t.Fatalf("reader: %v", err)
	}
	// Read 100 starts 99 periods after read 1, as if no read were slow.
	if d := out.recs[99].MonoBeforeNs - out.recs[0].MonoBeforeNs; d != 990_000_000 {
		t.Errorf("reads 1 to 100 at 100/s took %v, want 990ms", time.Duration(d))
	}
}
