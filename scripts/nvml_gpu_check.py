#!/usr/bin/env python3
"""GPU check of the NVML sampler (issue 7, item 9).

Runs torch workloads with known NVLink payloads while `linkprof record
--nvml-only` samples, then checks that the recorded DATA_TX delta of each
phase matches the expected bytes within 1% (docs/nccl-facts.md ground-truth table,
plus GPU0 -> GPU1 peer copies).

Needs 2 GPUs joined by NVLink, python3 with torch (NCCL), root (for linkprof).

    sudo python3 scripts/nvml_gpu_check.py --linkprof ./linkprof

It reads the trace file itself (trace.lpt: header, then frames; samples are
64-byte records, docs/trace-format.md), so it needs no other tool.
Exit 0 when every phase is within tolerance, 1 otherwise.
"""
import argparse
import json
import os
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

KIB = 1024
MIB = 1024 * 1024
QUIET_S = 0.5  # idle time around each phase, so no other traffic falls in its window
REC_SAMPLES = 9
SAMPLE = struct.Struct("<IIqqqQQQQ")  # trace.Sample, 64 bytes
SAMPLE_OK = 1


def collectives(rank, world, port, phase_file):
    """Rank body: the ground-truth phases of docs/nccl-facts.md; rank 0 logs the times."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=world)
    n = world
    phases = [
        # name, tensor bytes, calls, expected rank-0 DATA_TX bytes, op
        ("all_reduce 32 MiB x20", 32 * MIB, 20, 20 * 2 * (n - 1) // n * 32 * MIB, "ar"),
        # Small messages use NCCL's LL protocol: data + flags, 2x the bytes.
        ("all_reduce 32 KiB x200 (LL)", 32 * KIB, 200, 200 * 2 * (n - 1) // n * 32 * KIB * 2, "ar"),
        ("all_to_all_single 32 MiB x1", 32 * MIB, 1, (n - 1) * 32 * MIB // n, "a2a"),
    ]
    log = []
    for name, size, calls, expected, op in phases:
        x = torch.ones(size // 2, dtype=torch.bfloat16, device="cuda")
        out = torch.empty_like(x)
        # Warm up outside the window: the first call sets up NCCL channels.
        run_op(op, x, out)
        torch.cuda.synchronize()
        dist.barrier()
        torch.cuda.synchronize()
        time.sleep(QUIET_S)
        start = time.monotonic_ns()  # CLOCK_MONOTONIC, as the trace
        for _ in range(calls):
            run_op(op, x, out)
        torch.cuda.synchronize()
        end = time.monotonic_ns()
        time.sleep(QUIET_S)
        log.append(dict(name=name, gpu=0, start_ns=start, end_ns=end, expected_bytes=expected))
    dist.barrier()
    dist.destroy_process_group()
    if rank == 0:
        with open(phase_file, "w") as f:
            json.dump(log, f)


def run_op(op, x, out):
    if op == "ar":
        dist.all_reduce(x)
    else:
        dist.all_to_all_single(out, x)


def peer_copies(copies, mib):
    """GPU0 -> GPU1 copies in one process: GPU 0 sends copies x mib MiB."""
    a = torch.ones(mib * MIB // 4, dtype=torch.float32, device="cuda:0")
    b = torch.empty_like(a, device="cuda:1")
    b.copy_(a)  # warm-up, enables peer access
    torch.cuda.synchronize(0)
    torch.cuda.synchronize(1)
    time.sleep(QUIET_S)
    start = time.monotonic_ns()
    for _ in range(copies):
        b.copy_(a)
    torch.cuda.synchronize(0)
    torch.cuda.synchronize(1)
    end = time.monotonic_ns()
    time.sleep(QUIET_S)
    return dict(name=f"peer copy GPU0->GPU1 {mib} MiB x{copies}", gpu=0,
                start_ns=start, end_ns=end, expected_bytes=copies * mib * MIB)


def read_samples(path):
    """Samples by GPU from a trace.lpt, stopping cleanly at a cut-off frame."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"LPTRACE\0":
        sys.exit(f"{path}: not a linkprof trace")
    major = struct.unpack_from("<H", data, 8)[0]
    if major != 1:
        sys.exit(f"{path}: trace format {major}.x, this script reads 1.x")
    off, by_gpu = 16, {}
    while off + 8 <= len(data):
        size, typ = struct.unpack_from("<IH", data, off)
        if off + 8 + size + 4 > len(data):
            break
        if typ == REC_SAMPLES:
            for p in range(off + 8, off + 8 + size, SAMPLE.size):
                s = SAMPLE.unpack_from(data, p)
                by_gpu.setdefault(s[0], []).append(s)
        off += 8 + size + 4
    return by_gpu


def delta(samples, phase):
    """DATA_TX bytes between the last good sample before the phase and the
    first good one after it (the counters are cumulative)."""
    ok = [s for s in samples if s[1] & SAMPLE_OK]
    before = [s for s in ok if s[3] < phase["start_ns"]]
    after = [s for s in ok if s[2] > phase["end_ns"] + 20_000_000]
    if not before or not after:
        return None
    return (after[0][5] - before[-1][5]) * KIB


def per_second(ss):
    """Samples in each whole second from the first, as a list."""
    counts = {}
    for s in ss:
        sec = int((s[2] - ss[0][2]) // 1e9)
        counts[sec] = counts.get(sec, 0) + 1
    return [counts.get(i, 0) for i in range(max(counts))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--linkprof", default="./linkprof", help="linkprof binary")
    ap.add_argument("--out", help="recording folder (default: a new temp folder)")
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--copy-mib", type=int, default=512)
    ap.add_argument("--tolerance", type=float, default=0.01)
    ap.add_argument("--record-flags", default="", help="more flags for linkprof record, e.g. '--nvml-schedule round-robin'")
    args = ap.parse_args()
    if torch.cuda.device_count() < 2:
        sys.exit("needs 2 GPUs")
    out = args.out or tempfile.mkdtemp(prefix="linkprof-nvml-check-")
    rec = subprocess.Popen([args.linkprof, "record", "--nvml-only", "--gpus", "0,1", "-o", out]
                           + shlex.split(args.record_flags))
    time.sleep(3)  # NVML init and the first samples
    if rec.poll() is not None:
        sys.exit(f"linkprof record exited with {rec.returncode}")
    phase_file = os.path.join(tempfile.mkdtemp(), "phases.json")
    try:
        mp.spawn(collectives, args=(2, 29511, phase_file), nprocs=2, join=True)
        phases = json.load(open(phase_file))
        phases.append(peer_copies(args.copies, args.copy_mib))
    finally:
        rec.send_signal(signal.SIGINT)
        rec.wait(timeout=60)
    samples = read_samples(os.path.join(out, "trace.lpt"))
    for gpu, ss in sorted(samples.items()):
        secs = (ss[-1][2] - ss[0][2]) / 1e9
        print(f"GPU {gpu}: {len(ss)} samples, {len(ss) / secs:.0f} Hz; per second: {per_second(ss)}")
    failed = 0
    print(f"{'phase':40s} {'expected KiB':>14s} {'measured KiB':>14s} {'error':>8s}")
    for p in phases:
        got = delta(samples.get(p["gpu"], []), p)
        if got is None:
            print(f"{p['name']:40s} no samples around the phase: FAIL")
            failed += 1
            continue
        err = (got - p["expected_bytes"]) / p["expected_bytes"]
        verdict = "ok" if abs(err) <= args.tolerance else "FAIL"
        failed += verdict != "ok"
        print(f"{p['name']:40s} {p['expected_bytes'] // KIB:14d} {got // KIB:14d} {100 * err:7.3f}% {verdict}")
    print(f"trace: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
