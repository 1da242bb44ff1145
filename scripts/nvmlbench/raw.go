package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
)

// rawCase reads counters straight through NVML, no sampler: nfields
// aggregate fields per call, burst reads of a GPU before the next, idle
// between calls.
type rawCase struct {
	gpus    []int
	nfields int
	burst   int
	idle    time.Duration
}

// rawLoop runs c for dur.
func rawLoop(lib nvml.Interface, c rawCase, dur time.Duration) (*result, error) {
	devs := make([]nvml.Device, len(c.gpus))
	for i, g := range c.gpus {
		d, ret := lib.DeviceGetHandleByIndex(g)
		if err := nvmlCheck(fmt.Sprintf("opening GPU %d", g), ret); err != nil {
			return nil, err
		}
		devs[i] = d
	}
	v := make([]nvml.FieldValue, c.nfields)
	clk := nvlink.SystemClock{}
	r := &result{Reads: make([]int, len(devs))}
	cpu0, start := cpuNow(), clk.MonoNs()
	for n := 0; clk.MonoNs()-start < dur.Nanoseconds(); n++ {
		i := n / max(c.burst, 1) % len(devs)
		for k := range v {
			v[k] = nvml.FieldValue{FieldId: uint32(nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX + k), ScopeId: 0xFFFFFFFF}
		}
		t0 := clk.MonoNs()
		if ret := devs[i].GetFieldValues(v); ret != nvml.SUCCESS {
			return nil, fmt.Errorf("reading GPU %d counters: %v", c.gpus[i], ret)
		}
		r.Lat = append(r.Lat, clk.MonoNs()-t0)
		r.Reads[i]++
		if c.idle > 0 {
			time.Sleep(c.idle)
		}
	}
	r.Secs = float64(clk.MonoNs()-start) / 1e9
	r.addCPU(cpuNow().minus(cpu0))
	return r, nil
}

// processes runs one child process per GPU, each reading its GPU in a
// tight loop, started together: does NVML serialize across processes too?
func processes(sim, g int, dur time.Duration) (*result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding nvmlbench: %w", err)
	}
	kids := make([]*child, g)
	for i := range kids {
		if kids[i], err = startChild(self, sim, i, dur); err != nil {
			return nil, err
		}
		defer kids[i].cmd.Process.Kill()
	}
	for _, k := range kids { // all NVMLs initialized: go
		if _, err := k.stdin.Write([]byte("go\n")); err != nil {
			return nil, fmt.Errorf("starting child: %w", err)
		}
	}
	r := &result{Reads: make([]int, g)}
	for i, k := range kids {
		cr, err := k.result()
		if err != nil {
			return nil, err
		}
		r.Reads[i], r.Lat = cr.Reads[0], append(r.Lat, cr.Lat...)
		r.CPUSec, r.SysSec = r.CPUSec+cr.CPUSec, r.SysSec+cr.SysSec
		r.Secs = max(r.Secs, cr.Secs)
	}
	return r, nil
}

type child struct {
	cmd   *exec.Cmd
	stdin interface{ Write([]byte) (int, error) }
	out   *bufio.Scanner
}

// startChild starts a child reading GPU gpu and waits until it is ready.
func startChild(self string, sim, gpu int, dur time.Duration) (*child, error) {
	cmd := exec.Command(self, "-child-gpu", strconv.Itoa(gpu), "-sim", strconv.Itoa(sim), "-d", dur.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("starting child: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("starting child: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting child: %w", err)
	}
	k := &child{cmd: cmd, stdin: in, out: bufio.NewScanner(out)}
	k.out.Buffer(nil, 64<<20)
	if !k.out.Scan() || k.out.Text() != "ready" {
		return nil, fmt.Errorf("child for GPU %d did not start: %v", gpu, k.out.Err())
	}
	return k, nil
}

func (k *child) result() (*result, error) {
	var r result
	if !k.out.Scan() {
		return nil, fmt.Errorf("reading child result: %v", k.out.Err())
	}
	if err := json.Unmarshal(k.out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("reading child result: %w", err)
	}
	if err := k.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("child: %w", err)
	}
	return &r, nil
}

// childMain is the child's side: open NVML, say ready, wait for go, read.
func childMain(sim, gpu int, dur time.Duration) error {
	lib := newLib(sim)
	if err := nvmlCheck("initializing NVML", lib.Init()); err != nil {
		return err
	}
	defer lib.Shutdown()
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("waiting for go: %w", err)
	}
	r, err := rawLoop(lib, rawCase{gpus: []int{gpu}, nfields: 4}, dur)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
