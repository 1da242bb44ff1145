package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/htmlout"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// Names of the outputs in a recording folder.
const (
	ProfileFile  = "profile.pb.gz"
	TimelineFile = "timeline.json"
	TextFile     = "report.txt"
	JSONFile     = "report.json"
	HTMLFile     = "report.html"
)

// WriteAll writes profile.pb.gz, timeline.json, report.txt, report.json
// and report.html into the recording folder dir in one analysis. Existing outputs are
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
		writeFile(dir, JSONFile, force, func(w io.Writer) error { return report.WriteJSON(w, out.Report) }),
		writeFile(dir, TextFile, force, func(w io.Writer) error { return report.WriteText(w, out.Report) }),
		writeFile(dir, HTMLFile, force, func(w io.Writer) error {
			return htmlout.Write(w, out.Report, out.Rates, report.Origin(out.Result))
		}),
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

// ForDir returns a folder's report: its report.json when this version
// wrote it, else a fresh analysis of its trace (an older report.json lacks
// what this version reports; the trace has it all).
func ForDir(dir string) (*report.Report, error) {
	if r, err := report.Load(filepath.Join(dir, JSONFile)); err == nil && r.Version == report.Version {
		return r, nil
	}
	out, err := Run(dir, correlate.Options{}, nil)
	if err != nil {
		return nil, err
	}
	return out.Report, nil
}
