package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// linkprofRun is a linkprof started in the background.
type linkprofRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

func startLinkprof(t *testing.T, args ...string) *linkprofRun {
	t.Helper()
	lp := &linkprofRun{cmd: exec.Command(linkprofBin, args...), done: make(chan struct{})}
	lp.cmd.Stdout, lp.cmd.Stderr = &lp.stdout, &lp.stderr
	lp.cmd.Env = withoutSudo(os.Environ())
	if err := lp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { lp.cmd.Wait(); close(lp.done) }()
	t.Cleanup(func() {
		if lp.running() {
			lp.cmd.Process.Kill()
			<-lp.done
		}
	})
	return lp
}

func (lp *linkprofRun) running() bool {
	select {
	case <-lp.done:
		return false
	default:
		return true
	}
}

func (lp *linkprofRun) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-lp.done:
	case <-time.After(time.Minute):
		t.Fatalf("linkprof still running after a minute: %s", lp.stderr.String())
	}
	return result{lp.cmd.ProcessState.ExitCode(), lp.stdout.String(), lp.stderr.String()}
}

// gatedDriver is a fake NCCL driver that waits for a gate before its
// calls.
type gatedDriver struct {
	cmd         *exec.Cmd
	gate, truth string
	stdout      bytes.Buffer
}

func newGatedDriver(t *testing.T, tmp string, args ...string) *gatedDriver {
	t.Helper()
	base := filepath.Join(tmp, args[0])
	d := &gatedDriver{gate: base + ".gate", truth: base + ".truth"}
	d.cmd = exec.Command(fake.Driver, args...)
	d.cmd.Env = append(os.Environ(), "DRIVER_TRUTH="+d.truth, "DRIVER_WAIT="+d.gate)
	d.cmd.Stdout = &d.stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
	})
	return d
}

func (d *gatedDriver) start(t *testing.T) { os.WriteFile(d.gate, nil, 0o644) }

// wait waits for the driver to exit and returns what it printed.
func (d *gatedDriver) wait(t *testing.T) string {
	t.Helper()
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("driver: %v", err)
	}
	return strings.TrimSpace(d.stdout.String())
}

// truthOps counts a driver's collective calls by op from its truth file.
func truthOps(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, k := range trace.Kinds() {
			if k.IsCollective() && k.String() == f[1] {
				ops[k.Op()]++
			}
		}
	}
	return ops
}

func sumOps(ops map[string]uint64) float64 {
	var n uint64
	for _, c := range ops {
		n += c
	}
	return float64(n)
}

func opCalls(rep *report.Report) map[string]uint64 {
	out := map[string]uint64{}
	for _, op := range rep.Ops {
		if op.Calls > 0 {
			out[op.Op] = op.Calls
		}
	}
	return out
}

// rotatedFolders lists the timestamped folders under dir, oldest first.
func rotatedFolders(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && trace.IsRotatedName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitFile(t *testing.T, path string, lp *linkprofRun) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if !lp.running() {
			t.Fatalf("linkprof exited before it was ready: %s", lp.stderr.String())
		}
	}
	t.Fatalf("%s never appeared", path)
}

// scrapeUntil scrapes until done says the figures are in (or 30 s pass),
// parsing each exposition with Prometheus's text parser. A refused
// connection is a server not up yet.
func scrapeUntil(t *testing.T, url string, done func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	var fams map[string]*dto.MetricFamily
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue
		}
		if err != nil {
			t.Fatalf("scraping: %v", err)
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		fams, err = p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("parsing the exposition: %v", err)
		}
		if done(fams) {
			return fams
		}
	}
	return fams
}

// sumSeries adds a family's series that carry the label (name=value; ""
// for all).
func sumSeries(fams map[string]*dto.MetricFamily, name, label string) float64 {
	var sum float64
	for _, m := range fams[name].GetMetric() {
		if label != "" && !hasLabel(m, label) {
			continue
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

func hasLabel(m *dto.Metric, label string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName()+"="+l.GetValue() == label {
			return true
		}
	}
	return false
}
