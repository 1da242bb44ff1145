#!/usr/bin/env python3
"""Checks linkprof's straggler and stall reports against torch_stragglers.py.

usage: check_stragglers.py WORK   (WORK as validate_stragglers.sh leaves it)

delay: report.json names rank 1 last in >= 95% of the collectives of the
       loop's communicator, and rank 0's median wait is the injected delay
       within 10% (the host-measured gap between the ranks' calls is shown
       beside it).
stop:  report.json has a missing-ranks stall naming rank 1 (its pid) as
       missing from an AllReduce whose previous collective it entered, rank
       0 arrived, detected within 2 s of rank 1's SIGSTOP; the recording
       ended cleanly (report written).
Prints one line per check and PASS/FAIL; exits 1 on any failure.
"""
import json, os, statistics, sys

W = sys.argv[1]
ok = True


def check(name, cond, detail):
    global ok
    ok &= bool(cond)
    print(f"{'PASS' if cond else 'FAIL'} {name}: {detail}")


def load(path):
    with open(path) as f:
        return json.load(f)


def truth(mode):
    return {r: load(os.path.join(W, f"{mode}-truth", f"rank-{r}.json")) for r in (0, 1)}


def delay():
    rep, tr = load(os.path.join(W, "delay", "report.json")), truth("delay")
    comm = max(rep["arrivals"]["comms"], key=lambda c: c["collectives"])
    ranks = {r["rank"]: r for r in comm["ranks"]}
    delay_ns = tr[1]["delay_ms"] * 1e6
    host = statistics.median(b - a for a, b in zip(tr[0]["calls_ns"], tr[1]["calls_ns"]))
    print(f"comm {comm['comm']}: {comm['collectives']} collectives, {comm['ranks_recorded']}/{comm['nranks']} ranks; "
          f"host-measured gap rank1-rank0 p50 {host/1e6:.3f} ms; notes {rep['arrivals']['notes']}")
    check("delay: rank 1 last", ranks[1]["last_fraction"] >= 0.95, f"{100*ranks[1]['last_fraction']:.1f}% (>= 95%)")
    err = ranks[0]["wait_p50_ns"] / delay_ns - 1
    check("delay: rank 0 waits the injected delay", abs(err) <= 0.10,
          f"wait p50 {ranks[0]['wait_p50_ns']/1e6:.3f} ms p99 {ranks[0]['wait_p99_ns']/1e6:.3f} ms, "
          f"injected {delay_ns/1e6:.1f} ms ({100*err:+.1f}%)")
    check("delay: no stall", not rep["stalls"], f"{len(rep['stalls'])} stalls")


def stop():
    rep, tr = load(os.path.join(W, "stop", "report.json")), truth("stop")
    stalls = [s for s in rep["stalls"] if s["kind"] == "missing-ranks"]
    print("stalls:", json.dumps(rep["stalls"], indent=1))
    check("stop: a missing-ranks stall", stalls, f"{len(stalls)} of {len(rep['stalls'])}")
    if not stalls:
        return
    s = stalls[0]
    miss, arr = s["missing"], s["arrived"]
    named = len(miss) == 1 and miss[0]["rank"] == 1 and miss[0]["pid"] == tr[1]["pid"]
    check("stop: names rank 1 missing", named, f"missing {miss}, rank 1 pid {tr[1]['pid']}")
    check("stop: its pending collective", s["op"] == "AllReduce" and named and miss[0]["last_seq"] == s["seq"] - 1
          and [r["rank"] for r in arr] == [0], f"{s['op']} seq {s['seq']}, rank 1 last seq {miss[0]['last_seq'] if miss else None}")
    if named:
        # Rank 1's last call is in the trace (last_ns, from the start) and
        # in its truth (monotonic): that places the start, so the stop.
        start = tr[1]["calls_ns"][-1] - miss[0]["last_ns"]
        lat = s["detected_ns"] - (tr[1]["stop_ns"] - start)
        check("stop: reported within 2 s", 0 < lat <= 2e9, f"{lat/1e9:.3f} s after SIGSTOP (--stall-after 1s)")
    check("stop: recording ended cleanly", rep.get("duration_ns", 0) > 0, "report.json written after the stop")


for name, fn in (("delay", delay), ("stop", stop)):
    try:
        fn()
    except Exception as e:  # a missing file is a failed check, not a crash
        check(name, False, repr(e))
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
