package nvlink

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// ReaderArgs tell a per-process reader what to read. The parent passes them
// as flags (Args); the reader parses them back (ParseReaderArgs).
type ReaderArgs struct {
	GPU       int           // NVML index
	Hz        float64       // cap on reads per second; 0: as fast as NVML allows
	Slots     []int         // Sample slots to read: 0 data_tx, 1 data_rx, 2 raw_tx, 3 raw_rx
	LostAfter int           // gone-class failures in a row before only probing; <= 0: never
	LostProbe time.Duration // time between probes of a lost GPU
	CPUShare  float64       // of a core the reader may use (--nvml-cpu); 0: no bound
	Clock     Clock         // nil: SystemClock; not a flag (tests)
	CPU       CPUClock      // nil: ProcessCPU; not a flag (tests)
	// Control, when set, carries rate changes from the sampler (control.go).
	// Not a flag: the reader process's stdin.
	Control io.Reader
}

// Args are the reader's flags.
func (a ReaderArgs) Args() []string {
	slots := ""
	for i, s := range a.Slots {
		if i > 0 {
			slots += ","
		}
		slots += strconv.Itoa(s)
	}
	return []string{"--gpu", strconv.Itoa(a.GPU), "--hz", strconv.FormatFloat(a.Hz, 'g', -1, 64),
		"--slots", slots, "--lost-after", strconv.Itoa(a.LostAfter), "--lost-probe", a.LostProbe.String(),
		"--cpu-share", strconv.FormatFloat(a.CPUShare, 'g', -1, 64)}
}

// ParseReaderArgs reads the flags Args wrote.
func ParseReaderArgs(args []string) (ReaderArgs, error) {
	a := ReaderArgs{Slots: []int{0, 1, 2, 3}}
	fs := flag.NewFlagSet("nvml-reader", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&a.GPU, "gpu", -1, "NVML index of the GPU to read")
	fs.Float64Var(&a.Hz, "hz", 0, "cap on reads per second (0: none)")
	fs.Func("slots", "Sample slots to read, comma-separated", func(v string) (err error) {
		a.Slots, err = parseInts(v)
		return err
	})
	fs.IntVar(&a.LostAfter, "lost-after", DefaultLostAfter, "gone-class failures in a row before only probing")
	fs.DurationVar(&a.LostProbe, "lost-probe", DefaultLostProbe, "time between probes of a lost GPU")
	fs.Float64Var(&a.CPUShare, "cpu-share", 0, "share of a core the reader may use (0: no bound)")
	if err := fs.Parse(args); err != nil {
		return a, err
	}
	if a.GPU < 0 || a.Hz < 0 || len(a.Slots) == 0 || a.CPUShare < 0 || a.CPUShare > 1 || fs.NArg() > 0 {
		return a, fmt.Errorf("want --gpu N (>= 0), --hz >= 0, --slots, --cpu-share 0-1 and no arguments")
	}
	for _, s := range a.Slots {
		if s < 0 || s >= len(counterFields) {
			return a, fmt.Errorf("--slots: %d is not a counter slot (0-3)", s)
		}
	}
	return a, nil
}

// parseInts reads a comma-separated list of integers.
func parseInts(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// readerCatchUp is how many periods behind a reader process still makes up
// for: NVML's p99 call is 3-8x its p50 on the GPU box (docs/validation.md).
const readerCatchUp = 10

// RunReader is a per-process reader: it opens NVML through lib, reads the
// GPU's aggregate counters as fast as a.Hz and a.CPUShare allow, and writes
// one record (wire.go) per read to out until ctx is done or a write fails.
// A lost GPU is only probed after a.LostAfter gone-class failures in a row,
// as the in-process schedules do; the parent reports it from the records.
func RunReader(ctx context.Context, lib nvml.Interface, a ReaderArgs, out io.Writer) error {
	if a.Clock == nil {
		a.Clock = SystemClock{}
	}
	if a.CPU == nil {
		a.CPU = ProcessCPU
	}
	if err := nvmlError("initializing NVML", lib.Init()); err != nil {
		return err
	}
	defer lib.Shutdown()
	dev, ret := lib.DeviceGetHandleByIndex(a.GPU)
	if err := nvmlError(fmt.Sprintf("opening GPU %d", a.GPU), ret); err != nil {
		return err
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	t := readerTask(dev, a, out, followControl(a.Control, stop))
	if err := (&reader{clock: a.Clock, tasks: []*task{t}}).loop(ctx); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// readerTask reads the GPU once per run and writes the record. A paced
// reader makes up for a slow read with the next ones, so it keeps the rate
// it was asked for: the pacer takes a reader below its cap for one that
// cannot read faster.
func readerTask(dev nvml.Device, a ReaderArgs, out io.Writer, control *readerControl) *task {
	fields := make([]uint32, len(a.Slots))
	for i, s := range a.Slots {
		fields[i] = counterFields[s].id
	}
	var budget *cpuBudget
	if a.CPUShare > 0 {
		budget = newCPUBudget(a.CPUShare, a.CPU, a.Clock.MonoNs())
	}
	buf, rec := make([]nvml.FieldValue, len(fields)), make([]byte, 0, 64)
	streak := 0
	t := &task{period: hzPeriod(a.Hz), catchUp: readerCatchUp}
	t.run = func(context.Context) error {
		if p, ok := control.takePeriod(); ok {
			t.period = p
		}
		r := readRaw(dev, fields, a.Slots, buf, a.Clock, noLock{})
		rec = appendWire(rec[:0], a.GPU, r)
		if _, err := out.Write(rec); err != nil {
			return fmt.Errorf("writing sample: %w", err)
		}
		if budget != nil {
			t.notBefore = budget.spend(a.Clock.MonoNs())
		}
		switch {
		case goneCodes[r.ret] != "":
			if streak++; a.LostAfter > 0 && streak >= a.LostAfter {
				t.backoff = a.LostProbe.Nanoseconds()
			}
		case r.ret == nvml.SUCCESS:
			streak, t.backoff = 0, 0
		}
		return nil
	}
	return t
}
