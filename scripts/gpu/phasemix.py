#!/usr/bin/env python3
"""Phases of known collectives, the attribution truth of issue 11.

Each phase runs one kind of collective (or, in `two_comms`, two at once on
two communicators and two streams) and ends with a synchronize and an idle
gap, so the NVLink bytes a GPU moved during a phase belong to that phase:
`go run ./scripts/gpu/attribcheck REC phases.json` compares them with what
linkprof attributed. Rank 0 writes the phases (ops, calls, payload, wall
clock start and end) to OUT_JSON.

  launch:  linkprof record -o REC -- python3 phasemix.py OUT_JSON --world 2
  attach:  python3 phasemix.py OUT_JSON --world 2 --wait-file READY &
           (the ranks create their communicators and warm up, write
           OUT_JSON.inited, then wait for READY: linkprof record -p PID
           --ready-file READY attaches to communicators it never saw made)

--set symm (symm-eager, symm-graph) runs torch symmetric memory phases
instead (symmphases.py, scripts/gpu/validate_symmmem.sh); --set waves runs
tensor-parallel prefill waves of random token counts, matmuls between
their all-reduces, sizes on both sides of NCCL's protocol switch.

--net runs the phases over NCCL's network transport between the local
ranks (NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_NET=Socket
NCCL_SOCKET_IFNAME=lo, unless set): their bytes cross lo, not NVLink;
`attribcheck -link net` checks the network link (scripts/gpu/validate_net.sh).
Export those variables before starting it when linkprof attaches: it reads
the NCCL variables of the process it is given.
"""
NET_ENV = dict(NCCL_P2P_DISABLE="1", NCCL_SHM_DISABLE="1", NCCL_NET="Socket", NCCL_SOCKET_IFNAME="lo")
import argparse, json, os, time

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
os.environ.setdefault("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1")
os.environ.setdefault("NVSHMEM_DISABLE_NVLS", "1")

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

KiB, MiB = 1 << 10, 1 << 20
GAP_S = 0.3
BF16 = 2


def all_reduce(numel, reps):
    def run(ctx):
        x = torch.ones(numel, dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(reps):
            dist.all_reduce(x)
            ctx.log("AllReduce", numel)
    return run


def all_gather(numel, reps):
    def run(ctx):
        shard = torch.ones(numel, dtype=torch.bfloat16, device=ctx.dev)
        full = torch.empty(numel * ctx.world, dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(reps):
            dist.all_gather_into_tensor(full, shard)
            ctx.log("AllGather", numel)
    return run


def reduce_scatter(numel, reps):
    def run(ctx):
        full = torch.ones(numel * ctx.world, dtype=torch.bfloat16, device=ctx.dev)
        shard = torch.empty(numel, dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(reps):
            dist.reduce_scatter_tensor(shard, full)
            ctx.log("ReduceScatter", numel)
    return run


def all_to_all_even(numel, reps):
    def run(ctx):
        x = torch.ones(numel, dtype=torch.bfloat16, device=ctx.dev)
        out = torch.empty_like(x)
        for _ in range(reps):
            dist.all_to_all_single(out, x)
            ctx.log("AlltoAll", numel // ctx.world)
    return run


def uneven_splits(world, rank, unit):
    """Rank r sends (r + p + 1) units to peer p: uneven, self included."""
    send = [(rank + p + 1) * unit for p in range(world)]
    recv = [(p + rank + 1) * unit for p in range(world)]
    return send, recv


def all_to_all_uneven(unit, reps):
    def run(ctx):
        send, recv = uneven_splits(ctx.world, ctx.rank, unit)
        x = torch.ones(sum(send), dtype=torch.bfloat16, device=ctx.dev)
        out = torch.empty(sum(recv), dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(reps):
            dist.all_to_all_single(out, x, output_split_sizes=recv, input_split_sizes=send)
            # NCCL sees one grouped Send and Recv per peer, self included.
            for p in range(ctx.world):
                ctx.log("Send", send[p])
                ctx.log("Recv", recv[p])
    return run


def broadcast(numel, reps):
    def run(ctx):
        x = torch.ones(numel, dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(reps):
            dist.broadcast(x, src=0)
            ctx.log("Broadcast", numel)
    return run


def two_comms(ar_numel, ag_numel, reps):
    """All-reduce on the default communicator while all-gather runs on a
    second one (its own NCCL stream): the link is shared."""
    def run(ctx):
        x = torch.ones(ar_numel, dtype=torch.bfloat16, device=ctx.dev)
        shard = torch.ones(ag_numel, dtype=torch.bfloat16, device=ctx.dev)
        full = torch.empty(ag_numel * ctx.world, dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(reps):
            a = dist.all_reduce(x, async_op=True)
            b = dist.all_gather_into_tensor(full, shard, group=ctx.second, async_op=True)
            a.wait()
            b.wait()
            ctx.log("AllReduce", ar_numel)
            ctx.log("AllGather", ag_numel)
    return run


def tp_wave(tokens, layers, hidden=4096):
    """A tensor-parallel prefill wave: per layer a matmul, then an
    all-reduce of its output (tokens x hidden bf16). Token counts from 96
    to 512 put the messages (0.75-4 MiB) on both sides of NCCL's switch
    from LL to Simple (between 1 and 2 MiB on H200, docs/validation.md)."""
    def run(ctx):
        x = torch.ones(tokens, hidden, dtype=torch.bfloat16, device=ctx.dev)
        w = torch.full((hidden, hidden), 1e-4, dtype=torch.bfloat16, device=ctx.dev)
        for _ in range(layers):
            y = x @ w
            dist.all_reduce(y)
            ctx.log("AllReduce", tokens * hidden)
    return run


def wave_phases(seed=11, waves=12, layers=32):
    """Waves of random token counts (the same on every rank: seeded)."""
    import random
    rng = random.Random(seed)
    return [("wave_%d_tokens_%d" % (i, t), tp_wave(t, layers), None)
            for i, t in enumerate(rng.randrange(96, 513, 8) for _ in range(waves))]


# name, phase, and for a phase of two ops the solo phases that give each
# op's bytes per call (attribcheck splits the phase's bytes by them).
PHASES = [
    ("all_reduce_16KiB", all_reduce(8 * KiB, 400), None),
    ("all_reduce_4MiB", all_reduce(2 * MiB, 40), None),
    ("all_reduce_32MiB", all_reduce(16 * MiB, 10), None),
    ("all_gather_8MiB", all_gather(4 * MiB, 20), None),
    ("reduce_scatter_8MiB", reduce_scatter(4 * MiB, 20), None),
    ("all_to_all_even_32MiB", all_to_all_even(16 * MiB, 10), None),
    ("all_to_all_uneven", all_to_all_uneven(1 * MiB, 10), None),
    ("broadcast_16MiB", broadcast(8 * MiB, 20), None),
    ("two_comms", two_comms(16 * MiB, 4 * MiB, 10),
     {"AllReduce": "all_reduce_32MiB", "AllGather": "all_gather_8MiB"}),
]


class Ctx:
    def __init__(self, rank, world, dev, second, state=None):
        self.rank, self.world, self.dev, self.second = rank, world, dev, second
        self.state = state  # what the phase set's setup made
        self.calls = {}

    def log(self, op, numel):
        c = self.calls.setdefault(op, dict(calls=0, payload_bytes=0))
        c["calls"] += 1
        c["payload_bytes"] += numel * BF16


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.05)


def phase_set(name):
    """The phases of a set and its setup (rank, device) -> state, or None."""
    if name == "nccl":
        return PHASES, None
    if name == "waves":
        return wave_phases(), None
    import symmphases  # scripts/gpu: torch symmetric memory
    return symmphases.SETS[name], symmphases.setup


def worker(rank, args):
    world = args.world
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(args.port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    dev = torch.device("cuda", rank)
    torch.cuda.set_device(dev)
    dist.init_process_group("nccl", rank=rank, world_size=world, device_id=dev)
    second = dist.new_group(backend="nccl")
    warm = torch.ones(1, device=dev)
    dist.all_reduce(warm)
    dist.all_reduce(warm, group=second)
    torch.cuda.synchronize(dev)
    # Fill torch's caching allocator once: a phase's first large tensor
    # would otherwise cudaMalloc after the barrier, and one rank doing so
    # started a 32 MiB phase 9 ms after the other (two honest bursts on
    # one GPU: docs/validation.md). 1 GiB covers every phase's tensors.
    torch.empty(1 << 30, dtype=torch.uint8, device=dev)
    # And make cuBLAS's handle once: a process's first matmul takes tens of
    # ms, and rank 0 entered the first wave of --set waves 27 ms after rank
    # 1 (its first all-reduce's bytes, then quiet: two bursts, attached).
    torch.ones(64, 64, device=dev) @ torch.ones(64, 64, device=dev)
    torch.cuda.synchronize(dev)
    phase_list, setup = phase_set(args.set)
    state = setup(rank, dev) if setup else None
    if args.wait_file:
        if rank == 0:
            open(args.out + ".inited", "w").close()
        wait_for(args.wait_file)
    time.sleep(1.0)  # the sampler settles; the warm-up is out of every phase
    phases = []
    for name, fn, ref in phase_list:
        ctx = Ctx(rank, world, dev, second, state)
        torch.cuda.synchronize(dev)
        dist.barrier(device_ids=[rank])
        torch.cuda.synchronize(dev)
        t0 = time.time()
        fn(ctx)
        torch.cuda.synchronize(dev)
        phases.append(dict(phase=name, ops=ctx.calls, start_wall=t0, end_wall=time.time(), per_call_from=ref))
        time.sleep(GAP_S)
    if rank == 0:
        with open(args.out, "w") as f:
            json.dump(dict(world=world, set=args.set, phases=phases, transport="net" if args.net else "p2p",
                           nccl_env={k: os.environ.get(k) for k in NET_ENV},
                           tensor_numel_offset=getattr(state, "numel_offset", None)), f, indent=1)
    dist.destroy_process_group()
    if getattr(state, "graphs", None):
        # Leave without destroying the CUDA graphs: destroying graphs hung on
        # the GPU box once (scripts/gpu_graphs.py).
        os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--wait-file", help="after warm-up, wait for this file before the phases")
    p.add_argument("--port", type=int, default=29545)
    p.add_argument("--set", default="nccl", choices=["nccl", "waves", "symm", "symm-eager", "symm-graph"],
                   help="nccl: the NCCL phases below; waves: tensor-parallel prefill waves of random "
                   "token counts (tp_wave); symm*: torch symmetric memory (symmphases.py)")
    p.add_argument("--net", action="store_true",
                   help="NCCL's network transport between the local ranks, over lo (NET_ENV)")
    args = p.parse_args()
    if args.net:
        for k, v in NET_ENV.items():
            os.environ.setdefault(k, v)  # the spawned ranks inherit them
    mp.spawn(worker, args=(args,), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
