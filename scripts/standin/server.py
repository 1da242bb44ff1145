#!/usr/bin/env python3
"""linkprof's GPU stand-in for vLLM and SGLang (torch only).

Serves an OpenAI-compatible /v1/completions (SSE streaming), /health and
/v1/models from rank 0, and runs a tensor-parallel transformer with random
weights over --tp GPUs, one process per rank, all-reduce per layer through
NCCL, continuous batching up to --batch requests, decode eager or as CUDA
graph replays (--cuda-graphs). See docs/workloads.md.

  python3 scripts/standin/server.py --tp 2 --batch 4 --port 8000 [--cuda-graphs]
"""

import os

# Before torch, CUDA or NCCL initialise: NVLink SHARP multicast stays off on
# the machines this runs on (and the stand-in must not depend on it).
os.environ["NCCL_NVLS_ENABLE"] = "0"
os.environ["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"
os.environ["NVSHMEM_DISABLE_NVLS"] = "1"

import argparse
import ctypes
import datetime
import signal
import socket
import sys
import threading

import api


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="tensor-parallel random-weight LLM stand-in server")
    p.add_argument("--tp", type=int, default=2, help="tensor-parallel ranks (GPUs)")
    p.add_argument("--batch", type=int, default=4, help="requests running at once (cache slots)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--model", default="standin", help="name reported by /v1/models")
    p.add_argument("--cuda-graphs", action="store_true", help="decode as CUDA graph replays")
    p.add_argument("--hidden", type=int, default=4096)
    p.add_argument("--layers", type=int, default=16)
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--ffn", type=int, default=11008)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--max-len", type=int, default=8192, help="prompt + output tokens per request")
    p.add_argument("--fake-engine", action="store_true",
                   help="no torch or GPU: scripted tokens, for testing the HTTP side")
    p.add_argument("--step-delay", type=float, default=0.0, help="fake engine: seconds per step")
    args = p.parse_args(argv)
    if args.tp < 1 or args.batch < 1 or args.max_len < 2:
        p.error("--tp and --batch must be at least 1, --max-len at least 2")
    return args


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """Workers exit when rank 0 dies, whatever killed it (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def init_rank(rank, args):
    import torch
    import torch.distributed as dist

    torch.cuda.set_device(rank)
    device = torch.device("cuda", rank)
    # Idle gaps of a bursty replay can be long: ranks wait on rank 0's plans.
    day = datetime.timedelta(hours=24)
    dist.init_process_group("nccl", rank=rank, world_size=args.tp, timeout=day, device_id=device)
    control = dist.new_group(backend="gloo", timeout=day)
    import model

    m = model.TPModel(model.Shape(args, args.tp), rank, device, args.cuda_graphs)
    dist.barrier(group=control)
    return m, control


def broadcast_plan(plan, control):
    import torch.distributed as dist

    box = [plan]
    dist.broadcast_object_list(box, src=0, group=control)
    return box[0]


def worker(rank, args):
    """Ranks 1..tp-1: run whatever plans rank 0 broadcasts, until "stop"."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # rank 0 stops us in order
    m, control = init_rank(rank, args)
    while True:
        plan = broadcast_plan(None, control)
        if plan["op"] == "stop":
            break
        m.execute(plan)
    import torch.distributed as dist

    dist.destroy_process_group()
    exit_without_teardown()


def exit_without_teardown():
    """Leaves without running Python's teardown: destroying CUDA graphs that
    hold NCCL kernels (cudaGraphExecDestroy) never returned on the H200 test
    machine, so a server with --cuda-graphs ignored SIGINT and SIGTERM."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def engine_loop(engine, sched, stop, broadcast):
    """Rank 0: plan a step, share it with the other ranks, run it, hand out
    its tokens; until stop is set."""
    while not stop.is_set():
        plan = sched.next_plan(timeout=0.2)
        if plan is None:
            continue
        broadcast(plan)
        pre, dec = engine.execute(plan)
        sched.complete(plan, pre, dec)


def main(argv=None):
    args = parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sched = api.Scheduler(args.batch, args.max_len, args.vocab)
    httpd = api.serve(sched, args.host, args.port, args.model)
    print(f"standin: listening on http://{args.host}:{args.port} (not ready until the model is up)", flush=True)
    if args.fake_engine:
        engine, broadcast, procs = api.FakeEngine(args.vocab, args.step_delay), (lambda plan: None), []
    else:
        engine, broadcast, procs = start_ranks(args)
    sched.ready.set()
    print(f"standin: ready: tp {args.tp}, batch {args.batch}, cuda graphs {args.cuda_graphs}", flush=True)
    try:
        engine_loop(engine, sched, stop, broadcast)
    finally:
        httpd.shutdown()
        if procs:
            broadcast({"op": "stop"})
            import torch.distributed as dist

            dist.destroy_process_group()
        for p in procs:
            p.join(timeout=30)
    print("standin: stopped", flush=True)


def start_ranks(args):
    import torch.multiprocessing as mp

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port()))
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=worker, args=(r, args), name=f"standin-rank{r}") for r in range(1, args.tp)]
    for p in procs:
        p.start()
    m, control = init_rank(0, args)
    return m, (lambda plan: broadcast_plan(plan, control)), procs


if __name__ == "__main__":
    main()
    exit_without_teardown()
