package pprofout_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/pprofout"
	"github.com/linkprof/linkprof/trace"
)

// The filters docs/attribution.md suggests select what they name, and
// pprof has a main binary to name.
func TestPprofFilters(t *testing.T) {
	p := simProfile(t)
	for _, c := range []struct {
		flag      string
		want, not []string
	}{
		{"-tagfocus=rank=0", []string{"rank 0"}, []string{"rank 1", "GPU 0"}},
		{"-tagfocus=gpu=1", []string{"rank 1"}, []string{"rank 0"}},
		{"-tagfocus=bytes=32MB", []string{"ncclAllReduce"}, []string{"ncclAllGather"}},
		{"-tagfocus=op=AllGather", []string{"ncclAllGather"}, []string{"ncclAllReduce"}},
		{"-tagfocus=comm=r1/2", []string{"rank 1"}, []string{"rank 0"}},
	} {
		report, msgs := runPprof(t, []string{c.flag, "-top", "p0.pb.gz"}, p)
		if !strings.Contains(report, "File: "+pprofout.SyntheticFile) || strings.Contains(msgs, "Main binary") {
			t.Errorf("%s: no main binary:\n%s%s", c.flag, msgs, report)
		}
		for _, w := range c.want {
			if !strings.Contains(report, w) {
				t.Errorf("%s: no %q in\n%s", c.flag, w, report)
			}
		}
		for _, n := range c.not {
			if strings.Contains(report, n) {
				t.Errorf("%s: %q in\n%s", c.flag, n, report)
			}
		}
	}
}

// The path and size_bucket labels select what report.json's path table
// rows hold: the custom all-reduce's 2 MiB calls ([2MiB, 4MiB): a bound
// starts its bucket) apart from NCCL's 32 MiB all-reduces.
func TestPathFilters(t *testing.T) {
	p := graphProfile(t)
	for _, c := range []struct {
		flag      string
		want, not []string
	}{
		{"-tagfocus=path=custom-all-reduce", []string{"CustomAllReduce"}, []string{"ncclAllReduce", "ncclAllGather"}},
		{"-tagfocus=path=nccl", []string{"ncclAllReduce", "ncclAllGather"}, []string{"CustomAllReduce"}},
		{"-tagfocus=size_bucket=^2MiB-4MiB$", []string{"CustomAllReduce"}, []string{"ncclAllReduce", "ncclAllGather"}},
		{"-tagfocus=size_bucket=^32MiB-64MiB$", []string{"ncclAllReduce"}, []string{"CustomAllReduce", "ncclAllGather"}},
	} {
		report, _ := runPprof(t, []string{"-sample_index=calls", c.flag, "-top", "p0.pb.gz"}, p)
		for _, w := range c.want {
			if !strings.Contains(report, w) {
				t.Errorf("%s: no %q in\n%s", c.flag, w, report)
			}
		}
		for _, n := range c.not {
			if strings.Contains(report, n) {
				t.Errorf("%s: %q in\n%s", c.flag, n, report)
			}
		}
	}
}

// Two runs of one workload differ in pids and communicator handles only:
// their profiles have the same frames and string labels, and -diff_base
// between them is empty.
func TestStableAcrossRuns(t *testing.T) {
	a, b := handProfile(t, 1000, 0x7f00_0000_0000), handProfile(t, 2345, 0x5500_1234_0000)
	if fa, fb := frames(a), frames(b); !slices.Equal(fa, fb) {
		t.Errorf("frames differ:\n%v\n%v", fa, fb)
	}
	if la, lb := stringLabels(a), stringLabels(b); !slices.Equal(la, lb) {
		t.Errorf("string labels differ:\n%v\n%v", la, lb)
	}
	if la := stringLabels(a); !slices.Contains(la, "comm=r0/2#1") || !slices.Contains(la, "comm=r0/2#2") || !slices.Contains(la, "comm=r1/2") {
		t.Errorf("communicator names %v", la)
	}
	report, _ := runPprof(t, []string{"-diff_base=p0.pb.gz", "-top", "p1.pb.gz"}, a, b)
	if !strings.Contains(report, "accounting for 0, 0%") || strings.Contains(report, "nccl") {
		t.Errorf("diff of two runs is not empty:\n%s", report)
	}
}

// handProfile: two processes, rank 0 with two communicators of one rank
// and size (created in order), rank 1 with one it was never seen create.
func handProfile(t *testing.T, pid uint32, handle uint64) *profile.Profile {
	t.Helper()
	res := &correlate.Result{Meta: correlate.Meta{
		Processes: []trace.Process{{Pid: pid, Comm: "python3"}, {Pid: pid + 7, Comm: "python3"}},
		Comms: []trace.Comm{
			{Pid: pid, Handle: handle + 0x900, Rank: 0, NRanks: 2},
			{Pid: pid, Handle: handle, Rank: 0, NRanks: 2},
		},
	}}
	b := pprofout.NewBuilder()
	call := func(p uint32, h uint64, rank int, k trace.Kind) {
		b.Call(&correlate.Call{Pid: p, Comm: h, Rank: rank, NRanks: 2, GPU: rank, Kind: k, DataType: 9, Count: 1 << 20,
			Payload: 2 << 20, StackID: -1, TxBytes: 1 << 20, Phase: graphs.Eager})
	}
	call(pid, handle, 0, trace.AllReduce)
	call(pid, handle+0x900, 0, trace.AllGather)
	call(pid+7, handle+0x55, 1, trace.AllReduce)
	p, err := b.Profile(res, pprofout.NewSymbolizer(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func frames(p *profile.Profile) []string {
	var out []string
	for _, s := range p.Sample {
		var names []string
		for _, l := range s.Location {
			names = append(names, l.Line[0].Function.Name)
		}
		out = append(out, strings.Join(names, ";"))
	}
	slices.Sort(out)
	return out
}

func stringLabels(p *profile.Profile) []string {
	var out []string
	for _, s := range p.Sample {
		for k, vs := range s.Label {
			for _, v := range vs {
				out = append(out, k+"="+v)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// What Pyroscope and Parca check or need when they ingest a pprof profile
// (see docs/attribution.md, section 7): sample types without '-', a
// period type and period, the profile's time and duration, sequential
// non-zero IDs, a mapping for every location (Pyroscope indexes mappings
// by a location's mapping ID) and no sample whose values are all zero
// (both drop those).
func TestIngestionRules(t *testing.T) {
	for name, p := range map[string]*profile.Profile{"sim": simProfile(t), "graphs": graphProfile(t)} {
		if p.PeriodType == nil || p.Period <= 0 || p.TimeNanos <= 0 || p.DurationNanos <= 0 {
			t.Errorf("%s: period %v %d, time %d, duration %d", name, p.PeriodType, p.Period, p.TimeNanos, p.DurationNanos)
		}
		for _, st := range p.SampleType {
			if strings.Contains(st.Type, "-") || st.Unit == "" {
				t.Errorf("%s: sample type %s/%s", name, st.Type, st.Unit)
			}
		}
		for i, m := range p.Mapping {
			if m.ID != uint64(i+1) || !m.HasFunctions {
				t.Errorf("%s: mapping %d: %+v", name, i, m)
			}
		}
		for i, l := range p.Location {
			if l.ID != uint64(i+1) || l.Mapping == nil {
				t.Errorf("%s: location %d: id %d, mapping %v", name, i, l.ID, l.Mapping)
			}
		}
		for _, s := range p.Sample {
			if !slices.ContainsFunc(s.Value, func(v int64) bool { return v != 0 }) {
				t.Errorf("%s: all-zero sample %v", name, s.Label)
			}
		}
	}
}
