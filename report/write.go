package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/google/pprof/profile"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/pprofout"
	"github.com/linkprof/linkprof/timeline"
	"github.com/linkprof/linkprof/trace"
)

// Names of the outputs in a recording folder.
const (
	ProfileFile  = "profile.pb.gz"
	TimelineFile = "timeline.json"
	TextFile     = "report.txt"
	JSONFile     = "report.json"
)

// Outputs is one analysis pass's results.
type Outputs struct {
	Result  *correlate.Result
	Report  *Report
	Profile *profile.Profile
}

// tee fans the analysis out to several sinks.
type tee []correlate.Sink

func (t tee) Call(c *correlate.Call) {
	for _, s := range t {
		s.Call(c)
	}
}

func (t tee) Interval(iv *correlate.Interval) {
	for _, s := range t {
		s.Interval(iv)
	}
}

func (t tee) Burst(b *correlate.Burst) {
	for _, s := range t {
		s.Burst(b)
	}
}

func (t tee) GraphLaunch(l *correlate.GraphLaunch) {
	for _, s := range t {
		if ls, ok := s.(correlate.LaunchSink); ok {
			ls.GraphLaunch(l)
		}
	}
}

// maxShards bounds the engines Run starts (GPUs are dealt among them).
const maxShards = 8

// Run analyzes dir once, GPUs spread over up to GOMAXPROCS engines; tl,
// when not nil, receives the timeline as it streams.
func Run(dir string, opts correlate.Options, tl io.Writer) (*Outputs, error) {
	n := min(runtime.GOMAXPROCS(0), maxShards)
	aggs, pbs := make([]*Aggregator, n), make([]*pprofout.Builder, n)
	var tw *timeline.Writer
	var shared correlate.Sink
	if tl != nil {
		origin, err := startNs(dir)
		if err != nil {
			return nil, err
		}
		tw = timeline.NewWriter(tl, origin, 0)
		shared = &locked{s: tw}
	}
	sinks := make([]correlate.Sink, n)
	for i := range sinks {
		aggs[i], pbs[i] = NewAggregator(), pprofout.NewBuilder()
		t := tee{aggs[i], pbs[i]}
		if shared != nil {
			t = append(t, shared)
		}
		sinks[i] = t
	}
	res, err := correlate.AnalyzeShards(dir, opts, sinks)
	if err != nil {
		return nil, fmt.Errorf("analyzing %s: %w", dir, err)
	}
	agg, pb := aggs[0], pbs[0]
	for i := 1; i < n; i++ {
		agg.Merge(aggs[i])
		pb.Merge(pbs[i])
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			return nil, err
		}
	}
	rep := Build(res, agg, opts)
	rep.Analysis.ClockPairs = clockPairs(res)
	p, err := pb.Profile(res, pprofout.NewSymbolizer(""))
	if err != nil {
		return nil, err
	}
	return &Outputs{Result: res, Report: rep, Profile: p}, nil
}

func clockPairs(res *correlate.Result) int { return res.Stats.ClockPairs }

// startNs is the recording's start on the monotonic clock (the first
// record of every trace).
func startNs(dir string) (int64, error) {
	f, err := trace.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rec, err := f.Next()
	if err != nil || rec.Type != trace.RecStart {
		return 0, fmt.Errorf("reading %s: %w: no start record", dir, trace.ErrCorrupt)
	}
	var s trace.Start
	if err := rec.JSON(&s); err != nil {
		return 0, err
	}
	return s.Clock.MonoNs, nil
}

// WriteAll writes profile.pb.gz, timeline.json, report.txt and report.json
// into the recording folder dir in one analysis pass. Existing outputs are
// replaced only with force; files are created without following links.
func WriteAll(dir string, force bool) error {
	return WriteAllOptions(dir, force, correlate.Options{})
}

// WriteAllOptions is WriteAll with analysis options.
func WriteAllOptions(dir string, force bool, opts correlate.Options) (err error) {
	tl, err := trace.CreateFile(dir, TimelineFile, force)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(tl, 1<<20)
	out, err := Run(dir, opts, bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tl.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing timeline: %w", cerr)
	}
	if err != nil {
		os.Remove(tl.Name())
		return err
	}
	return errors.Join(
		writeFile(dir, ProfileFile, force, out.Profile.Write),
		writeFile(dir, JSONFile, force, func(w io.Writer) error { return WriteJSON(w, out.Report) }),
		writeFile(dir, TextFile, force, func(w io.Writer) error { return WriteText(w, out.Report) }),
	)
}

func writeFile(dir, name string, force bool, fn func(io.Writer) error) error {
	f, err := trace.CreateFile(dir, name, force)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", name, err)
	}
	return nil
}

// WriteJSON writes report.json.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Load reads a report.json.
func Load(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s: report version %d, this linkprof reads %d", path, r.Version, Version)
	}
	return &r, nil
}
