#!/usr/bin/env python3
"""Checks of scripts/gpu/validate_merge.sh: W holds a, b (the two hosts'
recordings), one (the job under one recorder), merged, merged-collectives,
a.dump, b.dump. Prints PASS/FAIL lines; exits 1 on any FAIL."""
import json, os, sys

W = sys.argv[1]
failed = False


def check(ok, what):
    global failed
    failed |= not ok
    print(("PASS " if ok else "FAIL ") + what)


def report(name):
    with open(os.path.join(W, name, "report.json")) as f:
        return json.load(f)


def creations(dump):
    ids = []
    with open(os.path.join(W, dump)) as f:
        for line in f:
            e = json.loads(line)
            if e["kind"] in ("CommInitRank", "CommInitRankConfig") and e.get("return"):
                ids.append(e.get("unique_id"))
    return ids


ida, idb = creations("a.dump"), creations("b.dump")
check(len(ida) > 0 and all(ida) and all(idb), f"unique ids on every creation: host a {ida}, host b {idb}")
check(sorted(ida) == sorted(idb), "the same communicators (ids) on both hosts")

merged, coll, one = report("merged"), report("merged-collectives"), report("one")
h = merged.get("hosts", [])
check(len(h) == 2, f"merged: {len(h)} hosts")
if len(h) == 2:
    b = h[1]
    check(b.get("clock") == "wall" and abs(b["offset_ns"]) < 1_000_000 and b["collectives"] > 0,
          f"host b placed by {b.get('clock')} {b['offset_ns']} ns from a (one machine), {b['collectives']} collectives shared, "
          f"arrivals then {b['collective_skew_ns']} ns apart (spread {b['spread_ns']}), wall clocks {b['wall_skew_ns']} ns")
hc = coll.get("hosts", [{}, {}])[1]
print(f"INFO --clock collectives: host b {hc.get('offset_ns')} ns from a, wall clocks then {hc.get('wall_skew_ns')} ns apart")


def comms(r):
    return sorted((c["comm"], c["nranks"], c["ranks_recorded"], c["collectives"], c["unmatched"]) for c in r["arrivals"]["comms"])


check(comms(merged) == comms(one), f"arrivals per communicator: merged {comms(merged)}, one recorder {comms(one)}")
check(all(c[2] == c[1] for c in comms(merged)), "every communicator's ranks recorded, across the hosts")

ops_one = {o["op"]: o for o in one["ops"]}
for o in merged["ops"]:
    w = ops_one[o["op"]]
    if w["calls"] == 0 and o["calls"] == 0:
        continue
    check(o["calls"] == w["calls"] and o["payload_bytes"] == w["payload_bytes"],
          f"{o['op']}: {o['calls']} calls, {o['payload_bytes']} bytes; one recorder {w['calls']}, {w['payload_bytes']}")
    if w["nvlink_tx_bytes"] > 0:
        e = o["nvlink_tx_bytes"] / w["nvlink_tx_bytes"] - 1
        check(abs(e) <= 0.02, f"{o['op']}: attributed TX {o['nvlink_tx_bytes']} vs one recorder {w['nvlink_tx_bytes']} ({100 * e:+.2f}%)")
    ctx = {c["op"]: c for c in coll["ops"]}.get(o["op"], {}).get("nvlink_tx_bytes", 0)
    if w["nvlink_tx_bytes"] > 0:
        print(f"INFO --clock collectives: {o['op']} attributed TX {100 * (ctx / w['nvlink_tx_bytes'] - 1):+.2f}% vs one recorder")
sys.exit(1 if failed else 0)
