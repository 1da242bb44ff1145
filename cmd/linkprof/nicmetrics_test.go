package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/linkprof/linkprof/trace"
)

// record --nics with --metrics serves the NIC's bytes (link="net",
// device its name) and reads: what the counters moved from the sampler's
// first read, exactly, and the same bytes as the trace's NIC samples.
func TestMetricsServeNICBytes(t *testing.T) {
	requirePrivileges(t)
	tmp := t.TempDir()
	root := fakeNetdev(t, filepath.Join(tmp, "sys"), "fake0", 1000, 2000)
	target := startProcess(t, nil, "sleep", "60")
	dir, ready, addr := filepath.Join(tmp, "rec"), filepath.Join(tmp, "ready"), freeAddr(t)
	lp := startLinkprof(t, "record", "-p", strconv.Itoa(target.Process.Pid), "--nics", "fake0", "--sysfs-root", root,
		"--metrics", addr, "--ready-file", ready, "--no-analyze", "-o", dir)
	waitFile(t, ready, lp)
	url := "http://" + addr + "/metrics"
	scrapeUntil(t, url, func(f map[string]*dto.MetricFamily) bool {
		return sumSeries(f, "linkprof_nic_reads_total", "device=fake0") > 0
	})
	stats := filepath.Join(root, "class/net/fake0/statistics")
	writeCounter(t, filepath.Join(stats, "tx_bytes"), 5000)
	writeCounter(t, filepath.Join(stats, "rx_bytes"), 2500)
	series := func(f map[string]*dto.MetricFamily, dir string) float64 {
		var sum float64
		for _, m := range f["linkprof_link_bytes_total"].GetMetric() {
			if hasLabel(m, "link=net") && hasLabel(m, "device=fake0") && hasLabel(m, "direction="+dir) {
				sum += m.GetCounter().GetValue()
			}
		}
		return sum
	}
	fams := scrapeUntil(t, url, func(f map[string]*dto.MetricFamily) bool {
		return series(f, "tx") == 4000 && series(f, "rx") == 500
	})
	if tx, rx := series(fams, "tx"), series(fams, "rx"); tx != 4000 || rx != 500 {
		t.Errorf("link_bytes_total{link=net,device=fake0}: tx %v rx %v, the counters moved 4000 and 500", tx, rx)
	}
	reads := sumSeries(fams, "linkprof_nic_reads_total", "device=fake0")
	if errs := sumSeries(fams, "linkprof_nic_read_errors_total", "device=fake0"); errs != 0 {
		t.Errorf("linkprof_nic_read_errors_total{device=fake0} = %v", errs)
	}
	lp.cmd.Process.Signal(os.Interrupt)
	if r := lp.wait(t); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, last, ok := okSamplesOf(tr.NICSamples, 0)
	if len(tr.NICs) != 1 || tr.NICs[0].Name != "fake0" || last.TxBytes-first.TxBytes != 4000 || last.RxBytes-first.RxBytes != 500 ||
		float64(ok) < reads {
		t.Errorf("trace: NICs %+v, first %+v, last %+v, %d good reads (the metrics counted %v by a scrape before the end)",
			tr.NICs, first, last, ok, reads)
	}
}

// okSamplesOf is a NIC's first and last good samples and how many there are.
func okSamplesOf(samples []trace.NICSample, nic uint32) (first, last trace.NICSample, n int) {
	for _, s := range samples {
		if s.NIC != nic || !s.OK() {
			continue
		}
		if n == 0 {
			first = s
		}
		last = s
		n++
	}
	return first, last, n
}

// fakeNetdev builds a sysfs tree under root with one virtual netdev that
// is up, and returns root.
func fakeNetdev(t *testing.T, root, name string, tx, rx uint64) string {
	t.Helper()
	return fakeNetdevAt(t, root, "devices/virtual", name, tx, rx)
}

// fakeNetdevAt adds an up netdev under the device folder parent (e.g. a
// PCI function's) to the sysfs tree under root.
func fakeNetdevAt(t *testing.T, root, parent, name string, tx, rx uint64) string {
	t.Helper()
	dev := filepath.Join(root, parent, "net", name)
	if err := os.MkdirAll(filepath.Join(dev, "statistics"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dev, "flags"), []byte("0x1003\n"), 0o644)
	os.WriteFile(filepath.Join(dev, "speed"), []byte("10000\n"), 0o644)
	writeCounter(t, filepath.Join(dev, "statistics/tx_bytes"), tx)
	writeCounter(t, filepath.Join(dev, "statistics/rx_bytes"), rx)
	if err := os.MkdirAll(filepath.Join(root, "class/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", parent, "net", name), filepath.Join(root, "class/net", name)); err != nil {
		t.Fatal(err)
	}
	return root
}

// writeCounter rewrites a counter file in place (same inode, as sysfs
// keeps it), for a sampler that holds it open.
func writeCounter(t *testing.T, path string, v uint64) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.FormatUint(v, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
