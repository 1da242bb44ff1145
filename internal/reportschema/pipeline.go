package reportschema

import (
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/pipeline"
)

// WriteAll is pipeline.WriteAll for tests: it fails t unless the outputs
// are written and report.json meets the schema.
func WriteAll(t testing.TB, dir string, force bool) {
	t.Helper()
	if err := pipeline.WriteAll(dir, force); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(filepath.Join(dir, pipeline.JSONFile)); err != nil {
		t.Fatal(err)
	}
}

// Run is pipeline.Run for tests: it fails t unless the analysis succeeds
// and its report, written as report.json, meets the schema.
func Run(t testing.TB, dir string, opts correlate.Options) *pipeline.Outputs {
	t.Helper()
	out, err := pipeline.Run(dir, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckReport(out.Report); err != nil {
		t.Fatal(err)
	}
	return out
}
