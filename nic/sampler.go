package nic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkprof/linkprof/internal/clock"
	"github.com/linkprof/linkprof/trace"
)

// DefaultHz is --nic-hz's default: rounds over the NICs per second.
// NVML gives 260-500 reads/s per GPU; a round of sysfs reads costs a few
// microseconds, and the wake-up costs more than the reads: at 1 kHz
// sampling takes a few percent of one core for all NICs together
// (docs/design.md, "Network links", BenchmarkRunDefaultHz).
const DefaultHz = 1000

// maxHz bounds --nic-hz. Go's timers wake about once a millisecond on the
// development VM, so rates past 1 kHz gain little there.
const maxHz = 10000

// Config says how fast and from where the sampler reads.
type Config struct {
	Root string  // the sysfs tree; "": DefaultRoot
	Hz   float64 // rounds per second; 0: DefaultHz
}

// CheckHz checks --nic-hz.
func CheckHz(hz float64) error {
	// Below 1 Hz is refused as the message says: a tiny rate makes a
	// period past time.Duration's range (NewTicker panics on it).
	if !(hz == 0 || hz >= 1 && hz <= maxHz) {
		return fmt.Errorf("--nic-hz %g: must be a rate from 1 to %d (0: the default, %d)", hz, maxHz, DefaultHz)
	}
	return nil
}

// Sink receives what the sampler records; *trace.Writer is one.
type Sink interface {
	WriteJSON(t trace.RecordType, v any) error
	WriteNICSamples(samples ...trace.NICSample) error
}

// Counter is a NIC's latest read (Sampler.Latest).
type Counter struct {
	Name    string
	Kind    string
	OK      bool  // false: the last read failed
	MonoNs  int64 // when it was read
	TxBytes uint64
	RxBytes uint64
	// MovedTx and MovedRx are the bytes moved since the sampler's first
	// read: the steps between successive reads summed, a counter that
	// went backwards or wrapped adding nothing for its step, as the
	// analysis counts it.
	MovedTx, MovedRx uint64
	Reads, Failed    uint64 // reads that succeeded and that failed
}

// Sampler reads the byte counters of a fixed set of NICs in rounds.
type Sampler struct {
	devs   []Device
	ports  []port
	period time.Duration
	root   string
	mu     sync.Mutex // guards latest
	latest []Counter
	rounds atomic.Uint64
	start  atomic.Int64
	closed bool
	header bool // the NIC records are written
}

// port is one device's open counters and last values.
type port struct {
	tx, rx         *counter
	lastTx, lastRx uint64
	have           bool
	unit           uint64
	sticky         uint64 // a 32-bit IB counter's maximum: reaching it, it stops
}

// Open opens the counters of devs (from Select).
func Open(devs []Device, cfg Config) (*Sampler, error) {
	if err := CheckHz(cfg.Hz); err != nil {
		return nil, err
	}
	hz := cfg.Hz
	if hz == 0 {
		hz = DefaultHz
	}
	s := &Sampler{devs: devs, period: time.Duration(float64(time.Second) / hz), root: cfg.Root}
	if s.root == "" {
		s.root = DefaultRoot
	}
	for _, d := range devs {
		p, err := openPort(s.root, d)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("NIC %s: %w", d.Name, err)
		}
		s.ports = append(s.ports, p)
		s.latest = append(s.latest, Counter{Name: d.Name, Kind: d.Kind})
	}
	return s, nil
}

func openPort(root string, d Device) (port, error) {
	tx, err := openCounter(root, d.TxCounter)
	if err != nil {
		return port{}, err
	}
	rx, err := openCounter(root, d.RxCounter)
	if err != nil {
		tx.close()
		return port{}, err
	}
	p := port{tx: tx, rx: rx, unit: uint64(max(d.UnitBytes, 1))}
	if d.Kind == trace.NICKindIB && d.UnitBytes == 4 {
		p.sticky = math.MaxUint32 // only a 32-bit counter can hold it
	}
	return p, nil
}

// Devices are the sampled NICs, in NIC index order.
func (s *Sampler) Devices() []Device { return s.devs }

// Close closes the counter files.
func (s *Sampler) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, p := range s.ports {
		errs = append(errs, p.tx.close(), p.rx.close())
	}
	return errors.Join(errs...)
}

// Latest is each NIC's last read, in NIC index order: cumulative bytes as
// the counters say (for live views such as a metrics endpoint).
func (s *Sampler) Latest() []Counter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Counter(nil), s.latest...)
}

// Rate is the rounds per second since Run started.
func (s *Sampler) Rate() float64 {
	start := s.start.Load()
	if start == 0 {
		return 0
	}
	dt := float64(clock.Mono()-start) / 1e9
	if dt <= 0 {
		return 0
	}
	return float64(s.rounds.Load()) / dt
}

// WriteHeader writes a NIC record per device. The recorder writes them
// before any event: the analysis decides, as each collective comes, whether
// the network link exists to carry it.
func (s *Sampler) WriteHeader(w *trace.Writer) error { return s.writeHeader(w) }

func (s *Sampler) writeHeader(sink Sink) error {
	if s.header {
		return nil
	}
	s.header = true
	for _, d := range s.devs {
		if err := sink.WriteJSON(trace.RecNIC, d.NIC); err != nil {
			return fmt.Errorf("writing NIC record: %w", err)
		}
	}
	return nil
}

// Run writes the NIC records (unless WriteHeader did), then a round of
// samples every period until ctx is done. Failed reads are gaps; only a
// failed write stops it early.
func (s *Sampler) Run(ctx context.Context, w *trace.Writer) error { return s.RunTo(ctx, w) }

// RunTo is Run with any Sink.
func (s *Sampler) RunTo(ctx context.Context, sink Sink) error {
	if s.closed {
		return errors.New("sampling NICs: sampler is closed")
	}
	if err := s.writeHeader(sink); err != nil {
		return err
	}
	if len(s.ports) == 0 {
		return nil
	}
	s.start.Store(clock.Mono())
	tick := time.NewTicker(s.period)
	defer tick.Stop()
	buf := make([]trace.NICSample, len(s.ports))
	for round := uint64(0); ; round++ {
		if err := sink.WriteNICSamples(s.Round(round, buf)...); err != nil {
			return fmt.Errorf("writing NIC samples: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Round reads every NIC once into buf (one sample per NIC, in index
// order) and returns it.
func (s *Sampler) Round(round uint64, buf []trace.NICSample) []trace.NICSample {
	buf = buf[:len(s.ports)]
	for i := range s.ports {
		buf[i] = s.ports[i].sample(uint32(i), round)
	}
	s.rounds.Add(1)
	s.mu.Lock()
	for i, smp := range buf {
		s.latest[i].update(smp)
	}
	s.mu.Unlock()
	return buf
}

// update takes a NIC's new read into its live view.
func (c *Counter) update(smp trace.NICSample) {
	c.OK, c.MonoNs = smp.OK(), smp.MonoAfterNs
	if !c.OK {
		c.Failed++
		return
	}
	forward := smp.Flags&trace.SampleWrapped == 0 && smp.TxBytes >= c.TxBytes && smp.RxBytes >= c.RxBytes
	if c.Reads > 0 && forward {
		c.MovedTx += smp.TxBytes - c.TxBytes
		c.MovedRx += smp.RxBytes - c.RxBytes
	}
	c.Reads++
	c.TxBytes, c.RxBytes = smp.TxBytes, smp.RxBytes
}

// sample reads one port's two counters.
func (p *port) sample(nic uint32, round uint64) trace.NICSample {
	smp := trace.NICSample{NIC: nic, Round: round, MonoBeforeNs: clock.Mono()}
	tx, terr := p.tx.read()
	rx, rerr := p.rx.read()
	smp.MonoAfterNs = clock.Mono()
	if terr != nil || rerr != nil {
		return smp
	}
	smp.Flags = trace.SampleOK
	if p.have && (tx < p.lastTx || rx < p.lastRx) || p.sticky != 0 && (tx == p.sticky || rx == p.sticky) {
		smp.Flags |= trace.SampleWrapped
	}
	p.lastTx, p.lastRx, p.have = tx, rx, true
	smp.TxBytes, smp.RxBytes = tx*p.unit, rx*p.unit
	return smp
}
