package pipeline_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/report"
	"github.com/linkprof/linkprof/trace"
)

// A GPU that disappeared (a warn note from the sampler) heads the text
// report and is kept in report.json, timed from the start.
func TestRecorderWarningsReachTheReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	w, err := trace.Create(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	const text = "GPU 1 (UUID GPU-x) disappeared at +3s: NVML GPU_IS_LOST; its later reads are gaps"
	w.WriteJSON(trace.RecStart, trace.Start{Tool: "test", Clock: trace.Clock{Source: "start", MonoNs: 1000, WallNs: 5000}})
	w.WriteJSON(trace.RecNote, trace.Note{MonoNs: 3_000_001_000, Level: "warn", Text: text})
	w.WriteJSON(trace.RecNote, trace.Note{MonoNs: 2000, Level: "info", Text: "sampling 2 GPUs"})
	w.WriteJSON(trace.RecStop, trace.Stop{Clock: trace.Clock{Source: "stop", MonoNs: 4_000_000_000, WallNs: 4_000_004_000}, Reason: "duration"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	reportschema.WriteAll(t, dir, false)
	var r struct {
		Notes []report.Note `json:"notes"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Notes) != 2 || r.Notes[0] != (report.Note{AtNs: 3_000_000_000, Level: "warn", Text: text}) {
		t.Errorf("notes %+v", r.Notes)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "report.txt"))
	if !strings.Contains(string(txt), "WARNING at +3.00 s: "+text) || strings.Contains(string(txt), "sampling 2 GPUs") {
		t.Errorf("text report does not lead with the warning alone:\n%s", txt)
	}
}
