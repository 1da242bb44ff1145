package nvlink_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/linkprof/linkprof/nvlink"
	"github.com/linkprof/linkprof/nvlink/nvmlfake"
	"github.com/linkprof/linkprof/trace"
)

// memSink keeps what the sampler writes.
type memSink struct {
	mu      sync.Mutex
	samples []trace.Sample
	links   []trace.LinkSample
	gpus    []trace.GPU
	clocks  []trace.Clock
	notes   []trace.Note
	gpm     []trace.GPMSample
}

func (m *memSink) WriteSamples(s ...trace.Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, s...)
	return nil
}

func (m *memSink) WriteJSON(t trace.RecordType, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return m.WriteRaw(t, b)
}

func (m *memSink) WriteRaw(t trace.RecordType, b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := trace.Record{Type: t, Payload: b}
	switch t {
	case trace.RecGPU:
		return appendJSON(rec, &m.gpus)
	case trace.RecClock:
		return appendJSON(rec, &m.clocks)
	case trace.RecNote:
		return appendJSON(rec, &m.notes)
	case trace.RecGPUSamples:
		return appendJSON(rec, &m.gpm)
	case trace.RecLinkSamples:
		return rec.LinkSamples(func(l trace.LinkSample) { m.links = append(m.links, l) })
	}
	return nil
}

func appendJSON[T any](rec trace.Record, list *[]T) error {
	var v T
	if err := rec.JSON(&v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

func (m *memSink) gpuSamples(gpu uint32) []trace.Sample {
	var out []trace.Sample
	for _, s := range m.samples {
		if s.GPU == gpu {
			out = append(out, s)
		}
	}
	return out
}

const (
	startMono = int64(1_000_000_000_000) // fake boot-relative time, 1000 s
	wallAhead = int64(1_700_000_000_000_000_000)
)

// kibPerMs is a counter that grows 1 KiB per ms (TX) and 2 KiB per ms (RX),
// raw 10% above, times the GPU number plus one.
func kibPerMs(gpu int, field, scope uint32, mono int64) (uint64, nvml.Return) {
	v := uint64(mono/1e6) * uint64(gpu+1)
	switch field {
	case nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX:
		v *= 2
	case nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_TX:
		v = v * 11 / 10
	case nvml.FI_DEV_NVLINK_THROUGHPUT_RAW_RX:
		v = 2 * v * 11 / 10
	}
	if scope != 0xFFFFFFFF {
		v /= 18
	}
	return v, nvml.SUCCESS
}

// runFor opens a sampler on srv and runs it for d of fake time.
func runFor(t *testing.T, srv *nvmlfake.Server, clk *nvmlfake.Clock, cfg nvlink.Config, d time.Duration) (*nvlink.Sampler, *memSink) {
	t.Helper()
	cfg.Clock = clk
	s, err := nvlink.Open(srv, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk.StopAt(clk.MonoNs()+int64(d), cancel)
	sink := &memSink{}
	if err := s.RunTo(ctx, sink); err != nil {
		t.Fatalf("run: %v", err)
	}
	return s, sink
}

// fakeHost is a serialized fake on a fake clock: 1.1 ms per NVML call.
func fakeHost(o nvmlfake.Options) (*nvmlfake.Server, *nvmlfake.Clock) {
	clk := nvmlfake.NewClock(startMono, wallAhead)
	o.Clock = clk
	if o.CallCost == 0 {
		o.CallCost = 1100 * time.Microsecond
	}
	if o.Counters == nil {
		o.Counters = kibPerMs
	}
	return nvmlfake.New(o), clk
}

// countingSink stops the run after n samples.
type countingSink struct {
	memSink
	n    int
	seen int
	done context.CancelFunc
}

func (c *countingSink) WriteSamples(s ...trace.Sample) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen += len(s); c.seen >= c.n {
		c.done()
	}
	return nil
}
