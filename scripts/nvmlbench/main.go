// Command nvmlbench measures NVML NVLink counter reads on a GPU box, all in
// one run: the single-GPU single-reader ceiling, each GPU alone, whether a
// read costs more after the GPU sat idle, and then, with 1, 2 and 4 GPUs,
// NVML read straight (alternating GPUs, one process per GPU) and every
// schedule of the sampler: round-robin, pinned to a thread, bursts of k
// reads per GPU, per-GPU readers, and one capped by --nvml-hz. Each row
// gives total and per-GPU reads/s, call latency, and CPU (all of the
// process's, or the children's own).
//
// Build here (cgo) and carry the binary to the GPU box, which has no Go:
//
//	CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" go build -o bin/nvmlbench ./scripts/nvmlbench
//	sudo ./nvmlbench -d 3s
//
// -sim runs against the simulated link (NVML's cost emulated) to check the
// tool without a GPU; its figures describe the emulation, not hardware.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/simlink"
)

// options of one run.
type options struct {
	dur    time.Duration
	sim    int
	gpus   []int // GPU counts to measure
	bursts []int
	capHz  float64
	cpuPct float64
	only   []string
	warmup time.Duration
}

// readerFlag, first on the command line, makes nvmlbench the sampler's
// reader process of one GPU (--nvml-schedule per-process), as
// "linkprof __nvml-reader" is for linkprof: -nvml-reader SIM READER-FLAGS.
const readerFlag = "-nvml-reader"

func main() {
	if len(os.Args) > 2 && os.Args[1] == readerFlag {
		if err := readerMain(os.Args[2], os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, "nvmlbench reader:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var gpus, bursts, only string
	childGPU := flag.Int("child-gpu", -1, "internal: be the child process reading this GPU")
	flag.DurationVar(&o.dur, "d", 3*time.Second, "time per measurement")
	flag.IntVar(&o.sim, "sim", 0, "measure the simulated link with this many GPUs instead of NVML")
	flag.StringVar(&gpus, "gpus", "1,2,4", "GPU counts to measure")
	flag.StringVar(&bursts, "bursts", "2,4,8,16,32,64", "burst lengths to measure")
	flag.Float64Var(&o.capHz, "cap-hz", 40, "--nvml-hz of the capped case (CPU check)")
	flag.Float64Var(&o.cpuPct, "cpu", 5, "--nvml-cpu of the CPU-bounded case")
	flag.StringVar(&only, "only", "", "measure only the cases whose name contains one of these, comma-separated")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "sampler time before the reads are counted (per-process pacing settles)")
	flag.Parse()
	if only != "" {
		o.only = strings.Split(only, ",")
	}
	var err error
	if *childGPU >= 0 {
		err = childMain(o.sim, *childGPU, o.dur)
	} else if o.gpus, err = ints(gpus); err == nil {
		if o.bursts, err = ints(bursts); err == nil {
			err = run(o)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nvmlbench:", err)
		os.Exit(1)
	}
}

// readerCmd starts the sampler's reader processes: nvmlbench itself.
func readerCmd(sim int) []string {
	self, err := os.Executable()
	if err != nil {
		return nil // the sampler then says what failed
	}
	return []string{self, readerFlag, strconv.Itoa(sim)}
}

// readerMain is one reader process of the per-process schedule.
func readerMain(sim string, args []string) error {
	n, err := strconv.Atoi(sim)
	if err != nil {
		return fmt.Errorf("simulated GPUs %q: %w", sim, err)
	}
	a, err := nvlink.ParseReaderArgs(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a.Control = os.Stdin
	return nvlink.RunReader(ctx, newLib(n), a, os.Stdout)
}

// wants reports whether -only asks for the case.
func (o options) wants(name string) bool {
	for _, w := range o.only {
		if strings.Contains(name, w) {
			return true
		}
	}
	return len(o.only) == 0
}

func ints(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want a list of counts above 0", list)
		}
		out = append(out, n)
	}
	return out, nil
}

func newLib(sim int) nvml.Interface {
	if sim > 0 {
		return simlink.New("/nonexistent/linkprof-schedule", sim, simlink.Options{Serialize: true})
	}
	return nvml.New()
}

func nvmlCheck(step string, ret nvml.Return) error {
	if ret != nvml.SUCCESS {
		return fmt.Errorf("%s: %v", step, ret)
	}
	return nil
}

func run(o options) error {
	lib := newLib(o.sim)
	if err := nvmlCheck("initializing NVML", lib.Init()); err != nil {
		return err
	}
	defer lib.Shutdown()
	n, ret := lib.DeviceGetCount()
	if err := nvmlCheck("counting GPUs", ret); err != nil {
		return err
	}
	if o.sim > 0 {
		fmt.Println("nvmlbench: SIMULATED link (NVML's cost emulated; each child process emulates its own NVML)")
	}
	fmt.Printf("nvmlbench: %d GPUs, %v per measurement\n\n", n, o.dur)
	printHeader()
	ceil, err := rawLoop(lib, rawCase{gpus: []int{0}, nfields: 1}, o.dur)
	if err != nil {
		return err
	}
	ceil.Name = "ceiling: GPU 0, 1 field, 1 reader"
	ceil.print(0)
	all := []*result{ceil}
	for _, c := range plan(o, n) {
		if !o.wants(c.name) {
			continue
		}
		r, err := c.run(lib)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		r.Name = c.name
		r.print(ceil.total())
		all = append(all, r)
	}
	summary(all, ceil.total())
	return nil
}
