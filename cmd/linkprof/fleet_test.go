package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/linkprof/linkprof/report"
)

// The fleet flags' mistakes: exit 2 and one line saying what is wrong,
// before anything starts (no root needed).
func TestFleetFlagErrorsExit2(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"record", "-p", "1", "--rotate", "100ms"}, "--rotate 100ms is too short: at least 1s"},
		{[]string{"record", "-p", "1", "--rotate", "-1m"}, "--rotate must be positive"},
		{[]string{"record", "-p", "1", "--keep", "3"}, "--keep needs --rotate"},
		{[]string{"record", "-p", "1", "--rotate", "1m", "--keep", "1"}, "--keep must be at least 2"},
		{[]string{"record", "-p", "1", "--watch"}, "--watch needs --pid-of"},
		{[]string{"record", "--pid-of", "x", "--watch", "--", "true"}, "--watch records processes as they start"},
		{[]string{"record", "-p", "1", "--metrics", "9400"}, `--metrics "9400": want HOST:PORT or :PORT`},
		{[]string{"record", "-p", "1", "--metrics", ":99999"}, `--metrics ":99999": want HOST:PORT or :PORT`},
		{[]string{"record", "-p", "1", "--metrics", ":0"}, "port 0 is chosen at random"},
		{[]string{"demo", "--watch"}, "demo: --watch records processes as they start"},
		{[]string{"demo", "--rotate", "10ms"}, "demo: --rotate 10ms is too short"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			linkprof(t, nil, c.args...).wantError(t, exitUsage, c.want)
		})
	}
}

// Continuous mode bounds the folders: never more than --keep under -o at
// any moment, the oldest removed, and every closed folder analysed.
func TestRotateKeepsAnalysedFolders(t *testing.T) {
	requirePrivileges(t)
	dir := filepath.Join(t.TempDir(), "fleet")
	lp := startLinkprof(t, "record", "--rotate", "1s", "--keep", "3", "-o", dir, "--", fake.Driver, "rate", "1000", "5")
	seen, most := map[string]bool{}, 0
	for lp.running() {
		names := rotatedFolders(t, dir)
		most = max(most, len(names))
		for _, n := range names {
			seen[n] = true
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := lp.wait(t); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	names := rotatedFolders(t, dir)
	if most > 3 || len(names) != 3 {
		t.Errorf("up to %d folders while recording, %d at the end: want at most 3, and 3", most, len(names))
	}
	if len(seen) < 5 {
		t.Errorf("%d folders made in 5 s rotated every second, want at least 5", len(seen))
	}
	for i, n := range names {
		rep, err := report.Load(filepath.Join(dir, n, "report.json"))
		if err != nil {
			t.Errorf("folder %s (%d of %d) has no report: %v", n, i+1, len(names), err)
			continue
		}
		if calls := opCalls(rep)["AllReduce"]; calls == 0 {
			t.Errorf("folder %s: no AllReduce in its report", n)
		}
	}
}

// A recorder with --metrics watching two fake NCCL processes across folder
// rotations (and past their exit, --watch): /metrics counts every call by
// op exactly as the processes made them (live, before any analysis), the
// reports of all folders sum to the same calls (none lost across a
// boundary), and the figures the analysis adds to /metrics are the sums of
// the reports analysed so far.
func TestMetricsCountCallsAcrossRotations(t *testing.T) {
	requirePrivileges(t)
	marker := "metrics-marker-" + t.Name()
	tmp := t.TempDir()
	all := newGatedDriver(t, tmp, "all", marker)
	rate := newGatedDriver(t, tmp, "rate", "2000", "3", marker)
	dir, ready, addr := filepath.Join(tmp, "rec"), filepath.Join(tmp, "ready"), freeAddr(t)
	lp := startLinkprof(t, "record", "--pid-of", marker, "--watch", "--rotate", "1s", "--keep", "100", "--metrics", addr,
		"--ready-file", ready, "-o", dir)
	waitFile(t, ready, lp)
	all.start(t)
	rate.start(t)
	all.wait(t)
	want := truthOps(t, all.truth)
	var n uint64
	if _, err := fmt.Sscanf(rate.wait(t), "calls %d", &n); err != nil {
		t.Fatalf("reading the rate driver's count: %v", err)
	}
	want["AllReduce"] += n

	url := "http://" + addr + "/metrics"
	fams := scrapeUntil(t, url, func(f map[string]*dto.MetricFamily) bool {
		return sumSeries(f, "linkprof_collective_calls_total", "") >= sumOps(want) &&
			sumSeries(f, "linkprof_analyzed_folders_total", "") >= 2
	})
	for op, calls := range want {
		if got := sumSeries(fams, "linkprof_collective_calls_total", "op="+op); got != float64(calls) {
			t.Errorf("linkprof_collective_calls_total{op=%q} = %v, the processes made %d", op, got, calls)
		}
	}
	if got := sumSeries(fams, "linkprof_lost_events_total", ""); got != 0 {
		t.Errorf("linkprof_lost_events_total = %v", got)
	}
	checkAttributedMatchReports(t, fams, dir)

	lp.cmd.Process.Signal(os.Interrupt)
	if r := lp.wait(t); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := map[string]uint64{}
	names := rotatedFolders(t, dir)
	for _, name := range names {
		rep, err := report.Load(filepath.Join(dir, name, "report.json"))
		if err != nil {
			t.Fatalf("folder %s: %v", name, err)
		}
		for op, c := range opCalls(rep) {
			got[op] += c
		}
	}
	for op, calls := range want {
		if got[op] != calls {
			t.Errorf("%s: %d calls over the reports of %d folders, the processes made %d", op, got[op], len(names), calls)
		}
	}
}

// The demo (simulated NVLink) under --rotate and --metrics: attributed
// bytes are on /metrics, and they, the unattributed bytes and the
// executed calls are exactly the sums of the reports analysed so far; the
// link bytes counted live hold at least what those reports counted.
func TestDemoMetricsMatchReports(t *testing.T) {
	requirePrivileges(t)
	dir, addr := filepath.Join(t.TempDir(), "demo"), freeAddr(t)
	lp := startLinkprof(t, "demo", "--steps", "1500", "--rotate", "1s", "--keep", "100", "--metrics", addr, "-o", dir)
	fams := scrapeUntil(t, "http://"+addr+"/metrics", func(f map[string]*dto.MetricFamily) bool {
		return sumSeries(f, "linkprof_analyzed_folders_total", "") >= 2
	})
	sums := checkAttributedMatchReports(t, fams, dir)
	if sums.attributed["AllReduce"] == 0 {
		t.Errorf("no attributed AllReduce bytes in the demo's reports: %+v", sums)
	}
	for dev, tx := range sums.gpuTx {
		if live := sumSeries(fams, "linkprof_link_bytes_total", "device="+dev) - sumSeries(fams, "linkprof_link_bytes_total", "direction=rx,device="+dev); live < float64(tx) {
			t.Errorf("live link bytes of %s: %v tx, less than the reports' %d", dev, live, tx)
		}
	}
	if r := lp.wait(t); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// reportSums are the figures of the reports of the folders analysed.
type reportSums struct {
	calls, attributed map[string]uint64 // by op; attributed: tx + rx, every link
	unattributed      map[string]uint64 // by device: tx + rx
	gpuTx             map[string]uint64 // by device
}

// checkAttributedMatchReports: the figures the analysis adds to /metrics
// are the sums of the reports of the folders analysed so far, which are the
// oldest (one analysis at a time, in order).
func checkAttributedMatchReports(t *testing.T, fams map[string]*dto.MetricFamily, dir string) reportSums {
	t.Helper()
	analysed := int(sumSeries(fams, "linkprof_analyzed_folders_total", ""))
	names := rotatedFolders(t, dir)
	if analysed < 1 || analysed > len(names) {
		t.Fatalf("%d folders analysed of %d", analysed, len(names))
	}
	sums := reportSums{calls: map[string]uint64{}, attributed: map[string]uint64{}, unattributed: map[string]uint64{}, gpuTx: map[string]uint64{}}
	for _, name := range names[:analysed] {
		rep, err := report.Load(filepath.Join(dir, name, "report.json"))
		if err != nil {
			t.Fatalf("analysed folder %s: %v", name, err)
		}
		for _, op := range rep.Ops {
			sums.calls[op.Op] += op.Calls
			sums.attributed[op.Op] += op.TxBytes + op.RxBytes + op.NetTxBytes + op.NetRxBytes
		}
		for _, g := range rep.GPUs {
			dev := fmt.Sprintf("gpu%d", g.Index)
			sums.unattributed[dev] += g.Unattributed.TxBytes + g.Unattributed.RxBytes
			sums.gpuTx[dev] += g.TxBytes
		}
	}
	compare := func(metric, label string, want map[string]uint64) {
		for key, n := range want {
			if got := sumSeries(fams, metric, label+"="+key); got != float64(n) {
				t.Errorf("%s{%s=%q} = %v, the %d reports say %d", metric, label, key, got, analysed, n)
			}
		}
	}
	compare("linkprof_executed_collectives_total", "op", sums.calls)
	compare("linkprof_attributed_link_bytes_total", "op", sums.attributed)
	compare("linkprof_unattributed_link_bytes_total", "device", sums.unattributed)
	return sums
}
