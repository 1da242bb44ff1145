#!/usr/bin/env python3
"""CUDA-graph validation workload for linkprof (issue 4, item 5).

Two ranks (torch.multiprocessing, one process per GPU, NCCL) run:

  eager      3 all_reduce of --size-mib MiB bf16 on a side stream (torch's
             recommended warm-up before capture)
  capture    torch.cuda.graph capturing --colls all_reduce of the same size
             (ncclAllReduce fires at capture time: not executions)
  replay     the graph replayed --replays times (no host NCCL call)
  decode     a tensor-parallel decode-like loop under graphs: one graph per
             batch size in --batches (L layers of column/row-parallel MLP,
             one all_reduce of batch x hidden bf16 per layer), --steps steps
             cycling through the batch sizes, and one small eager all_reduce
             ("sampling") between replays
  recapture  the first decode graph destroyed and captured again (the driver
             hands its handles out again), replayed --replays times

and prints, as JSON on stdout (rank 0, both ranks' records), what it issued:
per phase the op, element count, dtype, payload bytes and calls, split into
host calls, capture-time calls and replays; the expected executed totals
(`calls` = eager + replays x captured, capture-time calls excluded), the ring
bytes each rank should send over NVLink, and the offset of numel_ in
c10::TensorImpl (for linkprof's custom all-reduce size rule).

Run it under linkprof on a 2-GPU NVLink box, then check the recording
against it (scripts/graphcheck expands the trace with package graphs and
compares per rank: executed calls, payload, capture-time calls, graphs,
and the TensorImpl numel offset; exit 0 when all match):

    sudo ./linkprof record -o /tmp/graphs -- python3 scripts/gpu_graphs.py --out /tmp/issued.json
    go run ./scripts/graphcheck /tmp/graphs /tmp/issued.json
    ./linkprof report /tmp/graphs --json    # ops[].calls and graphs, once wired
"""
import argparse
import ctypes
import json
import os
import sys
import time

# Never NVLink SHARP / multicast on the lent machines; set before CUDA init.
os.environ["NCCL_NVLS_ENABLE"] = "0"
os.environ["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"
os.environ["NVSHMEM_DISABLE_NVLS"] = "1"

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

MiB = 1 << 20
BF16 = 2


class Log:
    """What one rank issued, phase by phase."""

    def __init__(self, world):
        self.world = world
        self.phases = []
        self.graphs = []

    def add(self, name, phase, numel, calls, graph=None):
        self.phases.append({"name": name, "phase": phase, "op": "AllReduce", "count": numel,
                            "dtype": "bfloat16", "payload_bytes": numel * BF16, "calls": calls,
                            "graph": graph})

    def graph(self, name, captured, launches):
        self.graphs.append({"name": name, "captured": captured, "launches": launches})

    def expected(self):
        calls = payload = capture = 0
        for p in self.phases:
            if p["phase"] == "graph-capture":
                capture += p["calls"]
                continue
            calls += p["calls"]
            payload += p["calls"] * p["payload_bytes"]
        ring = 2 * (self.world - 1) / self.world
        return {"AllReduce": {"calls": calls, "payload_bytes": payload,
                              "nvlink_tx_bytes_ring": int(payload * ring)},
                "capture_time_calls": capture}


def numel_offset():
    """Offset of numel_ in c10::TensorImpl: the int64 equal to numel() in
    tensors of different sizes, followed by the ScalarType (uint16)."""
    ts = [(torch.empty(123457, dtype=torch.bfloat16), 15), (torch.empty(98765, dtype=torch.float16), 5),
          (torch.empty(3, 5, dtype=torch.float32), 6)]
    for off in range(16, 256, 8):
        if all(ctypes.c_int64.from_address(t._cdata + off).value == t.numel() and
               ctypes.c_uint16.from_address(t._cdata + off + 8).value == st for t, st in ts):
            return off
    return -1


def capture(graph, body):
    """Capture body into graph. torch captures on a private side stream; its
    NCCL stream joins the capture through an event record and wait."""
    with torch.cuda.graph(graph):
        body()


def phase_eager_and_replay(args, log, dev):
    numel = args.size_mib * MiB // BF16
    x = torch.ones(numel, dtype=torch.bfloat16, device=dev)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            dist.all_reduce(x)
    torch.cuda.current_stream().wait_stream(side)
    log.add("warmup", "eager", numel, 3)

    g = torch.cuda.CUDAGraph()
    capture(g, lambda: [dist.all_reduce(x) for _ in range(args.colls)])
    log.add("big", "graph-capture", numel, args.colls, "big")
    for _ in range(args.replays):
        g.replay()
    torch.cuda.synchronize()
    log.add("big", "graph-replay", numel, args.colls * args.replays, "big")
    log.graph("big", [{"op": "AllReduce", "count": numel}] * args.colls, args.replays)
    return g


class Decode:
    """A TP decode step: per layer, column-parallel up, row-parallel down,
    all_reduce of the partial sums (as vLLM with the NCCL path)."""

    def __init__(self, args, world, dev):
        h, f = args.hidden, 4 * args.hidden // world
        self.layers = [(torch.randn(h, f, dtype=torch.bfloat16, device=dev) * 0.01,
                        torch.randn(f, h, dtype=torch.bfloat16, device=dev) * 0.01)
                       for _ in range(args.layers)]
        self.inputs = {b: torch.randn(b, h, dtype=torch.bfloat16, device=dev) for b in args.batches}
        self.graphs = {}

    def step(self, b):
        x = self.inputs[b]
        for w1, w2 in self.layers:
            y = torch.relu(x @ w1) @ w2
            dist.all_reduce(y)
            x = y
        return x

    def capture(self, b):
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            self.step(b)  # warm-up: one eager step (L all-reduces)
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        capture(g, lambda: self.step(b))
        self.graphs[b] = g


def phase_decode(args, log, world, dev):
    d = Decode(args, world, dev)
    h, L = args.hidden, args.layers
    for b in args.batches:
        d.capture(b)
        log.add(f"decode_b{b}_warmup", "eager", b * h, L)
        log.add(f"decode_b{b}", "graph-capture", b * h, L, f"decode_b{b}")
    sample = torch.ones(2048, dtype=torch.bfloat16, device=dev)
    launches = {b: 0 for b in args.batches}
    for i in range(args.steps):
        b = args.batches[i % len(args.batches)]
        d.graphs[b].replay()
        launches[b] += 1
        dist.all_reduce(sample)  # eager, between replays
    torch.cuda.synchronize()
    log.add("decode_sampling", "eager", sample.numel(), args.steps)
    for b in args.batches:
        log.add(f"decode_b{b}", "graph-replay", b * h, L * launches[b], f"decode_b{b}")
        log.graph(f"decode_b{b}", [{"op": "AllReduce", "count": b * h}] * L, launches[b])
    return d


def phase_recapture(args, log, d):
    """Destroy the first decode graph and capture it again: its handles come
    back (the driver reuses them), the new graph is a new graph."""
    b = args.batches[0]
    d.graphs[b].reset()
    del d.graphs[b]
    torch.cuda.synchronize()
    d.capture(b)
    h, L = args.hidden, args.layers
    log.add(f"recapture_b{b}_warmup", "eager", b * h, L)
    log.add(f"recapture_b{b}", "graph-capture", b * h, L, f"recapture_b{b}")
    for _ in range(args.replays):
        d.graphs[b].replay()
    torch.cuda.synchronize()
    log.add(f"recapture_b{b}", "graph-replay", b * h, L * args.replays, f"recapture_b{b}")
    log.graph(f"recapture_b{b}", [{"op": "AllReduce", "count": b * h}] * L, args.replays)


def rank_main(rank, args, port, queue):
    world = args.world
    torch.cuda.set_device(rank)
    dev = torch.device("cuda", rank)
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, device_id=dev)
    log = Log(world)
    start = time.monotonic_ns()
    g_big = phase_eager_and_replay(args, log, dev)
    d = phase_decode(args, log, world, dev)
    if args.recapture:
        phase_recapture(args, log, d)
    torch.cuda.synchronize()
    queue.put({"rank": rank, "pid": os.getpid(), "world_size": world,
               "nccl_version": ".".join(map(str, torch.cuda.nccl.version())),
               "torch": torch.__version__, "tensor_numel_offset": numel_offset(),
               "duration_ns": time.monotonic_ns() - start,
               "phases": log.phases, "graphs": log.graphs, "expected": log.expected()})
    # Destroying a graph that holds NCCL kernels hung on the GPU box
    # (cudaGraphExecDestroy never returned, with or without linkprof): hand
    # the results over and leave without destroying anything.
    queue.close()
    queue.join_thread()
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--size-mib", type=int, default=32, help="size of the big all_reduce")
    ap.add_argument("--colls", type=int, default=4, help="all_reduces in the big graph")
    ap.add_argument("--replays", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--port", type=int, default=29547)
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--recapture", action="store_true",
                    help="also destroy a graph and capture it again (hung in cudaGraphExecDestroy on H200 + torch 2.11, with or without linkprof)")
    args = ap.parse_args()
    if torch.cuda.device_count() < args.world:
        sys.exit(f"gpu_graphs: needs {args.world} GPUs, found {torch.cuda.device_count()}")

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = []
    for r in range(args.world):
        # linkprof reads RANK/WORLD_SIZE from a process's initial environment.
        os.environ.update(RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(args.world))
        p = ctx.Process(target=rank_main, args=(r, args, args.port, queue))
        p.start()
        procs.append(p)
    results = sorted((queue.get() for _ in procs), key=lambda r: r["rank"])
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        sys.exit(f"gpu_graphs: a rank failed: exit codes {[p.exitcode for p in procs]}")
    out = {"workload": "gpu_graphs", "args": vars(args), "ranks": results}
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
