"""torch symmetric memory phases for phasemix.py (`--set symm`, `symm-eager`,
`symm-graph`): one operator per phase, eager, then the same operators
captured into CUDA graphs while linkprof records and replayed. Each phase
logs the calls linkprof should count (graph phases: replays x captured,
capture-time calls excluded) under the op names report.json uses, with
linkprof's payload convention (the all-reduces' buffer; reduce_scatter_out's
output, per rank).

setup() allocates one symmetric buffer for the largest phase and makes the
group's rendezvous before any phase (and, attached, before linkprof comes),
and prints the running torch's offset of numel_ in c10::TensorImpl, which
linkprof's tensor size rule assumes is 160.
"""
import importlib.util
import os

import torch
import torch.distributed as dist
import torch.distributed._symmetric_memory as symm_mem

KiB, MiB = 1 << 10, 1 << 20
BF16 = 2
MAX_NUMEL = 16 * MiB  # bf16 elements: the 32 MiB two-shot phase

ONE, TWO, RS = "SymmMemOneShotAllReduce", "SymmMemTwoShotAllReduce", "SymmMemReduceScatter"


class Symm:
    """The symmetric buffer, an output buffer and the group's name."""

    def __init__(self, dev):
        self.group = dist.group.WORLD.group_name
        if hasattr(symm_mem, "enable_symm_mem_for_group"):
            symm_mem.enable_symm_mem_for_group(self.group)  # older torch needs it; newer deprecates it (a warning)
        self.buf = symm_mem.empty(MAX_NUMEL, dtype=torch.bfloat16, device=dev)
        symm_mem.rendezvous(self.buf, self.group)
        self.out = torch.empty(MAX_NUMEL, dtype=torch.bfloat16, device=dev)
        self.graphs = []


def numel_offset():
    """scripts/gpu_graphs.py's measurement of numel_'s offset."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gpu_graphs.py")
    spec = importlib.util.spec_from_file_location("gpu_graphs", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.numel_offset()


def setup(rank, dev):
    s = Symm(dev)
    if rank == 0 and not hasattr(torch.ops.symm_mem, "reduce_scatter_out"):
        print("torch.ops.symm_mem has no reduce_scatter_out: its phases run nothing", flush=True)
    if rank == 0:
        off = numel_offset()
        print(f"tensor_numel_offset {off} (linkprof assumes 160)", flush=True)
        s.numel_offset = off
    return s


def one_shot(ctx, numel):
    torch.ops.symm_mem.one_shot_all_reduce(ctx.state.buf[:numel], "sum", ctx.state.group)
    ctx.log(ONE, numel)


def two_shot(ctx, numel):
    torch.ops.symm_mem.two_shot_all_reduce_(ctx.state.buf[:numel], "sum", ctx.state.group)
    ctx.log(TWO, numel)


def reduce_scatter(ctx, numel):
    """numel is the input's; the output, per rank, is what linkprof sizes.
    A torch without the operator runs nothing (and logs no call)."""
    if not hasattr(torch.ops.symm_mem, "reduce_scatter_out"):
        return
    out = numel // ctx.world
    torch.ops.symm_mem.reduce_scatter_out(ctx.state.buf[:numel], ctx.state.group, False, ctx.state.out[:out])
    ctx.log(RS, out)


def eager(op, numel, reps):
    def run(ctx):
        for _ in range(reps):
            op(ctx, numel)
    return run


def graphed(op, numel, per_graph, replays):
    """Capture per_graph calls into one CUDA graph (while recording: the
    probes see them captured), then replay it: per_graph x replays calls."""
    def run(ctx):
        g = torch.cuda.CUDAGraph()
        captured = ctx.__class__(ctx.rank, ctx.world, ctx.dev, ctx.second, ctx.state)
        with torch.cuda.graph(g):
            for _ in range(per_graph):
                op(captured, numel)
        for _ in range(replays):
            g.replay()
        for o, c in captured.calls.items():
            ctx.calls[o] = dict(calls=c["calls"] * replays, payload_bytes=c["payload_bytes"] * replays)
        torch.cuda.synchronize(ctx.dev)
        ctx.state.graphs.append(g)  # kept: no graph destroyed mid-run
    return run


EAGER = [
    ("symm_one_shot_64KiB", eager(one_shot, 32 * KiB, 400), None),
    ("symm_one_shot_1MiB", eager(one_shot, 512 * KiB, 100), None),
    ("symm_two_shot_4MiB", eager(two_shot, 2 * MiB, 40), None),
    ("symm_two_shot_32MiB", eager(two_shot, 16 * MiB, 10), None),
    ("symm_reduce_scatter_8MiB", eager(reduce_scatter, 4 * MiB, 20), None),
]

GRAPH = [
    ("graph_one_shot_64KiB", graphed(one_shot, 32 * KiB, 8, 50), None),
    ("graph_one_shot_1MiB", graphed(one_shot, 512 * KiB, 4, 25), None),
    ("graph_two_shot_4MiB", graphed(two_shot, 2 * MiB, 4, 10), None),
    ("graph_two_shot_32MiB", graphed(two_shot, 16 * MiB, 2, 5), None),
    ("graph_reduce_scatter_8MiB", graphed(reduce_scatter, 4 * MiB, 4, 5), None),
]

def warm_up(ctx):
    """Each operator once, eager: loads its kernels before any capture."""
    one_shot(ctx, 32 * KiB)
    two_shot(ctx, 2 * MiB)
    reduce_scatter(ctx, 4 * MiB)


WARM_UP = [("symm_warm_up", warm_up, None)]

SETS = {"symm": WARM_UP + EAGER + GRAPH, "symm-eager": WARM_UP + EAGER, "symm-graph": WARM_UP + GRAPH}
