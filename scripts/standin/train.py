#!/usr/bin/env python3
"""linkprof's training stand-in for the torchtitan card: FSDP (torch's
fully_shard, as torchtitan uses it) on a small Llama-shaped model with
random weights and random tokens, forward, backward and optimizer steps.
Each transformer block is its own FSDP unit, so every step all-gathers each
block's parameters (forward, and again for backward) and reduce-scatters
its gradients: the per-layer pattern of FSDP training.

Run it as torchtitan is run, under torchrun (one process per GPU):

  python3 -m torch.distributed.run --standalone --nproc-per-node 2 scripts/standin/train.py --steps 20

LINKPROF_STANDIN_GATE=FILE makes every rank wait for FILE before it creates
its NCCL communicator (linkprof collect creates it once its probes are in).
SIGINT and SIGTERM end a rank at once (no Python teardown).
"""

import os

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import argparse
import json
import math
import signal
import sys
import time

import shapes

GATE_ENV = "LINKPROF_STANDIN_GATE"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="FSDP training stand-in (torchtitan's traffic shape)")
    p.add_argument("--model", default="meta-llama/Llama-3.1-8B", help="model id: picks the shape (shapes.py)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=4, help="sequences per rank per step")
    p.add_argument("--seq", type=int, default=1024, help="tokens per sequence")
    for k in ("hidden", "layers", "heads", "ffn", "vocab"):
        p.add_argument("--" + k, type=int, default=None, help="override the model's stand-in shape")
    p.add_argument("--info", help="rank 0 writes what ran (shape, steps, tokens/s) here as JSON")
    args = p.parse_args(argv)
    args.shape = shapes.resolve(args.model, vars(args))
    args.shape["kind"] = "train"
    return args


def wait_gate(timeout=600):
    path = os.environ.get(GATE_ENV)
    if not path:
        return
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise SystemExit(f"standin: {path} did not appear in {timeout}s")
        time.sleep(0.05)


def build(shape, device):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    h, nh = shape["hidden"], shape["heads"]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.RMSNorm(h), nn.RMSNorm(h)
            self.qkv = nn.Linear(h, 3 * h, bias=False)
            self.o = nn.Linear(h, h, bias=False)
            self.gate_up = nn.Linear(h, 2 * shape["ffn"], bias=False)
            self.down = nn.Linear(shape["ffn"], h, bias=False)

        def forward(self, x):
            b, n, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, nh, h // nh).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.o(a.transpose(1, 2).reshape(b, n, h))
            gate, up = self.gate_up(self.ln2(x)).chunk(2, dim=-1)
            return x + self.down(F.silu(gate) * up)

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(shape["vocab"], h)
            self.blocks = nn.ModuleList(Block() for _ in range(shape["layers"]))
            self.norm = nn.RMSNorm(h)
            self.out = nn.Linear(h, shape["vocab"], bias=False)

        def forward(self, tokens):
            x = self.embed(tokens)
            for blk in self.blocks:
                x = blk(x)
            return self.out(self.norm(x))

    with torch.device(device):
        return Llama()


def fully_shard_model(m):
    """FSDP2 as torchtitan applies it: each block, then the root; bf16
    compute, fp32 gradient reduction."""
    import torch

    try:
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    except ImportError:  # torch < 2.6
        from torch.distributed._composable.fsdp import MixedPrecisionPolicy, fully_shard
    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    for blk in m.blocks:
        fully_shard(blk, mp_policy=mp)
    fully_shard(m, mp_policy=mp)
    return m


def main(argv=None):
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    args = parse_args(argv)
    wait_gate()
    import datetime

    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    torch.cuda.set_device(local)
    device = torch.device("cuda", local)
    dist.init_process_group("nccl", timeout=datetime.timedelta(minutes=10), device_id=device)
    torch.manual_seed(1234)
    m = fully_shard_model(build(args.shape, device))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    gen = torch.Generator(device=device).manual_seed(rank)
    vocab = args.shape["vocab"]
    times = []
    for step in range(args.steps):
        t0 = time.time()
        tokens = torch.randint(0, vocab, (args.batch, args.seq + 1), device=device, generator=gen)
        logits = m(tokens[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1).float(), tokens[:, 1:].flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_value = loss.item()  # waits for the step
        times.append(time.time() - t0)
        if rank == 0:
            print(f"standin: step {step + 1}/{args.steps} loss {loss_value:.3f} {times[-1] * 1e3:.0f} ms", flush=True)
    dist.barrier()
    if rank == 0:
        report(args, world, times, torch)
    sys.stdout.flush()
    os._exit(0)  # no teardown (see engine.py)


def report(args, world, times, torch):
    steady = times[1:] or times
    tokens = args.batch * args.seq * world
    tps = tokens * len(steady) / sum(steady) if sum(steady) else math.nan
    desc = shapes.describe(args.shape) + f"; FSDP over {world} ranks, {args.batch}x{args.seq} tokens per rank per step"
    print(f"standin: done: {args.steps} steps, {tps:.0f} tokens/s ({desc})", flush=True)
    if args.info:
        info = {"shape": args.shape, "description": desc, "ranks": world, "steps": args.steps,
                "batch": args.batch, "seq": args.seq, "tokens_per_s": tps, "step_s": times,
                "torch": torch.__version__, "nccl": ".".join(map(str, torch.cuda.nccl.version())),
                "collectives_per_step": ["all_gather per block (forward, backward)",
                                         "reduce_scatter per block (gradients)"]}
        with open(args.info + ".tmp", "w") as f:
            json.dump(info, f, indent=1)
        os.replace(args.info + ".tmp", args.info)


if __name__ == "__main__":
    main()
