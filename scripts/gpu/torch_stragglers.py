#!/usr/bin/env python3
"""Torch + NCCL loops with a known straggler, for linkprof's arrival checks.

Run under `linkprof record -- python3 torch_stragglers.py MODE OUT_DIR`:

  delay  rank 1 sleeps --delay-ms before each of --iters all-reduces (4 MiB
         fp32); every rank synchronizes after each, so no rank runs ahead:
         rank 1 should be last in every collective, the others waiting
         --delay-ms for it.
  stop   the same loop without delay; rank 1 stops itself with SIGSTOP
         instead of its --stop-at-th all-reduce (from 0), which rank 0 has
         entered: a hang linkprof must report live, naming rank 1.

Each rank writes OUT_DIR/rank-R.json: its pid, the CLOCK_MONOTONIC time
before each all-reduce (time.monotonic_ns), and for a stopped rank when it
stopped. The parent writes OUT_DIR/parent.pid (the stop mode never ends by
itself: the caller kills the pids).
"""
import argparse, json, os, signal, time

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def dump(args, rank, rec):
    with open(os.path.join(args.out, f"rank-{rank}.json"), "w") as f:
        json.dump(rec, f)


def worker(rank, args):
    world = args.world
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29547", RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    dev = torch.device("cuda", rank)
    torch.cuda.set_device(dev)
    dist.init_process_group("nccl", rank=rank, world_size=world, device_id=dev)
    t = torch.ones(1 << 20, dtype=torch.float32, device=dev)
    dist.all_reduce(t)  # warm-up: NCCL connects lazily in the first call
    torch.cuda.synchronize(dev)
    time.sleep(1.0)
    rec = dict(rank=rank, pid=os.getpid(), mode=args.mode, delay_ms=args.delay_ms, calls_ns=[])
    dump(args, rank, rec)  # the pid, for whoever must kill a stopped loop
    for i in range(args.iters):
        if args.mode == "stop" and rank == 1 and i == args.stop_at:
            rec["stop_ns"], rec["stop_iter"] = time.monotonic_ns(), i
            dump(args, rank, rec)
            os.kill(os.getpid(), signal.SIGSTOP)
        if args.mode == "delay" and rank == 1:
            time.sleep(args.delay_ms / 1e3)
        rec["calls_ns"].append(time.monotonic_ns())
        dist.all_reduce(t)
        torch.cuda.synchronize(dev)
    dump(args, rank, rec)
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["delay", "stop"])
    p.add_argument("out")
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--delay-ms", type=float, default=20.0)
    p.add_argument("--stop-at", type=int, default=100)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "parent.pid"), "w") as f:
        f.write(str(os.getpid()))
    if args.mode == "stop":
        args.iters = max(args.iters, args.stop_at + 1000)
    mp.spawn(worker, args=(args,), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
