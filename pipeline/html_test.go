package pipeline_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/internal/reportschema"
	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

// htmlDir is a copy of the phase-mix recording on 2 H200s (18 bursts,
// seven ops) analyzed by WriteAll.
func htmlDir(t *testing.T) (string, *report.Report) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "h200-phasemix-launch", "trace.lpt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trace.lpt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	reportschema.WriteAll(t, dir, false)
	var r report.Report
	data, _ = os.ReadFile(filepath.Join(dir, pipeline.JSONFile))
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return dir, &r
}

// pageData is what report.html embeds for its script.
type pageData struct {
	GPUs []struct {
		GPU     int      `json:"gpu"`
		WidthNs int64    `json:"width_ns"`
		Total   []uint64 `json:"total"`
		Layers  []struct {
			Name  string   `json:"name"`
			Bytes []uint64 `json:"bytes"`
		} `json:"layers"`
		Bursts []struct{ Count int } `json:"bursts"`
	} `json:"gpus"`
	Bursts struct {
		List []report.BurstRow `json:"list"`
	} `json:"bursts"`
}

// report.html is one file that needs nothing outside it: no URL it could
// fetch, a Content-Security-Policy that forbids fetching, and its data
// inline. Per GPU, its buckets hold the GPU's TX, split by op, and its
// burst marks account for every burst of the report.
func TestReportHTMLIsOneOfflineFile(t *testing.T) {
	dir, r := htmlDir(t)
	page, err := os.ReadFile(filepath.Join(dir, pipeline.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	// The SVG namespace is a name, not a fetch.
	urls := regexp.MustCompile(`(?i)(src|href)\s*=|url\((?:[^#)]|$)|<link|@import|https?://`).FindAllString(
		strings.ReplaceAll(html, `"http://www.w3.org/2000/svg"`, ""), -1)
	if len(urls) > 0 || !strings.Contains(html, `content="default-src 'none'`) {
		t.Errorf("external references %q, or no CSP forbidding them", urls)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="data">(.*?)</script>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatal("no embedded data")
	}
	var d pageData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.GPUs) != len(r.GPUs) || len(d.Bursts.List) != len(r.Bursts.List) {
		t.Fatalf("%d GPU charts, %d bursts listed; report: %d, %d", len(d.GPUs), len(d.Bursts.List), len(r.GPUs), len(r.Bursts.List))
	}
	for i, g := range d.GPUs {
		var total, layers uint64
		for _, b := range g.Total {
			total += b
		}
		for _, l := range g.Layers {
			for _, b := range l.Bytes {
				layers += b
			}
		}
		marks := 0
		for _, b := range g.Bursts {
			marks += b.Count
		}
		want := r.GPUs[i].TxBytes
		if len(g.Total) > 2000 || !near(total, want) || !near(layers, want) || uint64(marks) != r.GPUs[i].Bursts {
			t.Errorf("GPU %d: %d buckets, measured %d and layers %d bytes (report %d), %d burst marks (report %d)",
				g.GPU, len(g.Total), total, layers, want, marks, r.GPUs[i].Bursts)
		}
	}
}

// near is within 0.1% (buckets round to whole bytes).
func near(got, want uint64) bool {
	return float64(got) >= 0.999*float64(want) && float64(got) <= 1.001*float64(want)
}
