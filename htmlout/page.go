package htmlout

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"

	"github.com/linkprof/linkprof/report"
)

// page.html is the whole page but its data: styles and script inline, so
// it opens offline; its Content-Security-Policy forbids any fetch.
//
//go:embed page.html
var pageHTML []byte

// dataMarker is where the data goes, inside a JSON script block.
var dataMarker = []byte("/*DATA*/")

// maxListed bounds the page's burst table (report.json lists them all).
const maxListed = 1000

// page is what the script draws. Times are from the recording's start.
type page struct {
	DurationNs   int64            `json:"duration_ns"`
	Events       uint64           `json:"events"`
	Lost         uint64           `json:"lost"`
	Simulated    bool             `json:"simulated"`
	Truncated    bool             `json:"truncated"`
	Ranks        int              `json:"ranks"` // processes with NCCL calls
	Ops          []report.Op      `json:"ops"`
	Paths        []report.PathRow `json:"paths"`
	Unattributed report.Link      `json:"unattributed"`
	View         view             `json:"view"` // the charts' time axis
	GPUs         []chart          `json:"gpus"`
	Bursts       burstList        `json:"bursts"`
	Warnings     []report.Note    `json:"warnings"`
}

type burstList struct {
	Count uint64            `json:"count"`
	Rule  string            `json:"rule"`
	List  []report.BurstRow `json:"list"` // the first maxListed
	More  uint64            `json:"more"` // in report.json only
}

// Write writes report.html for rep; rates are the analysis's (times on
// the monotonic clock; Write coarsens them to the page's resolution),
// origin the monotonic time rep's times count from (report.Origin).
func Write(w io.Writer, rep *report.Report, rates *Rates, origin int64) error {
	data, err := json.Marshal(newPage(rep, rates, origin))
	if err != nil {
		return fmt.Errorf("encoding page data: %w", err)
	}
	head, tail, ok := bytes.Cut(pageHTML, dataMarker)
	if !ok {
		return fmt.Errorf("page.html has no %s", dataMarker)
	}
	// encoding/json writes <, > and & as \u003c...: the data cannot close
	// its script element.
	for _, b := range [][]byte{head, data, tail} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func newPage(rep *report.Report, rates *Rates, origin int64) *page {
	p := &page{DurationNs: rep.DurationNs, Events: rep.Analysis.Events, Lost: rep.LostEvents,
		Simulated: rep.Simulated, Truncated: rep.Truncated, Unattributed: rep.Unattributed.Link,
		Ranks: rep.NCCLRanks(), Warnings: rep.ShownNotes(), Ops: []report.Op{}, Paths: rep.Paths}
	if p.Paths == nil {
		p.Paths = []report.PathRow{}
	}
	for _, o := range rep.Ops {
		if o.Calls > 0 {
			p.Ops = append(p.Ops, o)
		}
	}
	b := rep.Bursts
	p.Bursts = burstList{Count: b.Count, Rule: b.Rule, List: b.List[:min(len(b.List), maxListed)]}
	p.Bursts.More = b.Count - uint64(len(p.Bursts.List))
	p.View, p.GPUs = charts(rep, rates, origin)
	return p
}
