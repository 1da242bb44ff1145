#!/usr/bin/env python3
"""Checks linkprof's path table against what torch_paths.py did.

usage: check_paths.py DIR_A DIR_B   (recording folders, with report.json;
       torch_paths.py wrote DIR_A-truth/expected.json and DIR_B-truth/...)

Per recording, every (op, size bucket) torch_paths.py used must be one row
of report.json paths with exactly the calls both ranks made, on the path
the threshold chose, and share_of_size 1 (one path per size); the 32 MiB
NCCL rows must reach a link rate a real NVLink does (over 50 GB/s). Between
the two, the sizes that changed path must show it. Prints each recording's
rows and PASS/FAIL lines; exits 1 on a failure.
"""
import json, os, sys

failed = False


def check(ok, what):
    global failed
    print(("PASS " if ok else "FAIL ") + what)
    failed = failed or not ok


def load(d):
    with open(os.path.join(d + "-truth", "expected.json")) as f:
        exp = json.load(f)
    with open(os.path.join(d, "report.json")) as f:
        rep = json.load(f)
    return exp, rep


def table(name, rep):
    print(f"\n{name}: report.json paths")
    print(f"{'op':>24} {'path':>18} {'size':>14} {'calls':>6} {'of size':>7} {'busy/gpu ms':>11} {'link GB/s':>9} {'payload GB/s':>12}")
    for r in rep["paths"]:
        busy = r["busy_ns"] / max(r["gpus"], 1) / 1e6
        link = max(r["tx_bytes_per_s"], r["rx_bytes_per_s"]) / 1e9
        print(f"{r['op']:>24} {r['path']:>18} {r['size_bucket']:>14} {r['calls']:>6} {100 * r['share_of_size']:>6.1f}% "
              f"{busy:>11.2f} {link:>9.1f} {r['payload_bytes_per_s'] / 1e9:>12.1f}")


def check_one(name, exp, rep):
    rows = {(r["op"], r["size_bucket"]): r for r in rep["paths"]}
    for e in exp["rows"]:
        want = e["calls"] * exp["ranks"]
        r = rows.get((e["op"], e["size_bucket"]))
        got = r["calls"] if r else 0
        check(r is not None and got == want and r["path"] == e["path"] and r["payload_bytes"] == want * e["payload"],
              f"{name}: {e['op']} {e['size_bucket']} on {e['path']}: {got} calls, want {want}")
        if r:
            check(r["share_of_size"] == 1.0, f"{name}: {e['size_bucket']} took one path ({100 * r['share_of_size']:.1f}%)")
            if e["size_bucket"] == "32MiB-64MiB" and e["path"] == "nccl":
                link = max(r["tx_bytes_per_s"], r["rx_bytes_per_s"]) / 1e9
                check(link > 50, f"{name}: 32 MiB NCCL all-reduce link rate {link:.1f} GB/s > 50")


def main():
    a, b = sys.argv[1], sys.argv[2]
    (ea, ra), (eb, rb) = load(a), load(b)
    for name, e, r in (("A", ea, ra), ("B", eb, rb)):
        table(f"{name} (threshold {e['threshold']} bytes)", r)
    print()
    check_one("A", ea, ra)
    check_one("B", eb, rb)
    pa = {e["size_bucket"]: e["path"] for e in ea["rows"]}
    pb = {e["size_bucket"]: e["path"] for e in eb["rows"]}
    moved = sorted(s for s in pa if pb.get(s) != pa[s])
    seen = {(r["path"], r["size_bucket"]) for r in rb["paths"]}
    check(len(moved) > 0 and all((pb[s], s) in seen and (pa[s], s) not in seen for s in moved),
          f"B moved {moved} from A's path to its own")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
