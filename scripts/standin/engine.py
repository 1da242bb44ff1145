"""The stand-in's engine core and workers, as separate processes started
the way vLLM starts them (multiprocessing "spawn"):

  API server (server.py: HTTP)
   `- engine core (engine_core_main: the scheduler, no GPU)
       `- worker TP0 .. TP(n-1) (worker_main: one GPU each, NCCL)

The API server forwards requests to the engine core over a pipe; the core
plans each step, sends the plan to every worker, takes the tokens from
worker 0 and sends them back. Every process dies with its parent
(PR_SET_PDEATHSIG) and leaves on SIGINT or SIGTERM at once, without
Python's teardown: destroying CUDA graphs that hold NCCL kernels never
returned on the H200 test machine, and the kernel frees the GPUs of a
process that exits.
"""

import ctypes
import os
import signal
import socket
import sys
import threading

import api

PR_SET_NAME, PR_SET_PDEATHSIG = 15, 1


def become(name, parent_pid):
    """Names the process (comm) and ties it to its parent: it is killed when
    the parent dies, and SIGINT and SIGTERM end it at once."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(PR_SET_NAME, name.encode()[:15])
    except OSError:
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(1)


def leave(code=0):
    """Exits without Python's teardown (see the module comment)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_loop(run_step, sched, stop):
    """Plans a step, runs it on the workers, hands out its tokens; until
    stop is set. run_step(plan) returns (prefill tokens, decode tokens)."""
    step = 0
    while not stop.is_set():
        plan = sched.next_plan(timeout=0.2)
        if plan is None:
            continue
        plan["step"] = step
        step += 1
        pre, dec = run_step(plan)
        sched.complete(plan, pre, dec)


class Emitter:
    """Seq.out for a request of the API server: tokens go back over the pipe;
    the last one forgets the request (seqs: the engine core's open ones)."""

    def __init__(self, conn, lock, rid, seqs):
        self.conn, self.lock, self.rid, self.seqs = conn, lock, rid, seqs

    def put(self, item):
        tok, done = item
        if done:
            self.seqs.pop(self.rid, None)
        with self.lock:
            self.conn.send(("tok", self.rid, tok, done))


def engine_core_main(cfg, requests, outputs, parent_pid):
    become("standin-engine", parent_pid)
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    cfg = dict(cfg, master_port=free_port())
    workers, conns = [], []
    for rank in range(cfg["tp"]):
        mine, theirs = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=(cfg, rank, theirs, os.getpid()), name=f"standin-tp{rank}")
        p.start()
        workers.append(p)
        conns.append(mine)
    lock = threading.Lock()
    infos = [recv_or_die(c, r, outputs, lock) for r, c in enumerate(conns)]
    sched = api.Scheduler(cfg["batch"], cfg["max_len"], cfg["vocab"])
    with lock:
        outputs.send(("ready", dict(infos[0][1], workers=[i[2] for i in infos])))
    threading.Thread(target=read_requests, args=(requests, sched, outputs, lock), daemon=True).start()
    threading.Thread(target=watch_workers, args=(workers, outputs, lock), daemon=True).start()

    def run_step(plan):
        for r, c in enumerate(conns):
            try:
                c.send(plan)
            except OSError:
                worker_died(r, outputs, lock)
        results = [recv_or_die(c, r, outputs, lock) for r, c in enumerate(conns)]
        return results[0]

    engine_loop(run_step, sched, threading.Event())


def recv_or_die(conn, rank, outputs, lock):
    try:
        return conn.recv()
    except (EOFError, OSError):
        worker_died(rank, outputs, lock)


def worker_died(rank, outputs, lock):
    with lock:
        outputs.send(("error", f"worker TP{rank} died"))
    leave(1)


def watch_workers(workers, outputs, lock):
    """A worker that dies, idle or not, ends the engine (as vLLM's does)."""
    from multiprocessing.connection import wait

    dead = wait([p.sentinel for p in workers])
    worker_died([p.sentinel for p in workers].index(dead[0]), outputs, lock)


def read_requests(requests, sched, outputs, lock):
    """The API server's requests into the scheduler; its pipe closing means
    it is gone, and so must we be."""
    seqs = {}
    while True:
        try:
            msg = requests.recv()
        except (EOFError, OSError):
            leave(0)
        if msg[0] == "add":
            _, rid, prompt, max_tokens = msg
            seq = api.Seq(prompt, max_tokens)
            seq.out = Emitter(outputs, lock, rid, seqs)
            seqs[rid] = seq
            sched.pending.put(seq)  # the API server validated it
        elif msg[0] == "cancel":
            seq = seqs.pop(msg[1], None)
            if seq is not None:
                sched.cancel(seq)


def worker_main(cfg, rank, conn, parent_pid):
    become(f"standin-tp{rank}", parent_pid)
    if cfg["fake_engine"]:
        engine = api.FakeEngine(cfg["vocab"], cfg["step_delay"])
        info = {"kind": "fake"}
    else:
        engine, info = build_model(cfg, rank)
    conn.send(("ready", info, {"rank": rank, "pid": os.getpid(), "gpu": info.get("gpu")}))
    while True:
        try:
            plan = conn.recv()
        except (EOFError, OSError):
            leave(0)
        out = engine.execute(plan)
        conn.send(out if rank == 0 else None)


def build_model(cfg, rank):
    import datetime

    import torch
    import torch.distributed as dist

    import model

    torch.cuda.set_device(rank)
    device = torch.device("cuda", rank)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(cfg["master_port"])
    # Idle gaps of a bursty replay can be long.
    dist.init_process_group("nccl", rank=rank, world_size=cfg["tp"],
                            timeout=datetime.timedelta(hours=24), device_id=device)
    shape = model.Shape(cfg["shape"], cfg["tp"])
    shape.batch, shape.max_len = cfg["batch"], cfg["max_len"]
    if cfg["shape"]["kind"] == "moe":
        import moe

        m = moe.MoEModel(shape, rank, device, cfg["cuda_graphs"], cfg["moe_dispatch"])
    else:
        m = model.TPModel(shape, rank, device, cfg["cuda_graphs"])
    dist.barrier()
    return m, dict(m.info(), gpu=rank, torch=torch.__version__,
                   nccl=".".join(map(str, torch.cuda.nccl.version())))
