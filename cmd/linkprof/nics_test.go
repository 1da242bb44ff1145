package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/profiler/fakenccl"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// Wrong --nics and --nic-hz values are usage errors, found before
// anything starts (no root needed); a device named that is not there is
// one too, naming the devices there are.
func TestNICFlagsUsageErrors(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"record", "-p", "1", "--nics", "eth0,,lo"}, `--nics "eth0,,lo": give auto, none, or device names`},
		{[]string{"record", "-p", "1", "--nics", "auto,lo"}, `--nics "auto,lo"`},
		{[]string{"record", "-p", "1", "--nic-hz", "-5"}, "--nic-hz -5: must be a rate from 1 to 10000"},
		{[]string{"record", "-p", "1", "--nic-hz", "NaN"}, "--nic-hz NaN"},
		{[]string{"record", "-p", "1", "--nic-hz", "1e-10"}, "--nic-hz 1e-10: must be a rate from 1 to 10000"},
		{[]string{"record", "-p", "1", "--nics", "eth9", "--sysfs-root", empty}, `--nics: no network device "eth9" (there are: none)`},
	} {
		r := linkprof(t, nil, c.args...)
		r.wantError(t, exitUsage, c.want)
	}
}

// Two ranks talking over TCP on lo as NCCL's socket transport does, with
// NCCL_P2P_DISABLE, NCCL_SHM_DISABLE and NCCL_SOCKET_IFNAME=lo in their
// environment: record --nics auto samples lo, and each op's network bytes
// in report.json match what the ranks sent in its phase (lo counts TCP and
// IP headers too, and whatever else uses lo meanwhile).
func TestRecordRanksOverLoopback(t *testing.T) {
	requirePrivileges(t)
	bin, err := fakenccl.BuildNetRanks(fake)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rec")
	truth := filepath.Join(t.TempDir(), "truth")
	env := []string{"NCCL_P2P_DISABLE=1", "NCCL_SHM_DISABLE=1", "NCCL_SOCKET_IFNAME=lo", "DRIVER_TRUTH=" + truth}
	r := linkprof(t, env, "record", "-o", dir, "--", bin, "2", "allreduce:16777216:20", "allgather:8388608:20")
	if r.code != 0 {
		t.Fatalf("record: exit %d\n%s", r.code, r.stderr)
	}
	sent := readNetTruth(t, truth)
	rep, err := report.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Net == nil || len(rep.Net.NICs) != 1 || rep.Net.NICs[0].Name != "lo" ||
		rep.Net.NICs[0].SelectedBy != "auto: NCCL_SOCKET_IFNAME=lo" {
		t.Fatalf("net %+v: want lo, picked for NCCL_SOCKET_IFNAME", rep.Net)
	}
	for _, o := range rep.Ops {
		want := sent[o.Op]
		if want == 0 {
			continue
		}
		ratio := float64(o.NetTxBytes) / float64(want)
		t.Logf("%s: %d calls, sent %d, attributed on lo %d (%.4fx)", o.Op, o.Calls, want, o.NetTxBytes, ratio)
		if o.Calls != 40 || ratio < 0.99 || ratio > 1.05 || o.TxBytes != 0 {
			t.Errorf("%s: %d calls, %d network bytes attributed for %d sent, %d on NVLink", o.Op, o.Calls, o.NetTxBytes, want, o.TxBytes)
		}
	}
	tr, err := trace.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	envSeen := false
	for _, p := range tr.Processes {
		envSeen = envSeen || p.NCCLEnv["NCCL_P2P_DISABLE"] == "1" && p.NCCLEnv["NCCL_SOCKET_IFNAME"] == "lo"
	}
	if !envSeen || len(tr.NICSamples) < 100 {
		t.Errorf("process NCCL env recorded: %v; %d NIC samples", envSeen, len(tr.NICSamples))
	}
}

// readNetTruth sums what the ranks sent per op (report.json's names).
func readNetTruth(t *testing.T, path string) map[string]uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]string{"allreduce": "AllReduce", "allgather": "AllGather"}
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var op string
		var bytes, calls, sent, start, end uint64
		if _, err := fmtSscan(sc.Text(), &op, &bytes, &calls, &sent, &start, &end); err != nil {
			t.Fatalf("truth line %q: %v", sc.Text(), err)
		}
		out[names[op]] += sent
	}
	if len(out) != 2 {
		t.Fatalf("truth %v", out)
	}
	return out
}

func fmtSscan(line string, op *string, v ...*uint64) (int, error) {
	args := []any{op}
	for _, p := range v {
		args = append(args, p)
	}
	return fmt.Sscanf(strings.TrimPrefix(line, "phase "), "%s %d %d %d %d %d", args...)
}

// dump --nic-samples prints every NIC read as a JSON line, a failed read
// without counters.
func TestDumpNICSamples(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteNICSamples(
		trace.NICSample{NIC: 0, Flags: trace.SampleOK, Round: 7, MonoBeforeNs: 10, MonoAfterNs: 20, TxBytes: 1 << 40, RxBytes: 3},
		trace.NICSample{NIC: 1, Round: 7, MonoBeforeNs: 21, MonoAfterNs: 30})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := linkprof(t, nil, "dump", "--nic-samples", dir)
	want := `{"nic":0,"round":7,"ok":true,"mono_before_ns":10,"mono_after_ns":20,"tx_bytes":1099511627776,"rx_bytes":3}
{"nic":1,"round":7,"ok":false,"mono_before_ns":21,"mono_after_ns":30}
`
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
	linkprof(t, nil, "dump", "--samples", "--nic-samples", dir).wantError(t, exitUsage, "give one")
}
