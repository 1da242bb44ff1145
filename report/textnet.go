package report

import (
	"fmt"
	"strings"
)

// writeLinks is report.txt's network part, when NICs were sampled: bytes
// per kind of link, the NICs, and the network bytes per op.
func writeLinks(p func(string, ...any), r *Report) {
	n := r.Net
	if n == nil {
		return
	}
	p("bytes per link\tlink tx\tattributed\tunattributed\tlink rx\t\n")
	for _, l := range r.Links {
		p("%s\t%s\t%s (%s)\t%s\t%s\t\n", l.Link, bytesStr(l.TxBytes), bytesStr(l.AttributedTx), pct(l.AttributedTx, l.TxBytes),
			bytesStr(l.UnattributedTx), bytesStr(l.RxBytes))
	}
	var names []string
	for _, d := range n.NICs {
		names = append(names, nicName(d))
	}
	p("net: the sampled NICs summed (%s), %.0f reads/s, %d bursts, duty cycle %.1f%%\n", strings.Join(names, ", "), n.SampleHz,
		n.Bursts, 100*n.DutyCycle)
	p("\n  nic\tkind\tnet tx\tnet rx\treads/s\tselected by\t\n")
	for _, d := range n.NICs {
		p("  %s\t%s\t%s\t%s\t%.0f\t%s\t\n", nicName(d), d.Kind, bytesStr(d.TxBytes), bytesStr(d.RxBytes), d.SampleHz, d.SelectedBy)
	}
	p("\n  op\tcalls\tnet tx\tnet rx\tshare of net tx\t\n")
	for _, o := range r.Ops {
		if o.NetTxBytes+o.NetRxBytes > 0 {
			p("  %s\t%d\t%s\t%s\t%s\t\n", o.Op, o.Calls, bytesStr(o.NetTxBytes), bytesStr(o.NetRxBytes), pct(o.NetTxBytes, n.TxBytes))
		}
	}
	p("  unattributed\t\t%s\t%s\t%s\t\n\n", bytesStr(n.Unattributed.NetTxBytes), bytesStr(n.Unattributed.NetRxBytes),
		pct(n.Unattributed.NetTxBytes, n.TxBytes))
}

// nicName is a NIC's name, after its host's in a merged trace (as pids
// and GPUs are named there).
func nicName(d NIC) string {
	if d.Host == "" {
		return d.Name
	}
	return d.Host + ":" + d.Name
}

// fitOp names a wire factor's op, marking one fitted on the network link.
func fitOp(op, link string) string {
	if link == "" {
		return op
	}
	return fmt.Sprintf("%s (%s)", op, link)
}
