"""The stand-in server as processes, with the fake engine (no torch): the
process tree vLLM has (API server -> engine core -> one worker per rank),
requests served through it, and a stop within 5 s on SIGINT and SIGTERM,
sent to the server alone or to its process group (as linkprof collect
does), leaving no process behind.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
STOP_LIMIT = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class ServerProcessTest(unittest.TestCase):
    def start(self, tp=2):
        self.port = free_port()
        self.tmp = tempfile.mkdtemp()
        self.info = os.path.join(self.tmp, "info.json")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "server.py"), "--fake-engine", "--tp", str(tp), "--batch", "2",
             "--port", str(self.port), "--model", "Qwen/Qwen3-30B-A3B", "--info", self.info, "--step-delay", "0.002"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.kill_all)
        deadline = time.time() + 60
        while time.time() < deadline:
            if os.path.exists(self.info):
                return
            self.assertIsNone(self.proc.poll(), self.proc.stdout.read().decode() if self.proc.poll() else "")
            time.sleep(0.05)
        self.fail("stand-in not ready in 60 s")

    def kill_all(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stdout.close()

    def tree(self):
        # multiprocessing's resource tracker is a child too, as under vLLM.
        core = [p for p in children(self.proc.pid) if comm(p) == "standin-engine"]
        self.assertEqual(len(core), 1, "one engine core")
        return core[0], [p for p in children(core[0]) if comm(p).startswith("standin-tp")]

    def post(self, prompt, max_tokens):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", "/v1/completions", json.dumps({"prompt": prompt, "max_tokens": max_tokens, "stream": True}))
        r = c.getresponse()
        return r.status, r.read().decode()

    def test_tree_and_serving(self):
        self.start(tp=2)
        core, workers = self.tree()
        self.assertEqual(sorted(comm(w) for w in workers), ["standin-tp0", "standin-tp1"])
        with open(self.info) as f:
            info = json.load(f)
        self.assertEqual(sorted(w["pid"] for w in info["workers"]), sorted(workers))
        self.assertEqual(info["shape"]["experts"], 128)
        self.assertIn("128 experts top-8", info["description"])
        status, text = self.post([3] * 5, 3)
        self.assertEqual(status, 200)
        self.assertIn('" t5"', text)
        self.assertTrue(text.rstrip().endswith("data: [DONE]"))

    def stop_within_limit(self, sig, group):
        self.start(tp=2)
        core, workers = self.tree()
        t0 = time.time()
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)
        code = self.proc.wait(timeout=STOP_LIMIT + 5)
        took = time.time() - t0
        for pid in [core] + workers:
            deadline = time.time() + 1
            while alive(pid) and time.time() < deadline:
                time.sleep(0.02)
            self.assertFalse(alive(pid), f"pid {pid} ({sig!r}) outlived the server")
        self.assertLess(took, STOP_LIMIT, f"{sig!r} took {took:.1f}s")
        self.assertEqual(code, 0, self.proc.stdout.read().decode())

    def test_sigint_to_server(self):
        self.stop_within_limit(signal.SIGINT, group=False)

    def test_sigterm_to_server(self):
        self.stop_within_limit(signal.SIGTERM, group=False)

    def test_sigint_to_group(self):
        self.stop_within_limit(signal.SIGINT, group=True)

    def test_sigterm_to_group(self):
        self.stop_within_limit(signal.SIGTERM, group=True)

    def test_worker_death_fails_server(self):
        self.start(tp=2)
        _, workers = self.tree()
        os.kill(workers[0], signal.SIGKILL)
        # The engine core's watcher notices, idle as it is.
        code = self.proc.wait(timeout=10)
        self.assertEqual(code, 1)
        self.assertIn("died", self.proc.stdout.read().decode())


class TrainerStopTest(unittest.TestCase):
    def test_gated_trainer_stops(self):
        """A rank waiting at the gate (before torch) ends at once on SIGINT
        and SIGTERM."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            gate = os.path.join(tempfile.mkdtemp(), "go")
            env = dict(os.environ, LINKPROF_STANDIN_GATE=gate, RANK="0", WORLD_SIZE="1")
            p = subprocess.Popen([sys.executable, os.path.join(HERE, "train.py"), "--steps", "1"], env=env)
            time.sleep(0.5)
            t0 = time.time()
            p.send_signal(sig)
            self.assertEqual(p.wait(timeout=STOP_LIMIT), -sig)
            self.assertLess(time.time() - t0, STOP_LIMIT)


if __name__ == "__main__":
    unittest.main()
