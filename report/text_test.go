package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/report"
)

// textReport is a 41-minute recording of two ranks and their launcher,
// with incomplete calls and a long burst.
func textReport() *report.Report {
	tr := func(calls, tx, gpuNs int64) report.Traffic {
		return report.Traffic{Calls: uint64(calls), PayloadBytes: uint64(tx), GPUTimeNs: gpuNs,
			Link: report.Link{TxBytes: uint64(tx), RxBytes: uint64(tx)}}
	}
	return &report.Report{Version: report.Version, DurationNs: 2_466_523_070_000,
		Ops: []report.Op{{Op: "AllReduce", Traffic: tr(1000, 1<<30, 3_000_000_000_000), Incomplete: 17}},
		Processes: []report.Process{
			{Pid: 10, Comm: "torchrun", Rank: -1, GPU: -1},
			{Pid: 11, Comm: "python3", Rank: 0, GPU: 0, Traffic: tr(500, 1<<29, 1_500_000_000_000)},
			{Pid: 12, Comm: "python3", Rank: 1, GPU: 1, Traffic: tr(500, 1<<29, 1_500_000_000_000)},
		},
		Bursts: report.Bursts{Count: 1, DurationP50Ns: 61_000_000_000, List: []report.BurstRow{
			{GPU: 0, StartNs: 1_200_000_000, DurationNs: 61_000_000_000, TxBytes: 1 << 29, Label: "AllReduce"}}},
		TopCollectives: []report.Top{{Op: "AllReduce", DataType: "bfloat16", Count: 1 << 20, NRanks: 2, Traffic: tr(1000, 1<<30, 0)}},
		MessageSizes:   []report.SizeBin{{UpperBytes: 2 << 20, Traffic: tr(1000, 1<<30, 0)}},
	}
}

// report.txt in one style: durations in units.Duration's (no Go
// "41m6.52307s"), modelled GPU time per rank and as a share of the
// recording (its sum over ranks passes the recording's length), every
// byte column named tx or rx, incomplete calls shown, and processes of
// unknown rank marked "-", last, with a footnote.
func TestTextReportConventions(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteText(&buf, textReport()); err != nil {
		t.Fatal(err)
	}
	txt := buf.String()
	flat := regexp.MustCompile(` +`).ReplaceAllString(txt, " ") // columns as single spaces
	if m := regexp.MustCompile(`\d(h|m|s|ms|µs|ns)\d|\d(ms|µs|ns|s)\b`).FindString(txt); m != "" {
		t.Errorf("a Go duration (%q) in:\n%s", m, txt)
	}
	for _, want := range []string{
		"linkprof report: 2467 s recorded",
		"op calls incomplete payload nvlink tx nvlink rx share of tx gpu time/rank of wall",
		"AllReduce 1000 17 1.00 GiB", // calls, incomplete
		"100.0% 1500 s 60.8%",        // 3000 s over 2 ranks, of 2467 s
		"gpu time: modelled GPU execution (not measured), mean over the 2 ranks",
		"incomplete: calls whose expected link bytes were not all seen",
		"duration p50 61.0 s",
		"+1.20 s 61.0 s",
		"top collectives by link bytes (nvlink tx + rx)",
		"calls nvlink tx nvlink rx\n AllReduce bfloat16",
		"message size calls payload nvlink tx nvlink rx",
		"- 10 torchrun - 0",
		"-: not known (a process that made no NCCL call",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("report.txt lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "-1") || strings.Contains(txt, "tx+rx") {
		t.Errorf("report.txt shows rank -1 or a tx+rx column:\n%s", txt)
	}
	if r0, launcher := strings.Index(flat, "11 python3"), strings.Index(flat, "10 torchrun"); r0 < 0 || launcher < r0 {
		t.Errorf("the launcher does not come after the ranks:\n%s", txt)
	}
}
