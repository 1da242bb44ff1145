package nic

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

func openFake(t *testing.T, names ...string) (*Sampler, string) {
	t.Helper()
	root := fakeSysfs(t)
	all, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	devs, err := Select(all, Spec{Names: names}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(devs, Config{Root: root, Hz: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, root
}

// A round reads each NIC's counters in bytes (IB data counters count
// 4-byte words), and a kept-open counter sees every new value.
func TestRoundReadsCountersInBytes(t *testing.T) {
	s, root := openFake(t, "eth0", "mlx5_0:1", "efa_0:1")
	buf := make([]trace.NICSample, 3)
	got := s.Round(0, buf)
	want := [][2]uint64{{1000, 2000}, {400, 800}, {5, 6}}
	for i, smp := range got {
		if !smp.OK() || smp.Flags&trace.SampleWrapped != 0 || smp.NIC != uint32(i) || smp.Round != 0 ||
			[2]uint64{smp.TxBytes, smp.RxBytes} != want[i] || smp.MonoAfterNs < smp.MonoBeforeNs {
			t.Errorf("NIC %d: %+v, want bytes %v", i, smp, want[i])
		}
	}
	setCounter(t, root, "class/net/eth0/statistics/tx_bytes", 1<<40)
	setCounter(t, root, "class/infiniband/mlx5_0/ports/1/counters/port_rcv_data", 1<<33)
	got = s.Round(1, buf)
	if got[0].TxBytes != 1<<40 || got[1].RxBytes != 1<<35 || got[1].Round != 1 {
		t.Errorf("second round %+v", got)
	}
	latest := s.Latest()
	if len(latest) != 3 || latest[0].Name != "eth0" || latest[0].TxBytes != 1<<40 || !latest[1].OK || latest[1].RxBytes != 1<<35 {
		t.Errorf("latest %+v", latest)
	}
}

// A counter that went backwards, or a 32-bit IB counter stuck at its
// maximum, marks the sample wrapped; an unreadable one is a gap.
func TestRoundFlagsWrapsAndGaps(t *testing.T) {
	s, root := openFake(t, "eth0", "mlx5_0:1")
	buf := make([]trace.NICSample, 2)
	s.Round(0, buf)
	setCounter(t, root, "class/net/eth0/statistics/rx_bytes", 10)
	setCounter(t, root, "class/infiniband/mlx5_0/ports/1/counters/port_xmit_data", 1<<32-1)
	got := s.Round(1, buf)
	for i, smp := range got {
		if !smp.OK() || smp.Flags&trace.SampleWrapped == 0 {
			t.Errorf("NIC %d: %+v, want OK and wrapped", i, smp)
		}
	}
	setCounter(t, root, "class/infiniband/mlx5_0/ports/1/counters/port_xmit_data", 1<<32+5)
	if got := s.Round(2, buf); got[1].Flags != trace.SampleOK {
		t.Errorf("64-bit value past 2^32: %+v", got[1])
	}
	if err := writeText(root, "class/net/eth0/statistics/tx_bytes", "garbage\n"); err != nil {
		t.Fatal(err)
	}
	got = s.Round(3, buf)
	if got[0].OK() || got[0].TxBytes != 0 || !got[1].OK() {
		t.Errorf("unreadable eth0: %+v", got)
	}
	if l := s.Latest(); l[0].OK || l[0].RxBytes != 10 {
		t.Errorf("latest after a failed read %+v: want not OK, the last good values kept", l[0])
	}
}

// collect is a Sink that keeps what the sampler writes.
type collect struct {
	mu      sync.Mutex
	nics    []trace.NIC
	samples []trace.NICSample
}

func (c *collect) WriteJSON(t trace.RecordType, v any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t == trace.RecNIC {
		c.nics = append(c.nics, v.(trace.NIC))
	}
	return nil
}

func (c *collect) WriteNICSamples(s ...trace.NICSample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.samples = append(c.samples, s...)
	return nil
}

// Run writes the NIC records first, then whole rounds, numbered in order.
func TestRunWritesRecordsThenRounds(t *testing.T) {
	s, _ := openFake(t, "lo", "mlx5_0:1")
	var sink collect
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.RunTo(ctx, &sink) }()
	for s.rounds.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(sink.nics) != 2 || sink.nics[0].Name != "lo" || sink.nics[1].Name != "mlx5_0:1" || sink.nics[1].Index != 1 {
		t.Errorf("NIC records %+v", sink.nics)
	}
	n := len(sink.samples)
	if n < 10 || n%2 != 0 {
		t.Fatalf("%d samples: want whole rounds of 2, at least 5", n)
	}
	for i, smp := range sink.samples {
		if smp.Round != uint64(i/2) || smp.NIC != uint32(i%2) {
			t.Fatalf("sample %d is NIC %d of round %d", i, smp.NIC, smp.Round)
		}
	}
	if s.Rate() <= 0 {
		t.Errorf("rate %v", s.Rate())
	}
}

// The real loopback device: bytes sent over a TCP connection on 127.0.0.1
// show on lo's counters, sent and received (other traffic on lo only adds).
func TestLoopbackCountersSeeTCPBytes(t *testing.T) {
	all, err := Discover("")
	if err != nil {
		t.Fatal(err)
	}
	devs, err := Select(all, Spec{Names: []string{"lo"}}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(devs, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]trace.NICSample, 1)
	before := s.Round(0, buf)[0]
	const sent = 32 << 20
	sendOverLoopback(t, sent)
	after := s.Round(1, buf)[0]
	if !before.OK() || !after.OK() {
		t.Fatalf("reads failed: %+v %+v", before, after)
	}
	tx, rx := after.TxBytes-before.TxBytes, after.RxBytes-before.RxBytes
	if tx < sent || rx < sent {
		t.Errorf("lo moved tx %d rx %d bytes, want at least the %d sent", tx, rx, sent)
	}
	t.Logf("sent %d bytes: lo tx %d (%.4fx), rx %d", sent, tx, float64(tx)/sent, rx)
}

func sendOverLoopback(t *testing.T, n int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		m, _ := io.Copy(io.Discard, c)
		got <- m
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for sent := 0; sent < n; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if m := <-got; m != int64(n) {
		t.Fatalf("receiver got %d bytes, want %d", m, n)
	}
}

func TestCheckHz(t *testing.T) {
	for _, hz := range []float64{0, 1, 2000, maxHz} {
		if err := CheckHz(hz); err != nil {
			t.Errorf("%g: %v", hz, err)
		}
	}
	nan := 0.0
	// A rate below 1 Hz: 1e-10 makes a period past time.Duration's range,
	// which NewTicker refuses with a panic.
	for _, hz := range []float64{-1, maxHz + 1, nan / nan, 0.5, 1e-10} {
		if err := CheckHz(hz); err == nil {
			t.Errorf("%g accepted", hz)
		}
	}
}

func TestDevicesKeepOrder(t *testing.T) {
	s, _ := openFake(t, "eth0", "lo")
	var names []string
	for _, d := range s.Devices() {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, []string{"eth0", "lo"}) {
		t.Errorf("%v", names)
	}
}

// Latest's moved bytes sum the steps between reads from the first one, a
// counter that went backwards adding nothing for its step and a failed
// read counted apart.
func TestLatestMovedSkipsResets(t *testing.T) {
	s, root := openFake(t, "eth0")
	buf := make([]trace.NICSample, 1)
	tx, rx := "class/net/eth0/statistics/tx_bytes", "class/net/eth0/statistics/rx_bytes"
	s.Round(0, buf) // tx 1000, rx 2000
	setCounter(t, root, tx, 1500)
	s.Round(1, buf)
	setCounter(t, root, rx, 10)
	s.Round(2, buf)
	setCounter(t, root, rx, 30)
	s.Round(3, buf)
	if err := writeText(root, tx, "garbage\n"); err != nil {
		t.Fatal(err)
	}
	s.Round(4, buf)
	setCounter(t, root, tx, 1600)
	s.Round(5, buf)
	l := s.Latest()[0]
	if l.MovedTx != 600 || l.MovedRx != 20 || l.Reads != 5 || l.Failed != 1 || l.TxBytes != 1600 || l.RxBytes != 30 {
		t.Errorf("latest %+v: want moved tx 600 rx 20, 5 reads, 1 failed", l)
	}
}
