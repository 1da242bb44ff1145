#!/usr/bin/env python3
"""The table of scripts/gpu/validate_collect.sh: one row per collected card
from its folder's report.json, load.json and standin.json, and the run's
runs.tsv (card, exit status, wall seconds, collect arguments).

  python3 scripts/gpu/collect_table.py W > table.md
"""
import json
import os
import sys

OPS = ("AllReduce", "AllGather", "ReduceScatter", "AlltoAll", "Send", "Recv", "CUDAGraph")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def mib(n):
    return f"{n / 2**20:,.1f}"


def row(w, card, rc, wall, args):
    d = os.path.join(w, card)
    rep, ld, info = load(f"{d}/report.json"), load(f"{d}/load.json"), load(f"{d}/standin.json")
    if ld:
        reqs, tps = ld["summary"]["completed"], f"{ld['summary']['output_throughput']:,.0f}"
    elif info and "steps" in info:
        reqs, tps = f"{info['steps']} steps", f"{info['tokens_per_s']:,.0f} (train)"
    else:
        reqs, tps = "-", "-"
    calls = link = unattr = bursts = "-"
    if rep:
        ops = sorted(rep["ops"], key=lambda o: OPS.index(o["op"]) if o["op"] in OPS else 99)
        calls = ", ".join(f"{o['op']} {o['calls']:,}" for o in ops) or "none"
        link = ", ".join(f"{o['op']} {mib(o['nvlink_tx_bytes'])}" for o in ops) or "none"
        total = sum(g["tx_bytes"] for g in rep["gpus"])
        unattr = f"{100 * rep['unattributed']['nvlink_tx_bytes'] / total:.1f}%" if total else "no link bytes"
        bursts = str(rep["bursts"]["count"])
    return f"| {card} | {rc} | {args.strip() or '-'} | {reqs} | {tps} | {calls} | {link} | {unattr} | {bursts} | {wall} |"


def main(w):
    print("| card | exit | collect args | requests | tok/s | calls per op | link TX MiB per op | unattributed | bursts | wall s |")
    print("|---|---:|---|---:|---:|---|---|---:|---:|---:|")
    with open(os.path.join(w, "runs.tsv")) as f:
        for line in f:
            card, rc, wall, args = (line.rstrip("\n").split("\t") + [""] * 4)[:4]
            print(row(w, card, rc, wall, args))


if __name__ == "__main__":
    main(sys.argv[1])
