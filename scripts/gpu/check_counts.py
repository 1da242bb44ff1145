#!/usr/bin/env python3
"""Compares what torch_known.py issued with what linkprof recorded.

usage: check_counts.py ISSUED_JSON DUMP_JSONL   (DUMP from `linkprof dump DIR`)
Prints a table per op: calls and payload bytes issued (all ranks) vs recorded,
and exits 1 on any difference. Only collectives issued after the go signal
are counted: the warm-up all_reduce happened before linkprof attached.
"""
import collections, json, sys

issued = json.load(open(sys.argv[1]))
world = issued["world"]
want = collections.Counter(); want_bytes = collections.Counter()
for ph in issued["ranks"]:
    want[ph["op"]] += ph["calls"] * world
    want_bytes[ph["op"]] += ph["payload_bytes"] * world
got = collections.Counter(); got_bytes = collections.Counter(); pids = set()
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("op"):
        got[e["op"]] += 1; got_bytes[e["op"]] += e["payload_bytes"]; pids.add(e["pid"])
ok = True
print(f"| op | calls issued | calls recorded | payload bytes issued | payload bytes recorded |")
print(f"|---|---:|---:|---:|---:|")
for op in sorted(set(want) | set(got)):
    same = want[op] == got[op] and want_bytes[op] == got_bytes[op]
    ok &= same
    print(f"| {op} | {want[op]} | {got[op]} | {want_bytes[op]} | {got_bytes[op]} |{'' if same else ' MISMATCH'}")
print(f"ranks recorded: {len(pids)} (want {world})")
ok &= len(pids) == world
sys.exit(0 if ok else 1)
