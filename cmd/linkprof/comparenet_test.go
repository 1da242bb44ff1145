package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/linkprof/linkprof/pipeline"
	"github.com/linkprof/linkprof/report"
)

// compare --json carries the bytes per link kind when one recording
// sampled NICs (B, a report.json with a network link) and the other did
// not (A, NVLink alone: its GPUs' bytes); none for two without NICs.
func TestCompareLinksJSON(t *testing.T) {
	a := simRecording(t, 2)
	b := t.TempDir()
	rb := report.Report{Version: report.Version,
		Ops: []report.Op{{Op: "AllReduce", Traffic: report.Traffic{Calls: 4, NetBytes: report.NetBytes{NetTxBytes: 600}}}},
		Net: &report.Net{TxBytes: 800}, Links: []report.LinkTotal{{Link: "nvlink"}, {Link: "net", TxBytes: 800, AttributedTx: 600}}}
	data, err := json.Marshal(rb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, pipeline.JSONFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ra, err := pipeline.ForDir(a)
	if err != nil {
		t.Fatal(err)
	}
	var nvTx, nvAttr uint64
	for _, g := range ra.GPUs {
		nvTx += g.TxBytes
	}
	for _, o := range ra.Ops {
		nvAttr += o.TxBytes
	}
	var cmp struct {
		Links []struct{ A, B report.LinkTotal }
		Ops   []struct {
			Traffic struct{ A, B report.Traffic }
		}
	}
	decode(t, linkprof(t, nil, "compare", "--json", a, b), 0, &cmp)
	l := cmp.Links
	if len(l) != 2 || l[0].A.Link != "nvlink" || l[0].A.TxBytes != nvTx || l[0].A.AttributedTx != nvAttr || nvTx == 0 ||
		l[1].A.Link != "net" || l[1].A.TxBytes != 0 || l[1].B.TxBytes != 800 || l[1].B.AttributedTx != 600 {
		t.Errorf("links %+v; want nvlink tx %d (attributed %d) in A, net 800 (600) in B", l, nvTx, nvAttr)
	}
	if len(cmp.Ops) != 1 || cmp.Ops[0].Traffic.B.NetTxBytes != 600 {
		t.Errorf("ops %+v: want AllReduce with B's 600 network bytes", cmp.Ops)
	}
	cmp.Links = nil
	decode(t, linkprof(t, nil, "compare", "--json", a, a), 0, &cmp)
	if cmp.Links != nil {
		t.Errorf("links for two recordings without NICs: %+v", cmp.Links)
	}
}
