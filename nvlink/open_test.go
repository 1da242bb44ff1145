package nvlink_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
)

func TestOpenReadsIdentityAndTopology(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 4, NoNVLink: []int{3}, Pids: map[int][]uint32{1: {4242, 4243}}})
	s, err := nvlink.Open(srv, nvlink.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gpus := s.GPUs()
	if len(gpus) != 4 {
		t.Fatalf("got %d GPUs, want 4", len(gpus))
	}
	g := gpus[1]
	if g.Index != 1 || g.UUID != "GPU-00000000-fake-0000-0000-000000000001" || g.PCIBusID != nvmlfake.BusID(1) {
		t.Errorf("identity = %d %s %s", g.Index, g.UUID, g.PCIBusID)
	}
	if g.Name != "NVIDIA H100 80GB HBM3" || g.Driver != "550.54.15" || g.NVMLVersion != "12.550.54.15" {
		t.Errorf("name/driver/nvml = %q %q %q", g.Name, g.Driver, g.NVMLVersion)
	}
	if !slices.Equal(g.ComputePids, []uint32{4242, 4243}) {
		t.Errorf("compute pids = %v", g.ComputePids)
	}
	if len(g.Links) != 18 {
		t.Fatalf("GPU 1 has %d links, want 18", len(g.Links))
	}
	for _, l := range g.Links {
		// 4 GPUs, GPU 3 without NVLink: the fake still wires links to it.
		if want := nvmlfake.Peer(1, l.ID, 4); !l.Active || l.PeerGPU != want || l.GbpsPerDir != 200 {
			t.Errorf("link %d = %+v, want active, peer %d, 200 Gb/s", l.ID, l, want)
		}
	}
	if g.PeakLinkBps != 18*25e9 {
		t.Errorf("peak = %g, want %g", g.PeakLinkBps, 18*25e9)
	}
	if !slices.Equal(g.SampleFields, []string{"data_tx", "data_rx", "raw_tx", "raw_rx"}) || !g.CounterUnitKB {
		t.Errorf("fields = %v, KiB %v", g.SampleFields, g.CounterUnitKB)
	}
	if noLink := gpus[3]; len(noLink.Links) != 0 || len(noLink.SampleFields) != 0 {
		t.Errorf("GPU 3 without NVLink: links %v fields %v", noLink.Links, noLink.SampleFields)
	}
}

func TestOpenChoosesGPUs(t *testing.T) {
	srv, clk := fakeHost(nvmlfake.Options{GPUs: 4})
	s, err := nvlink.Open(srv, nvlink.Config{GPUs: []int{2, 0}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.GPUs()
	if len(got) != 2 || got[0].Index != 2 || got[1].Index != 0 {
		t.Fatalf("GPUs = %+v", got)
	}
	for _, g := range []int{4, 99} {
		if _, err := nvlink.Open(srv, nvlink.Config{GPUs: []int{g}, Clock: clk}); !errors.Is(err, nvlink.ErrNoSuchGPU) {
			t.Errorf("--gpus %d of 4: err = %v, want ErrNoSuchGPU", g, err)
		}
	}
}

func TestOpenWithoutLibrary(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	_, err := nvlink.Open(lib, nvlink.Config{})
	if !errors.Is(err, nvlink.ErrNoNVML) {
		t.Fatalf("err = %v, want ErrNoNVML", err)
	}
	if len(lib.InitCalls()) != 1 {
		t.Errorf("Init called %d times", len(lib.InitCalls()))
	}
}

func TestOpenReportsOtherInitErrors(t *testing.T) {
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_NO_PERMISSION }}
	_, err := nvlink.Open(lib, nvlink.Config{})
	if err == nil || errors.Is(err, nvlink.ErrNoNVML) || nvlink.Return(err) != nvml.ERROR_NO_PERMISSION {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []nvlink.Config{
		{Schedule: "fastest"},
		{Hz: -1},
		{PerLink: true, PerLinkHz: 0},
		{GPM: true, GPMInterval: 50_000_000},
		{GPUs: []int{1, 1}},
		{GPUs: []int{-1}},
		{Hz: math.NaN()},
		{Hz: math.Inf(1)},
		{PerLinkHz: -1}, // refused even without PerLink
		{PerLinkHz: math.NaN()},
		{GPMInterval: time.Nanosecond}, // refused even without GPM
		{GPMInterval: -time.Second},
		{Schedule: nvlink.SchedulePerProcess, CPUPercent: math.NaN()},
		{Schedule: nvlink.SchedulePerProcess, CPUPercent: -1},
		{Schedule: nvlink.SchedulePerProcess, CPUPercent: 101},
		{Schedule: nvlink.ScheduleRoundRobin, CPUPercent: 5}, // one reader for all GPUs: no share per GPU
		{Schedule: nvlink.SchedulePerProcess},                // no reader command
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	c := nvlink.Config{Schedule: "best"}
	if err := c.Validate(); err != nil || c.Schedule != nvlink.ScheduleRoundRobin {
		t.Errorf("best -> %q, %v", c.Schedule, err)
	}
}
