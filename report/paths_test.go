package report_test

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate/sim"
	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/internal/units"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

// rateBound is how far a path row's achieved link rate may be from the
// simulator's own (its bytes over the time its calls' transfers really
// took, per GPU) when the row's calls keep the link busy for many sample
// periods. The model ends a stretch of calls with the sample interval it
// ended in, so a row that ends a phase is counted busy up to one sample
// period too long (stretches of about 16 ms at 1 kHz here: TestPathTable
// -v logs the errors).
const rateBound = 0.05

// pathsWorkload records sim.PathMix: 4 phases of each path's calls.
func pathsWorkload(t *testing.T, seed uint64) (string, *sim.Truth, int) {
	t.Helper()
	cfg := sim.PathMix(seed)
	cfg.KeepSegments = true
	dir := filepath.Join(t.TempDir(), "rec")
	truth, err := sim.Write(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, truth, cfg.Steps / len(cfg.Cycle)
}

// truthRow is the simulator's account of one path row: bytes, and the
// time its transfers covered on each GPU, summed over the GPUs.
type truthRow struct {
	tx     float64
	busyNs int64
}

func truthRows(truth *sim.Truth) map[string]*truthRow {
	type key struct {
		row string
		gpu int
	}
	spans := map[key][][2]int64{}
	rows := map[string]*truthRow{}
	for _, s := range truth.Segments {
		if s.Op == "" {
			continue
		}
		name := s.Op + " " + units.BucketOf(s.Payload).String()
		k := key{name, s.GPU}
		spans[k] = append(spans[k], [2]int64{s.StartNs, s.EndNs})
		if rows[name] == nil {
			rows[name] = &truthRow{}
		}
		rows[name].tx += s.Tx
	}
	for k, ss := range spans {
		rows[k.row].busyNs += unionNs(ss)
	}
	return rows
}

// unionNs is the time a list of spans covers (sorted in place).
func unionNs(ss [][2]int64) int64 {
	slices.SortFunc(ss, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var total, end int64
	for _, s := range ss {
		if s[1] <= end {
			continue
		}
		total += s[1] - max(s[0], end)
		end = s[1]
	}
	return total
}

// TestPathTable runs sim.PathMix through the whole pipeline, seeds 1-10,
// and checks report.json's paths row by row: calls, payload and shares
// exact, link bytes within 2% of the simulator's, the achieved link rate
// within rateBound of the simulator's own; then report.txt shows the rows
// and the profile's path and size_bucket labels add up to them. -v logs
// each row's rate error over the seeds.
func TestPathTable(t *testing.T) {
	seeds := uint64(10)
	if testing.Short() {
		seeds = 1
	}
	errs := map[string][]float64{}
	var order []string
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			for _, row := range checkPathTable(t, seed) {
				if _, ok := errs[row.name]; !ok {
					order = append(order, row.name)
				}
				errs[row.name] = append(errs[row.name], row.rateErr)
			}
		})
	}
	for _, name := range order {
		e := errs[name]
		t.Logf("%s: achieved link rate %+.2f%% to %+.2f%% of the simulator's over %d seeds", name, 100*slices.Min(e), 100*slices.Max(e), len(e))
	}
}

// rowErr is a path row's rate error against the simulator, for the log.
type rowErr struct {
	name    string
	rateErr float64
}

func checkPathTable(t *testing.T, seed uint64) []rowErr {
	dir, truth, phases := pathsWorkload(t, seed)
	reportschema.WriteAll(t, dir, false)
	r, err := report.Load(filepath.Join(dir, pipeline.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	const ranks = 2
	want := []struct {
		path, op, bucket string
		calls, payload   uint64 // per rank and phase
	}{
		{path: "nccl", op: "AllReduce", bucket: "128KiB-256KiB", calls: 300, payload: 192 << 10},
		{path: "custom-all-reduce", op: "CustomAllReduce", bucket: "256KiB-512KiB", calls: 400, payload: 256 << 10},
		{path: "nccl", op: "AllReduce", bucket: "1MiB-2MiB", calls: 100, payload: 1536 << 10},
		{path: "custom-all-reduce", op: "CustomAllReduce", bucket: "1MiB-2MiB", calls: 200, payload: 1536 << 10},
		{path: "symm-mem", op: "SymmMemTwoShotAllReduce", bucket: "2MiB-4MiB", calls: 100, payload: 3 << 20},
		{path: "nccl", op: "AllReduce", bucket: "32MiB-64MiB", calls: 10, payload: 32 << 20},
	}
	if len(r.Paths) != len(want) {
		t.Fatalf("%d path rows, want %d: %+v", len(r.Paths), len(want), r.Paths)
	}
	opCalls := map[string]uint64{"AllReduce": 410, "CustomAllReduce": 600, "SymmMemTwoShotAllReduce": 100}
	bucketCalls := map[string]uint64{"1MiB-2MiB": 300}
	rates := truthRows(truth)
	var out []rowErr
	for i, w := range want {
		got := r.Paths[i]
		n := uint64(phases * ranks)
		if got.Collective != "AllReduce" || got.Path != w.path || got.Op != w.op || got.NRanks != ranks || got.SizeBucket != w.bucket ||
			got.Calls != n*w.calls || got.PayloadBytes != n*w.calls*w.payload || got.GPUs != ranks {
			t.Errorf("row %d: %+v\nwant %s %s %s, %d calls of %d bytes on 2 GPUs", i, got, w.path, w.op, w.bucket, n*w.calls, w.payload)
		}
		if b := units.BucketOf(w.payload); got.MinBytes != b.Low || got.MaxBytes != b.High {
			t.Errorf("%s %s: bounds [%d, %d), want [%d, %d)", w.op, w.bucket, got.MinBytes, got.MaxBytes, b.Low, b.High)
		}
		ofSize := cmp.Or(bucketCalls[w.bucket], w.calls)
		if got.ShareOfSize != float64(w.calls)/float64(ofSize) || got.ShareOfOp != float64(w.calls)/float64(opCalls[w.op]) {
			t.Errorf("%s %s: shares %.4f of size, %.4f of op; want %d/%d, %d/%d", w.op, w.bucket, got.ShareOfSize, got.ShareOfOp,
				w.calls, ofSize, w.calls, opCalls[w.op])
		}
		if d, ok := checkRate(t, got, rates[w.op+" "+w.bucket]); ok {
			out = append(out, rowErr{w.op + " " + w.bucket, d})
		}
	}
	checkText(t, dir, r.Paths)
	checkProfileLabels(t, dir, r.Paths)
	return out
}

// checkRate compares a row's link bytes and achieved rate with the
// simulator's and returns the rate's error. A path the model and simulator
// move no bytes for (one whose wire model is not in correlate yet) has no
// rate either (ok false).
func checkRate(t *testing.T, got report.PathRow, truth *truthRow) (rateErr float64, ok bool) {
	t.Helper()
	if truth == nil || truth.tx == 0 {
		if got.TxBytes != 0 || got.BusyNs != 0 || got.TxBytesPerS != 0 {
			t.Errorf("%s %s: %d bytes, busy %d ns, rate %.0f; the simulator moved nothing", got.Op, got.SizeBucket, got.TxBytes, got.BusyNs, got.TxBytesPerS)
		}
		return 0, false
	}
	if d := float64(got.TxBytes)/truth.tx - 1; math.Abs(d) > 0.02 {
		t.Errorf("%s %s: tx %d, simulator %.0f (%+.2f%%)", got.Op, got.SizeBucket, got.TxBytes, truth.tx, 100*d)
	}
	want := truth.tx / (float64(truth.busyNs) / 1e9)
	d := got.TxBytesPerS/want - 1
	if math.Abs(d) > rateBound {
		t.Errorf("%s %s: achieved %.2f GB/s, simulator %.2f GB/s (%+.2f%%)", got.Op, got.SizeBucket, got.TxBytesPerS/1e9, want/1e9, 100*d)
	}
	if p := float64(got.PayloadBytes) / (float64(got.BusyNs) / 1e9); math.Abs(got.PayloadBytesPerS/p-1) > 1e-9 {
		t.Errorf("%s %s: payload rate %.0f, payload over busy %.0f", got.Op, got.SizeBucket, got.PayloadBytesPerS, p)
	}
	return d, true
}

// checkText finds each row in report.txt.
func checkText(t *testing.T, dir string, rows []report.PathRow) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, pipeline.TextFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		want := []string{row.Collective, fmt.Sprint(row.NRanks), row.SizeBucket, row.Path, row.Op, fmt.Sprint(row.Calls),
			fmt.Sprintf("%.1f%%", 100*row.ShareOfSize)}
		found := false
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= len(want) && slices.Equal(f[:len(want)], want) {
				found = true
			}
		}
		if !found {
			t.Errorf("report.txt has no line starting %q:\n%s", want, b)
		}
	}
}

// checkProfileLabels reads profile.pb.gz back: every call sample carries
// path and size_bucket labels, and the calls and link bytes under each
// (path, op, size_bucket) are the path row's.
func checkProfileLabels(t *testing.T, dir string, rows []report.PathRow) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, pipeline.ProfileFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	type sum struct{ calls, tx int64 }
	sums := map[string]*sum{}
	for _, s := range p.Sample {
		if s.Label["op"][0] == "unattributed" {
			continue
		}
		path, bucket := s.Label["path"], s.Label["size_bucket"]
		if len(path) != 1 || len(bucket) != 1 {
			t.Fatalf("sample %v: path %q, size_bucket %q", s.Label, path, bucket)
		}
		k := path[0] + " " + s.Label["op"][0] + " " + bucket[0]
		if sums[k] == nil {
			sums[k] = &sum{}
		}
		sums[k].calls += s.Value[0]
		sums[k].tx += s.Value[2]
	}
	for _, row := range rows {
		k := row.Path + " " + row.Op + " " + row.SizeBucket
		got := sums[k]
		if got == nil {
			t.Errorf("no samples labelled %s", k)
			continue
		}
		// The profile rounds each sample's bytes, the report each row's.
		if uint64(got.calls) != row.Calls || math.Abs(float64(got.tx)-float64(row.TxBytes)) > float64(len(p.Sample)) {
			t.Errorf("%s: profile %d calls, %d tx bytes; report %d, %d", k, got.calls, got.tx, row.Calls, row.TxBytes)
		}
		delete(sums, k)
	}
	for k := range sums {
		t.Errorf("samples labelled %s, in no path row", k)
	}
}
