package profiler

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkprof/linkprof/trace"
)

// headerOnlyNICs is a NIC sampler that writes one NIC record and samples
// nothing: what matters here is where its record goes.
type headerOnlyNICs struct{ nic trace.NIC }

func (s headerOnlyNICs) WriteHeader(w *trace.Writer) error { return w.WriteJSON(trace.RecNIC, s.nic) }
func (s headerOnlyNICs) Run(ctx context.Context, w *trace.Writer) error {
	<-ctx.Done()
	return nil
}

// Every folder of a continuous recording with NICs begins with the NIC
// records: without them the analysis of a later folder has no network
// link and drops every NIC sample in it.
func TestRotationReplaysNICRecords(t *testing.T) {
	requirePrivileges(t)
	cfg := testConfig(t)
	cfg.Command = []string{progs.Driver, "rate", "200", "2"}
	cfg.Rotate = 500 * time.Millisecond
	nic := trace.NIC{Index: 0, Name: "mlx5_0:1", Kind: trace.NICKindIB, TxCounter: "tx", RxCounter: "rx",
		UnitBytes: 4, CounterBits: 64, SelectedBy: "--nics"}
	cfg.NICs = headerOnlyNICs{nic}
	var closed []string
	cfg.OnRotate = func(dir string) { closed = append(closed, dir) }
	sum, err := recordFor(cfg, 30*time.Second)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	dirs := append(closed, sum.Dir)
	if len(dirs) < 2 {
		t.Fatalf("%d folders in a 2 s run rotated every 500 ms, want at least 2", len(dirs))
	}
	for _, dir := range dirs {
		tr, err := trace.Load(dir)
		if err != nil {
			t.Fatalf("loading %s: %v", dir, err)
		}
		if len(tr.NICs) != 1 || tr.NICs[0].Name != nic.Name {
			t.Errorf("%s: NIC records %+v, want the one NIC %s", filepath.Base(dir), tr.NICs, nic.Name)
		}
	}
}
