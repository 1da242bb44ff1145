package report

import "github.com/linkprof/linkprof/correlate"

// hasNet reports whether either report's NICs were sampled (report.json's
// net and links).
func hasNet(a, b *Report) bool { return a.Net != nil || b.Net != nil }

// LinkPair is one link kind in two reports (zero but for the name where a
// report lacks it).
type LinkPair struct{ A, B LinkTotal }

// PairLinks pairs the links of a and b by kind, NVLink first, when either
// sampled NICs; nil otherwise (NVLink alone: the op table says it all). A
// report without NICs has NVLink alone, its totals from its GPUs and ops.
func PairLinks(a, b *Report) []LinkPair {
	if !hasNet(a, b) {
		return nil
	}
	var out []LinkPair
	for _, link := range []string{correlate.NVLink.String(), correlate.Net.String()} {
		out = append(out, LinkPair{linkNamed(a, link), linkNamed(b, link)})
	}
	return out
}

func linkNamed(r *Report, link string) LinkTotal {
	totals := r.Links
	if r.Net == nil {
		totals = linkTotals(&Report{Net: &Net{}, GPUs: r.GPUs, Ops: r.Ops, Unattributed: r.Unattributed})
	}
	for _, l := range totals {
		if l.Link == link {
			return l
		}
	}
	return LinkTotal{Link: link}
}

// writeCompareLinks is the bytes per link kind of both reports, and each
// op's network TX where either side has some, when either sampled NICs.
func writeCompareLinks(p func(string, ...any), a, b *Report) {
	pairs := PairLinks(a, b)
	if pairs == nil {
		return
	}
	p("link\ttx A\ttx B\ttx B/A\tattributed A\tattributed B\t\n")
	for _, l := range pairs {
		p("%s\t%s\t%s\t%s\t%s\t%s\t\n", l.A.Link, bytesStr(l.A.TxBytes), bytesStr(l.B.TxBytes), ratio(l.B.TxBytes, l.A.TxBytes),
			bytesStr(l.A.AttributedTx), bytesStr(l.B.AttributedTx))
	}
	p("\nop\tnet tx A\tnet tx B\tnet tx B/A\t\n")
	for _, o := range PairOps(a, b) {
		if o.A.NetTxBytes+o.B.NetTxBytes > 0 {
			p("%s\t%s\t%s\t%s\t\n", o.A.Op, bytesStr(o.A.NetTxBytes), bytesStr(o.B.NetTxBytes), ratio(o.B.NetTxBytes, o.A.NetTxBytes))
		}
	}
	p("\n")
}
