#!/usr/bin/env python3
"""Compares torch_known.py's issued calls, a /metrics scrape and the reports
of a continuous recording's folders (validate_fleet.sh).

usage: check_fleet.py ISSUED_JSON SCRAPE_TXT REC_DIR
Calls per op: issued (all ranks, after the go signal) = live
linkprof_collective_calls_total = the sum over every folder's report.json.
Analysis figures on the scrape = the sums over the folders analysed by then
(the oldest linkprof_analyzed_folders_total folders). Live NVLink bytes >=
the analysed reports' GPU bytes. Exits 1 on a mismatch.
"""
import collections, glob, json, os, re, sys

issued = json.load(open(sys.argv[1]))
want = collections.Counter()
for ph in issued["ranks"]:
    want[ph["op"]] += ph["calls"] * issued["world"]

series = collections.defaultdict(float)  # (name, frozenset(labels)) -> value
for line in open(sys.argv[2]):
    m = re.match(r'^(linkprof_\w+)(?:\{(.*)\})? (\S+)$', line.strip())
    if m:
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        series[(m.group(1), labels)] = float(m.group(3))

def total(name, **want_labels):
    return sum(v for (n, ls), v in series.items() if n == name and set(want_labels.items()) <= ls)

folders = sorted(d for d in glob.glob(os.path.join(sys.argv[3], "*")) if re.search(r"/\d{8}-\d{6}\.\d{3}$", d))
reports = [json.load(open(os.path.join(d, "report.json"))) for d in folders]
analysed = int(total("linkprof_analyzed_folders_total"))
ok = True
print(f"{len(folders)} folders, {analysed} analysed at the last scrape\n")
print("| op | calls issued | live /metrics | sum of all reports |")
print("|---|---:|---:|---:|")
for op in sorted(set(want) | {o["op"] for r in reports for o in r["ops"] if o["calls"]}):
    live = total("linkprof_collective_calls_total", op=op)
    rep = sum(o["calls"] for r in reports for o in r["ops"] if o["op"] == op)
    same = want[op] == live == rep
    ok &= same
    print(f"| {op} | {want[op]} | {live:.0f} | {rep} |{'' if same else ' MISMATCH'}")

print("\n| figure | /metrics | sum of the analysed reports |")
print("|---|---:|---:|")
done = reports[:analysed]
rows = []
for op in sorted({o["op"] for r in done for o in r["ops"]}):
    for d, key in (("tx", "nvlink_tx_bytes"), ("rx", "nvlink_rx_bytes")):
        rows.append((f"attributed {op} {d}", total("linkprof_attributed_link_bytes_total", op=op, direction=d),
                     sum(o[key] for r in done for o in r["ops"] if o["op"] == op)))
for g in sorted({g["index"] for r in done for g in r["gpus"]}):
    rows.append((f"unattributed gpu{g} tx", total("linkprof_unattributed_link_bytes_total", device=f"gpu{g}", direction="tx"),
                 sum(x["unattributed"]["nvlink_tx_bytes"] for r in done for x in r["gpus"] if x["index"] == g)))
for name, got, exp in rows:
    same = got == exp
    ok &= same
    print(f"| {name} | {got:.0f} | {exp} |{'' if same else ' MISMATCH'}")
for g in sorted({g["index"] for r in done for g in r["gpus"]}):
    live = total("linkprof_link_bytes_total", device=f"gpu{g}", direction="tx")
    rep = sum(x["tx_bytes"] for r in done for x in r["gpus"] if x["index"] == g)
    ok &= live >= rep
    print(f"| live NVLink gpu{g} tx (>= reports) | {live:.0f} | {rep} |{'' if live >= rep else ' LESS'}")
sys.exit(0 if ok else 1)
