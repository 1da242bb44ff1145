package pprofout_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"
)

// runPprof runs the pprof command line (the driver `go tool pprof` is
// built from) on profiles written to files, and returns the report and
// what pprof said on its UI (warnings such as "Main binary filename not
// available"). The driver keeps its configuration between runs in a
// process, so each run clears the filter the tests set.
func runPprof(t *testing.T, args []string, profiles ...*profile.Profile) (report, messages string) {
	t.Helper()
	dir := t.TempDir()
	for i, p := range profiles {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("p%d.pb.gz", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Write(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	out := &memWriter{}
	ui := &quietUI{}
	fs := &flagSet{FlagSet: flag.NewFlagSet("pprof", flag.ContinueOnError), args: append([]string{"-output=report", "-tagfocus="}, args...)}
	fs.SetOutput(io.Discard)
	t.Chdir(dir)
	if err := driver.PProf(&driver.Options{Flagset: fs, UI: ui, Writer: out}); err != nil {
		t.Fatalf("pprof %v: %v\n%s", args, err, ui.buf.String())
	}
	return out.buf.String(), ui.buf.String()
}

// flagSet is driver.FlagSet over package flag.
type flagSet struct {
	*flag.FlagSet
	args  []string
	usage []string
}

type stringList struct{ v *[]*string }

func (s stringList) String() string { return "" }
func (s stringList) Set(v string) error {
	*s.v = append(*s.v, &v)
	return nil
}

func (f *flagSet) StringList(name, def, usage string) *[]*string {
	v := &[]*string{}
	f.Var(stringList{v}, name, usage)
	return v
}
func (f *flagSet) ExtraUsage() string      { return strings.Join(f.usage, "\n") }
func (f *flagSet) AddExtraUsage(eu string) { f.usage = append(f.usage, eu) }
func (f *flagSet) Parse(usage func()) []string {
	if err := f.FlagSet.Parse(f.args); err != nil || f.NArg() == 0 {
		usage()
		return nil
	}
	return f.Args()
}

type memWriter struct{ buf bytes.Buffer }

func (w *memWriter) Open(string) (io.WriteCloser, error) { return nopCloser{&w.buf}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

type quietUI struct{ buf bytes.Buffer }

func (u *quietUI) ReadLine(string) (string, error)     { return "", io.EOF }
func (u *quietUI) Print(a ...interface{})              { fmt.Fprintln(&u.buf, a...) }
func (u *quietUI) PrintErr(a ...interface{})           { fmt.Fprintln(&u.buf, a...) }
func (u *quietUI) IsTerminal() bool                    { return false }
func (u *quietUI) WantBrowser() bool                   { return false }
func (u *quietUI) SetAutoComplete(func(string) string) {}
