#!/usr/bin/env python3
"""All-reduces routed by size as vLLM routes them, for linkprof's path table.

Run under `linkprof record -- python3 torch_paths.py OUT_DIR --threshold BYTES`:
2 ranks all-reduce bf16 buffers of 64 KiB, 256 KiB, 1 MiB, 4 MiB and 32 MiB,
one size at a time (a second of idle link between sizes), each size through
torch symmetric memory's two-shot all-reduce when it is smaller than
--threshold and through NCCL (torch.distributed.all_reduce) otherwise:
vLLM's rule, `size < limit`. A threshold of exactly 1 MiB sends the 1 MiB
buffers to NCCL.

Rank 0 writes OUT_DIR/expected.json: per (op, size bucket), the calls each
rank made (warm-ups included), the payload per call and the path, with the
size bucket named as linkprof names it ([2^k, 2^(k+1)), "1MiB-2MiB").
"""
import argparse, json, os, time

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import torch
import torch.distributed as dist
import torch.distributed._symmetric_memory as symm_mem
import torch.multiprocessing as mp

KiB, MiB = 1 << 10, 1 << 20
SIZES = [(64 * KiB, 400), (256 * KiB, 400), (1 * MiB, 200), (4 * MiB, 100), (32 * MiB, 20)]  # bytes, calls


def bucket(b):
    """linkprof's size bucket name (internal/units.Bucket)."""
    if b == 0:
        return "0B"
    low = 1 << (b.bit_length() - 1)

    def short(v):
        for i, u in enumerate(["B", "KiB", "MiB", "GiB", "TiB"]):
            if v < 1024 ** (i + 1) or u == "TiB":
                s = f"{v / 1024 ** i:.2f}".rstrip("0").rstrip(".")
                return s + u
    return short(low) + "-" + short(2 * low)


class Calls:
    def __init__(self):
        self.rows = {}

    def add(self, op, path, payload):
        r = self.rows.setdefault(f"{op} {bucket(payload)}", dict(op=op, path=path, size_bucket=bucket(payload),
                                                                  payload=payload, calls=0))
        r["calls"] += 1


def worker(rank, args):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29548", RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE="2")
    dev = torch.device("cuda", rank)
    torch.cuda.set_device(dev)
    dist.init_process_group("nccl", rank=rank, world_size=2, device_id=dev)
    group = dist.group.WORLD.group_name
    if hasattr(symm_mem, "enable_symm_mem_for_group"):
        symm_mem.enable_symm_mem_for_group(group)  # torch before 2.8 needs it
    top = max(b for b, _ in SIZES) // 2
    symm = symm_mem.empty(top, dtype=torch.bfloat16, device=dev)
    symm_mem.rendezvous(symm, group)
    plain = torch.ones(top, dtype=torch.bfloat16, device=dev)
    calls = Calls()

    def all_reduce(nbytes):
        n = nbytes // 2
        if nbytes < args.threshold:
            torch.ops.symm_mem.two_shot_all_reduce_(symm[:n], "sum", group)
            calls.add("SymmMemTwoShotAllReduce", "symm-mem", nbytes)
        else:
            dist.all_reduce(plain[:n])
            calls.add("AllReduce", "nccl", nbytes)

    for nbytes, _ in SIZES:  # warm-up: NCCL and symmetric memory connect lazily
        all_reduce(nbytes)
    torch.cuda.synchronize(dev)
    time.sleep(1.0)
    for nbytes, reps in SIZES:
        for _ in range(reps):
            all_reduce(nbytes)
        torch.cuda.synchronize(dev)
        dist.barrier()
        time.sleep(1.0)
    if rank == 0:
        with open(os.path.join(args.out, "expected.json"), "w") as f:
            json.dump(dict(threshold=args.threshold, ranks=2, rows=list(calls.rows.values())), f, indent=1)
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--threshold", type=int, required=True, help="bytes: smaller buffers go to symmetric memory")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    mp.spawn(worker, args=(args,), nprocs=2)


if __name__ == "__main__":
    main()
