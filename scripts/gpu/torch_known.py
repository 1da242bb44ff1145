#!/usr/bin/env python3
"""A torch + NCCL workload of known traffic, for linkprof's GPU validation.

Spawns WORLD ranks (one process per GPU). Each rank creates its NCCL
communicator (a warm-up all_reduce), writes its pid to READY_DIR and waits for
GO_FILE, so linkprof can attach to the already running ranks. Then it issues
the phases below, synchronising between them, and rank 0 writes what was
issued (per op: calls, count, dtype, payload bytes, wire bytes expected on
NVLink for each rank) to the JSON file given.

usage: torch_known.py OUT_JSON READY_DIR GO_FILE [--world N] [--repeat K] [--gap-ms G]
"""
import argparse, json, os, sys, time

# Never NVLink SHARP / multicast on the lent machines.
os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

MiB = 1 << 20

# (name, op, numel, repeat multiplier). bf16 everywhere: 2 bytes per element.
PHASES = [
    ("allreduce_4KiB", "AllReduce", 2 * 1024, 20),          # LL
    ("allreduce_64KiB", "AllReduce", 32 * 1024, 20),        # LL
    ("allreduce_1MiB", "AllReduce", 512 * 1024, 10),        # LL128
    ("allreduce_32MiB", "AllReduce", 16 * MiB, 4),          # Simple
    ("allgather_8MiB", "AllGather", 4 * MiB, 4),            # sendcount per rank
    ("alltoall_32MiB", "AlltoAll", 16 * MiB, 4),            # whole send buffer
]


def wire_bytes(op, numel, world):
    """Ring-algorithm bytes one rank sends (docs/nccl-facts.md), protocol factor 1."""
    s = numel * 2
    if op == "AllReduce":
        return 2 * (world - 1) / world * s
    if op == "AllGather":
        return (world - 1) * s          # (n-1)/n of the n*s output
    if op == "AlltoAll":
        return (world - 1) / world * s  # (n-1)/n of the send buffer
    raise ValueError(op)


def run_phase(op, numel, calls, rank, world, dev):
    x = torch.ones(numel, dtype=torch.bfloat16, device=dev)
    if op == "AllGather":
        out = torch.empty(numel * world, dtype=torch.bfloat16, device=dev)
    elif op == "AlltoAll":
        out = torch.empty_like(x)
    for _ in range(calls):
        if op == "AllReduce":
            dist.all_reduce(x)
        elif op == "AllGather":
            dist.all_gather_into_tensor(out, x)
        else:
            dist.all_to_all_single(out, x)
    torch.cuda.synchronize(dev)


def worker(rank, args):
    world = args.world
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29533", RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    dev = torch.device("cuda", rank)
    torch.cuda.set_device(dev)
    dist.init_process_group("nccl", rank=rank, world_size=world, device_id=dev)
    warm = torch.ones(1, device=dev)
    dist.all_reduce(warm)                       # creates the communicator
    torch.cuda.synchronize(dev)
    with open(os.path.join(args.ready_dir, f"rank{rank}.pid"), "w") as f:
        f.write(str(os.getpid()))
    while not os.path.exists(args.go_file):
        time.sleep(0.01)
    issued = []
    for name, op, numel, mult in PHASES:
        calls = mult * args.repeat
        t0 = time.time()
        run_phase(op, numel, calls, rank, world, dev)
        issued.append(dict(phase=name, op=op, calls=calls, count=numel if op != "AlltoAll" else numel // world,
                           dtype="bfloat16", payload_bytes=calls * (numel * 2 if op != "AlltoAll" else numel * 2 // world),
                           wire_bytes_per_rank=calls * wire_bytes(op, numel, world),
                           start_wall=t0, end_wall=time.time()))
        time.sleep(args.gap_ms / 1000)       # an idle gap between phases
    if rank == 0:
        with open(args.out, "w") as f:
            json.dump(dict(world=world, ranks=issued), f, indent=1)
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out"); p.add_argument("ready_dir"); p.add_argument("go_file")
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--gap-ms", type=float, default=200)
    args = p.parse_args()
    os.makedirs(args.ready_dir, exist_ok=True)
    mp.spawn(worker, args=(args,), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
