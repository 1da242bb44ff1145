package metrics

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/nic"
	"github.com/linkprof/linkprof/profiler"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// What the recorder hands the metrics comes out of /metrics: calls by op
// and path, link bytes from counter deltas (resets add nothing), NVML
// reads, stalls, gauges, and a closed folder's report.
func TestServedMetrics(t *testing.T) {
	m := New("test")
	for _, k := range []trace.Kind{trace.AllReduce, trace.AllReduce, trace.AllReduce, trace.Bcast, trace.Bcast,
		trace.Broadcast, trace.CustomAllReduce, trace.GraphLaunch} {
		m.Event(&trace.Event{Kind: k})
	}
	ok := trace.SampleOK
	for _, s := range []trace.Sample{
		{GPU: 1, Flags: ok, DataTxKiB: 10, DataRxKiB: 100},
		{GPU: 1, Flags: ok, DataTxKiB: 15, DataRxKiB: 103}, // +5 KiB, +3 KiB
		{GPU: 1}, // failed read
		{GPU: 1, Flags: ok | trace.SampleWrapped, DataTxKiB: 1},     // wrapped: nothing
		{GPU: 1, Flags: ok, DataTxKiB: 3, DataRxKiB: 2},             // +2 KiB, +2 KiB
		{GPU: 1, Flags: ok, DataTxKiB: 2, DataRxKiB: 9},             // went back: nothing
		{GPU: 0, Flags: ok, DataTxKiB: 1 << 40, DataRxKiB: 1 << 40}, // first read: nothing
	} {
		m.Sample(s)
	}
	nics := &fakeNICs{}
	m.WatchNICs(nics)
	m.Record(trace.RecStall, trace.Stall{ID: 1, Kind: "missing-ranks"})
	m.Record(trace.RecStall, trace.Stall{ID: 2, Kind: "no-progress"})
	m.Record(trace.RecStall, trace.Stall{ID: 1, Kind: "missing-ranks", EndNs: 5})
	m.Progress(profiler.Progress{Targets: 3, NCCLProcs: 2, Lost: 7})
	rep := &report.Report{Ops: []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 40, Link: report.Link{TxBytes: 1000, RxBytes: 900}}}},
		GPUs: []report.GPU{{Index: 1, Unattributed: report.Link{TxBytes: 11, RxBytes: 12}}}}
	m.Analyzed(rep, time.Unix(1700000000, 0), 250*time.Millisecond)
	withNet := *rep
	withNet.Ops = []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 40, NetBytes: report.NetBytes{NetTxBytes: 70, NetRxBytes: 60}}}}
	withNet.Net = &report.Net{Unattributed: report.NetBytes{NetTxBytes: 5, NetRxBytes: 4}}
	m.Analyzed(&withNet, time.Unix(1700000600, 0), time.Second)

	srv, err := Serve("127.0.0.1:0", m)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := "http://" + srv.Addr().String() + Path
	nics.set(nic.Counter{Name: "mlx5_0", MovedTx: 300, MovedRx: 200, Reads: 9, Failed: 1}, nic.Counter{Name: "lo", Reads: 1})
	scrape(t, url)
	nics.set(nic.Counter{Name: "mlx5_0", MovedTx: 700, MovedRx: 200, Reads: 20, Failed: 1}, nic.Counter{Name: "lo", MovedRx: 3, Reads: 2})
	fams := scrape(t, url)
	for _, c := range []struct {
		name   string
		labels string
		want   float64
	}{
		{"linkprof_events_total", "", 8},
		{"linkprof_collective_calls_total", "op=AllReduce,path=nccl", 3},
		{"linkprof_collective_calls_total", "op=Broadcast,path=nccl", 3},
		{"linkprof_collective_calls_total", "op=Gather,path=nccl", 0},
		{"linkprof_collective_calls_total", "op=CustomAllReduce,path=custom-all-reduce", 1},
		{"linkprof_link_bytes_total", "device=gpu1,direction=tx,link=nvlink", 7 * 1024},
		{"linkprof_link_bytes_total", "device=gpu1,direction=rx,link=nvlink", 5 * 1024},
		{"linkprof_link_bytes_total", "device=gpu0,direction=tx,link=nvlink", -1},
		{"linkprof_link_bytes_total", "device=mlx5_0,direction=tx,link=net", 700},
		{"linkprof_link_bytes_total", "device=mlx5_0,direction=rx,link=net", 200},
		{"linkprof_link_bytes_total", "device=lo,direction=rx,link=net", 3},
		{"linkprof_nic_reads_total", "device=mlx5_0", 20},
		{"linkprof_nic_read_errors_total", "device=mlx5_0", 1},
		{"linkprof_nic_reads_total", "device=lo", 2},
		{"linkprof_nvml_reads_total", "device=gpu1", 5},
		{"linkprof_nvml_read_errors_total", "device=gpu1", 1},
		{"linkprof_stalls_total", "kind=missing-ranks", 1},
		{"linkprof_stalls_total", "kind=no-progress", 1},
		{"linkprof_stalls_open", "", 1},
		{"linkprof_lost_events_total", "", 7},
		{"linkprof_target_processes", "", 3},
		{"linkprof_nccl_processes", "", 2},
		{"linkprof_attributed_link_bytes_total", "direction=tx,link=nvlink,op=AllReduce", 1000},
		{"linkprof_attributed_link_bytes_total", "direction=rx,link=nvlink,op=AllReduce", 900},
		{"linkprof_unattributed_link_bytes_total", "device=gpu1,direction=rx,link=nvlink", 24},
		{"linkprof_attributed_link_bytes_total", "direction=tx,link=net,op=AllReduce", 70},
		{"linkprof_attributed_link_bytes_total", "direction=rx,link=net,op=AllReduce", 60},
		{"linkprof_unattributed_link_bytes_total", "device=,direction=tx,link=net", 5},
		{"linkprof_executed_collectives_total", "op=AllReduce", 80},
		{"linkprof_analyzed_folders_total", "", 2},
		{"linkprof_analyzed_until_timestamp_seconds", "", 1700000600},
		{"linkprof_last_analysis_duration_seconds", "", 1},
		{"linkprof_build_info", "version=test", 1},
	} {
		got, found := value(fams, c.name, c.labels)
		switch {
		case c.want < 0 && found:
			t.Errorf("%s{%s} = %v, want no series", c.name, c.labels, got)
		case c.want >= 0 && (!found || got != c.want):
			t.Errorf("%s{%s} = %v (found %v), want %v", c.name, c.labels, got, found, c.want)
		}
	}
}

// Names, units and help follow Prometheus's conventions (promlint).
func TestMetricNamesFollowConventions(t *testing.T) {
	m := New("test")
	m.Event(&trace.Event{Kind: trace.AllReduce})
	m.Sample(trace.Sample{GPU: 0, Flags: trace.SampleOK})
	m.Record(trace.RecStall, trace.Stall{ID: 1, Kind: "no-progress"})
	m.Analyzed(&report.Report{Ops: []report.Op{{Op: "AllReduce"}}, GPUs: []report.GPU{{Index: 0}}, Net: &report.Net{}}, time.Now(), time.Second)
	m.WatchNICs(&fakeNICs{latest: []nic.Counter{{Name: "eth0", Reads: 1}}})
	fams, err := m.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var ours []*dto.MetricFamily
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), namespace+"_") {
			ours = append(ours, f)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(ours).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if len(ours) < 15 {
		t.Errorf("%d linkprof metric families, want every one registered", len(ours))
	}
}

// A port that is taken is an error at once.
func TestServeTakenPort(t *testing.T) {
	a, err := Serve("127.0.0.1:0", New("test"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := Serve(a.Addr().String(), New("test")); err == nil || !strings.Contains(err.Error(), "--metrics") {
		t.Errorf("serving on a taken port: %v", err)
	}
}

// fakeNICs stands in for a NIC sampler.
type fakeNICs struct {
	mu     sync.Mutex
	latest []nic.Counter
}

func (f *fakeNICs) set(c ...nic.Counter) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latest = c
}

func (f *fakeNICs) Latest() []nic.Counter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]nic.Counter(nil), f.latest...)
}

// The network link's label is report.json's name for it.
func TestLinkNamesAreReports(t *testing.T) {
	if LinkNet != correlate.Net.String() || LinkNVLink != correlate.NVLink.String() {
		t.Errorf("link labels %q, %q; report.json says %q, %q", LinkNVLink, LinkNet, correlate.NVLink, correlate.Net)
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return fams
}

// value finds a series by its labels, written name=value,... in name order.
func value(fams map[string]*dto.MetricFamily, name, labels string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		var parts []string
		for _, l := range m.GetLabel() {
			parts = append(parts, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(parts, ",") != labels {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}
