#!/usr/bin/env python3
"""Torch + NCCL workloads of known traffic for linkprof's attribution check.

Run under `linkprof record -- python3 torch_attrib.py OUT_JSON --world N`.
Each phase uses one kind of collective and is followed by an idle gap, so the
NVLink bytes measured during a phase (DATA_TX) belong to that phase's op: the
ground truth against which attributed bytes per op are compared. Rank 0 writes
the phases (op, calls, sizes, wall-clock start and end) to OUT_JSON.

Phases: a tensor-parallel layer loop (all-reduce of activation size per layer,
bf16, compute between layers), all-gather + reduce-scatter, all_to_all_single,
bursty all-reduces with idle gaps, mixed small (LL) and large (Simple) messages.
"""
import argparse, json, os, time

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

KiB, MiB = 1 << 10, 1 << 20
GAP_S = 0.3


def tp_layer_loop(dev, world, log):
    hidden, tokens, layers, steps = 8192, 8, 32, 40
    w = torch.randn(hidden, hidden // world, dtype=torch.bfloat16, device=dev)
    x = torch.randn(tokens, hidden, dtype=torch.bfloat16, device=dev)
    for _ in range(steps):
        for _ in range(layers):
            y = x[:, : hidden // world] @ w.t()   # the shard's matmul
            dist.all_reduce(y)
            log("AllReduce", y.numel())
    return "tp_layer_loop"


def ag_rs(dev, world, log):
    n = 4 * MiB  # elements per rank: 8 MiB bf16
    shard = torch.ones(n, dtype=torch.bfloat16, device=dev)
    full = torch.empty(n * world, dtype=torch.bfloat16, device=dev)
    for _ in range(10):
        dist.all_gather_into_tensor(full, shard)
        log("AllGather", n)
        dist.reduce_scatter_tensor(shard, full)
        log("ReduceScatter", n)
    return "allgather_reducescatter"


def a2a(dev, world, log):
    n = 16 * MiB
    x = torch.ones(n, dtype=torch.bfloat16, device=dev)
    out = torch.empty_like(x)
    for _ in range(10):
        dist.all_to_all_single(out, x)
        log("AlltoAll", n // world)
    return "all_to_all"


def bursty(dev, world, log):
    x = torch.ones(8 * MiB, dtype=torch.bfloat16, device=dev)
    for _ in range(8):
        for _ in range(3):
            dist.all_reduce(x)
            log("AllReduce", x.numel())
        torch.cuda.synchronize(dev)
        time.sleep(0.05)  # idle between bursts
    return "bursty"


def mixed(dev, world, log):
    small = torch.ones(16 * KiB, dtype=torch.bfloat16, device=dev)   # 32 KiB: LL
    large = torch.ones(16 * MiB, dtype=torch.bfloat16, device=dev)   # 32 MiB: Simple
    for _ in range(20):
        dist.all_reduce(small)
        log("AllReduce", small.numel())
        dist.all_reduce(large)
        log("AllReduce", large.numel())
    return "mixed_small_large"


PHASES = [tp_layer_loop, ag_rs, a2a, bursty, mixed]


def worker(rank, args):
    world = args.world
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29544", RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    dev = torch.device("cuda", rank)
    torch.cuda.set_device(dev)
    dist.init_process_group("nccl", rank=rank, world_size=world, device_id=dev)
    warm = torch.ones(1, device=dev)
    dist.all_reduce(warm)
    torch.cuda.synchronize(dev)
    time.sleep(1.0)  # the sampler settles; the warm-up is out of every phase
    phases = []
    for fn in PHASES:
        calls = {}
        def log(op, count):
            c = calls.setdefault(op, dict(calls=0, payload_bytes=0))
            c["calls"] += 1
            c["payload_bytes"] += count * 2
        torch.cuda.synchronize(dev)
        t0 = time.time()
        name = fn(dev, world, log)
        torch.cuda.synchronize(dev)
        phases.append(dict(phase=name, ops=calls, start_wall=t0, end_wall=time.time()))
        time.sleep(GAP_S)
    if rank == 0:
        with open(args.out, "w") as f:
            json.dump(dict(world=world, phases=phases), f, indent=1)
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--world", type=int, default=2)
    args = p.parse_args()
    mp.spawn(worker, args=(args,), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
