#!/usr/bin/env python3
"""One host's share of a torch job, for linkprof merge on one GPU box
(scripts/gpu/validate_merge.sh). Each invocation starts ranks FIRST to
FIRST+LOCAL-1 of a WORLD-rank job whose ranks meet through torch's TCP store
at 127.0.0.1:PORT, as the torchrun agents of two nodes would; rank r drives
cuda:r. Started under two recorders (each a "host"), its NCCL communicators
are created with ncclUniqueIds the store hands every rank.

Phases, each ended by a synchronize and a 0.3 s idle gap: all-reduce of 32 MiB
bf16 on the world, all-gather of 8 MiB per rank on the world, broadcast of
16 MiB on a second communicator (dist.new_group of every rank: its own NCCL
communicator and unique id). Rank 0 writes the calls each rank made per op
to OUT_JSON.

  python3 merge_job.py OUT_JSON --world 2 --first 0 --local 1 --port 29555 &
  python3 merge_job.py OUT_JSON --world 2 --first 1 --local 1 --port 29555
"""
import argparse, json, os, time

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

MiB = 1 << 20
REPS = 40
GAP_S = 0.3


def phase(fn):
    for _ in range(REPS):
        fn()
    torch.cuda.synchronize()
    time.sleep(GAP_S)


def rank_main(local, args):
    rank = args.first + local
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank,
                            world_size=args.world, device_id=torch.device("cuda", rank))
    dev = torch.device("cuda", rank)
    x = torch.ones(16 * MiB, dtype=torch.bfloat16, device=dev)             # 32 MiB
    g_in = torch.ones(4 * MiB, dtype=torch.bfloat16, device=dev)           # 8 MiB
    g_out = torch.empty(4 * MiB * args.world, dtype=torch.bfloat16, device=dev)
    b = torch.ones(8 * MiB, dtype=torch.bfloat16, device=dev)              # 16 MiB
    other = dist.new_group(list(range(args.world)))
    dist.barrier()
    torch.cuda.synchronize()
    time.sleep(GAP_S)
    phase(lambda: dist.all_reduce(x))
    phase(lambda: dist.all_gather_into_tensor(g_out, g_in))
    phase(lambda: dist.broadcast(b, src=0, group=other))
    dist.barrier()
    if rank == 0:
        with open(args.out, "w") as f:
            json.dump({"world": args.world, "calls_per_rank": {"AllReduce": REPS, "AllGather": REPS, "Broadcast": REPS},
                       "payload_per_call": {"AllReduce": 32 * MiB, "AllGather": 8 * MiB, "Broadcast": 16 * MiB}}, f)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--local", type=int, default=2)
    ap.add_argument("--port", type=int, default=29555)
    args = ap.parse_args()
    mp.spawn(rank_main, args=(args,), nprocs=args.local)


if __name__ == "__main__":
    main()
