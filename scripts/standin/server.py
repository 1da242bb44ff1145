#!/usr/bin/env python3
"""linkprof's GPU stand-in for vLLM and SGLang (torch only).

Serves an OpenAI-compatible /v1/completions (SSE streaming), /health and
/v1/models, and runs a transformer with random weights over --tp GPUs with
NCCL, continuous batching up to --batch requests, decode eager or as CUDA
graph replays (--cuda-graphs). The model's shape comes from --model
(shapes.py): a dense tensor-parallel decoder, or for the MoE models
(Qwen3-30B-A3B, DeepSeek-V2-Lite) tensor-parallel attention with
expert-parallel MoE layers (moe.py, --moe-dispatch).

Processes as vLLM has them (engine.py): this API server, an engine core,
one worker per rank, all started with multiprocessing "spawn". SIGINT or
SIGTERM stop all of them within a second or two. See docs/workloads.md.

  python3 scripts/standin/server.py --tp 2 --batch 4 --port 8000 [--cuda-graphs]
"""

import os

# Before torch, CUDA or NCCL initialise (the workers inherit these): NVLink
# SHARP multicast stays off on the machines this runs on.
os.environ["NCCL_NVLS_ENABLE"] = "0"
os.environ["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"
os.environ["NVSHMEM_DISABLE_NVLS"] = "1"

import argparse
import json
import multiprocessing as mp
import signal
import sys
import threading

import api
import engine
import shapes

# Seconds the engine core gets to go after SIGTERM before SIGKILL.
STOP_GRACE = 2.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="random-weight LLM stand-in server (vLLM's process layout)")
    p.add_argument("--tp", type=int, default=2, help="ranks (GPUs): tensor parallel, expert parallel for MoE")
    p.add_argument("--batch", type=int, default=4, help="requests running at once (cache slots)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--model", default="standin", help="model id: picks the shape (shapes.py); /v1/models reports it")
    p.add_argument("--cuda-graphs", action="store_true", help="decode as CUDA graph replays")
    p.add_argument("--moe-dispatch", choices=("alltoall", "allgather"), default="alltoall",
                   help="MoE models: all_to_all_single with split sizes, or all-gather + reduce-scatter")
    for k in ("hidden", "layers", "heads", "ffn", "vocab", "experts", "top_k", "expert_ffn"):
        p.add_argument("--" + k.replace("_", "-"), type=int, default=None, help="override the model's stand-in shape")
    p.add_argument("--max-len", type=int, default=8192, help="prompt + output tokens per request")
    p.add_argument("--info", help="write what ran (shape, collectives, processes) here as JSON once ready")
    p.add_argument("--fake-engine", action="store_true",
                   help="no torch or GPU: scripted tokens, same processes, for tests")
    p.add_argument("--step-delay", type=float, default=0.0, help="fake engine: seconds per step")
    args = p.parse_args(argv)
    if args.tp < 1 or args.batch < 1 or args.max_len < 2:
        p.error("--tp and --batch must be at least 1, --max-len at least 2")
    args.shape = shapes.resolve(args.model, vars(args))
    if args.shape["kind"] == "train":
        args.shape = dict(shapes.DENSE, model=args.model, scaled_from=None)
    return args


def engine_config(args):
    s = args.shape
    return {"tp": args.tp, "batch": args.batch, "max_len": args.max_len, "vocab": s["vocab"],
            "shape": s, "cuda_graphs": args.cuda_graphs, "moe_dispatch": args.moe_dispatch,
            "fake_engine": args.fake_engine, "step_delay": args.step_delay}


def read_outputs(conn, front, info, stop, failed):
    """The engine core's messages: ready, tokens, errors."""
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            break
        if msg[0] == "tok":
            front.deliver(*msg[1:])
        elif msg[0] == "ready":
            info.update(msg[1])
            front.ready.set()
        elif msg[0] == "error":
            print(f"standin: {msg[1]}", flush=True)
            break
    # A signal to the whole process group ends the engine core at once; the
    # handler here sets stop a moment later. Only an engine gone alone failed.
    if not stop.wait(1.0):
        failed.set()
        stop.set()


def write_info(path, args, info):
    out = {"shape": args.shape, "description": shapes.describe(args.shape), "tp": args.tp,
           "batch": args.batch, "cuda_graphs": args.cuda_graphs, "api_server_pid": os.getpid(), **info}
    if args.shape["kind"] == "moe":
        out["description"] += f"; dispatch {args.moe_dispatch}"
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(path + ".tmp", path)


def main(argv=None):
    args = parse_args(argv)
    stop, failed = threading.Event(), threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    ctx = mp.get_context("spawn")
    req_r, req_w = ctx.Pipe(duplex=False)
    out_r, out_w = ctx.Pipe(duplex=False)
    core = ctx.Process(target=engine.engine_core_main, args=(engine_config(args), req_r, out_w, os.getpid()),
                       name="standin-engine")
    core.start()
    req_r.close()
    out_w.close()
    front = api.Frontend(req_w, args.max_len, args.shape["vocab"])
    httpd = api.serve(front, args.host, args.port, args.model)
    print(f"standin: listening on http://{args.host}:{args.port} (not ready until the model is up)", flush=True)
    info = {}
    threading.Thread(target=read_outputs, args=(out_r, front, info, stop, failed), daemon=True).start()
    announced = False
    while not stop.wait(0.1):
        if front.ready.is_set() and not announced:
            announced = True
            if args.info:
                write_info(args.info, args, info)
            print(f"standin: ready: {shapes.describe(args.shape)}; tp {args.tp}, batch {args.batch}, "
                  f"cuda graphs {args.cuda_graphs}; engine core pid {core.pid}, workers "
                  f"{[w['pid'] for w in info.get('workers', [])]}", flush=True)
    httpd.shutdown()
    stop_core(core)
    print("standin: engine core died" if failed.is_set() else "standin: stopped", flush=True)
    return 1 if failed.is_set() else 0


def stop_core(core):
    """SIGTERM, then SIGKILL; the workers die with the core (PDEATHSIG)."""
    if core.is_alive():
        core.terminate()
        core.join(STOP_GRACE)
    if core.is_alive():
        core.kill()
        core.join(STOP_GRACE)


if __name__ == "__main__":
    engine.leave(main())
