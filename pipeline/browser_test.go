package pipeline_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkprof/linkprof/pipeline"
)

// chromium finds a headless-capable Chromium. Without one the browser
// test skips, except under CI=true, where a missing tool is a failure:
// `make deps` (run by `make test`) installs Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("report.html needs a browser to check, and CI=true: install chromium (make deps does)")
	}
	t.Skip("no chromium on PATH: apt-get install chromium (make deps does) to check report.html in a browser")
	return ""
}

// runChromium runs a headless Chromium on args (with its own profile, no
// sandbox: the tests run as root) and returns its stdout.
func runChromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// report.html as a browser draws it: the script ran without error, one
// rate chart per GPU with op areas, the measured line and the burst
// marks, a bar per op plus unattributed, a row per path table row and
// per burst. A screenshot goes to $LINKPROF_SCREENSHOT when set, to look
// at.
func TestReportHTMLInBrowser(t *testing.T) {
	bin := chromium(t)
	dir, r := htmlDir(t)
	url := "file://" + filepath.Join(dir, pipeline.HTMLFile)
	dom := runChromium(t, bin, "--dump-dom", url)
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	if !strings.Contains(dom, `data-ready="1"`) || strings.Contains(dom, "data-error=") {
		t.Fatalf("the page's script did not finish: %s", regexp.MustCompile(`data-error="[^"]*"`).FindString(dom))
	}
	ops := 1 // unattributed
	for _, o := range r.Ops {
		if o.Calls > 0 {
			ops++
		}
	}
	for _, c := range []struct {
		what, re string
		want     int
	}{
		{"rate charts", `<svg[^>]*class="rate-chart"`, len(r.GPUs)},
		{"measured lines", `class="measured"`, len(r.GPUs)},
		{"burst marks", `class="burst"`, int(r.Bursts.Count)},
		{"op bars", `class="op-bar"`, ops},
		{"burst rows", `<tr class="burst-row"`, len(r.Bursts.List)},
		{"path rows", `<tr class="path-row"`, len(r.Paths)},
	} {
		if got := count(c.re); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	if n := count(`<polygon[^>]*class="layer"`); n < len(r.GPUs) {
		t.Errorf("%d op areas for %d GPUs", n, len(r.GPUs))
	}
	if png := os.Getenv("LINKPROF_SCREENSHOT"); png != "" {
		runChromium(t, bin, "--window-size=1280,1600", "--screenshot="+png, url)
	}
}
