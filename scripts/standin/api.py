"""HTTP front end and continuous-batching scheduler of the stand-in server.

Standard library only, so it runs (and is tested) without torch. The API
server process runs the HTTP side with a Frontend, which forwards requests
to the engine core process (engine.py); the engine core calls
Scheduler.next_plan, runs the plan on every worker, then Scheduler.complete.
"""

import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BadRequest(Exception):
    """A request the server refuses with HTTP 400."""


class Seq:
    """One request in flight."""

    def __init__(self, prompt, max_tokens):
        self.prompt = prompt
        self.max_tokens = max_tokens
        self.out = queue.Queue()  # (token, finished) pairs for the HTTP thread
        self.generated = 0
        self.last_token = 0
        self.pos = 0  # cache position the next decode step writes
        self.slot = None
        self.cancelled = False


class Scheduler:
    """Admits requests into at most `batch` cache slots (continuous batching):
    a request joins as soon as a slot frees, with its own prefill step, and
    then decodes together with every other running request."""

    def __init__(self, batch, max_len, vocab):
        self.batch = batch
        self.max_len = max_len
        self.vocab = vocab
        self.pending = queue.Queue()
        self.slots = [None] * batch
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.max_running = 0  # most slots ever busy at once

    def validate(self, prompt, max_tokens):
        if not prompt:
            raise BadRequest("prompt is empty")
        if any(not isinstance(t, int) or t < 0 or t >= self.vocab for t in prompt):
            raise BadRequest(f"prompt token ids must be integers in [0, {self.vocab})")
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise BadRequest("max_tokens must be a positive integer")
        if len(prompt) + max_tokens > self.max_len:
            raise BadRequest(
                f"This model's maximum context length is {self.max_len} tokens; "
                f"the request has {len(prompt)} prompt and {max_tokens} output tokens "
                "(start the stand-in with a larger --max-len)")

    def submit(self, prompt, max_tokens):
        self.validate(prompt, max_tokens)
        seq = Seq(prompt, max_tokens)
        self.pending.put(seq)
        return seq

    def cancel(self, seq):
        seq.cancelled = True  # the scheduler frees the slot on its next token

    def running(self):
        return sum(s is not None for s in self.slots)

    def next_plan(self, timeout):
        """The next step: prefills for newly admitted requests, a decode for
        the running ones. None when idle for `timeout` seconds."""
        if self.running() == 0:
            try:
                first = self.pending.get(timeout=timeout)
            except queue.Empty:
                return None
            self._admit(first)
        decode = [i for i, s in enumerate(self.slots) if s is not None and s.generated > 0]
        prefills = []
        while None in self.slots:
            try:
                seq = self.pending.get_nowait()
            except queue.Empty:
                break
            self._admit(seq)
        for i, s in enumerate(self.slots):
            if s is not None and s.generated == 0 and i not in decode:
                prefills.append((i, s.prompt))
        self.max_running = max(self.max_running, self.running())
        if not prefills and not decode:
            return None
        scratch = self.max_len  # a cache column no running request attends to
        tokens = [0] * self.batch
        positions = [scratch] * self.batch
        for i in decode:
            tokens[i] = self.slots[i].last_token
            positions[i] = self.slots[i].pos
        return {"op": "step", "prefills": prefills, "decode": decode,
                "tokens": tokens, "positions": positions}

    def _admit(self, seq):
        slot = self.slots.index(None)
        seq.slot = slot
        self.slots[slot] = seq

    def complete(self, plan, prefill_tokens, decode_tokens):
        """Hands the step's tokens to their requests and frees finished slots."""
        for (slot, prompt), tok in zip(plan["prefills"], prefill_tokens):
            self.slots[slot].pos = len(prompt)
            self._emit(slot, tok)
        for slot in plan["decode"]:
            self.slots[slot].pos += 1
            self._emit(slot, decode_tokens[slot])

    def _emit(self, slot, tok):
        seq = self.slots[slot]
        seq.generated += 1
        seq.last_token = tok
        done = seq.generated >= seq.max_tokens or seq.cancelled
        seq.out.put((tok, done))
        if done:
            self.slots[slot] = None


class Frontend:
    """The API server's scheduler stand-in: validates requests as the
    Scheduler does and forwards them to the engine core over conn; deliver
    hands the engine's tokens to their requests."""

    validate = Scheduler.validate

    def __init__(self, conn, max_len, vocab):
        self.conn, self.max_len, self.vocab = conn, max_len, vocab
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.seqs = {}
        self.next_id = 0

    def submit(self, prompt, max_tokens):
        self.validate(prompt, max_tokens)
        seq = Seq(prompt, max_tokens)
        with self.lock:
            seq.rid, self.next_id = self.next_id, self.next_id + 1
            self.seqs[seq.rid] = seq
            self.conn.send(("add", seq.rid, prompt, max_tokens))
        return seq

    def cancel(self, seq):
        with self.lock:
            if self.seqs.pop(seq.rid, None) is not None:
                self.conn.send(("cancel", seq.rid))

    def deliver(self, rid, tok, done):
        with self.lock:
            seq = self.seqs.pop(rid, None) if done else self.seqs.get(rid)
        if seq is not None:
            seq.out.put((tok, done))


def token_text(tok):
    return f" t{tok}"


def parse_prompt(prompt, vocab):
    """Token ids as sent; a string becomes its UTF-8 bytes (no tokenizer)."""
    if isinstance(prompt, str):
        return [b % vocab for b in prompt.encode()]
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], list):
        return prompt[0]
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return parse_prompt(prompt[0], vocab)
    if isinstance(prompt, list):
        return prompt
    raise BadRequest("prompt must be a list of token ids or a string")


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: a streamed body ends when the connection closes.
    protocol_version = "HTTP/1.0"
    scheduler = None
    model_name = "standin"

    def log_message(self, fmt, *args):  # keep the server log for errors
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        s = self.scheduler
        if self.path == "/health":
            self.send_json(200 if s.ready.is_set() else 503, {"ready": s.ready.is_set()})
        elif self.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [{
                "id": self.model_name, "object": "model", "owned_by": "linkprof-standin",
                "max_model_len": s.max_len}]})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):
        if self.path != "/v1/completions":
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            prompt = parse_prompt(body.get("prompt"), self.scheduler.vocab)
            max_tokens = body.get("max_tokens", 16)
            seq = self.scheduler.submit(prompt, max_tokens)
        except (BadRequest, ValueError) as e:
            self.send_json(400, {"error": {"message": str(e), "type": "BadRequestError", "code": 400}})
            return
        meta = {"id": "cmpl-" + uuid.uuid4().hex, "created": int(time.time()),
                "model": body.get("model") or self.model_name}
        usage = {"prompt_tokens": len(prompt), "completion_tokens": max_tokens,
                 "total_tokens": len(prompt) + max_tokens}
        try:
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self.stream(seq, meta, usage if include_usage else None)
            else:
                self.whole(seq, meta, usage)
        except (BrokenPipeError, ConnectionResetError):
            self.scheduler.cancel(seq)

    def stream(self, seq, meta, usage):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        done = False
        while not done:
            tok, done = seq.out.get()
            chunk = dict(meta, object="text_completion", choices=[{
                "index": 0, "text": token_text(tok), "logprobs": None,
                "finish_reason": "length" if done else None}])
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        if usage:
            chunk = dict(meta, object="text_completion", choices=[], usage=usage)
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def whole(self, seq, meta, usage):
        text, done = [], False
        while not done:
            tok, done = seq.out.get()
            text.append(token_text(tok))
        self.send_json(200, dict(meta, object="text_completion", usage=usage, choices=[{
            "index": 0, "text": "".join(text), "logprobs": None, "finish_reason": "length"}]))


def serve(scheduler, host, port, model_name):
    """Starts the HTTP server on a daemon thread and returns it."""
    handler = type("BoundHandler", (Handler,), {"scheduler": scheduler, "model_name": model_name})
    httpd = ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, name="http", daemon=True).start()
    return httpd


class FakeEngine:
    """Scripted tokens without a GPU, for tests of everything but the model:
    a prefill answers len(prompt) % vocab, a decode answers (token + 1)."""

    def __init__(self, vocab, step_delay=0.0):
        self.vocab = vocab
        self.step_delay = step_delay

    def execute(self, plan):
        time.sleep(self.step_delay)
        pre = [len(p) % self.vocab for _, p in plan["prefills"]]
        dec = [(t + 1) % self.vocab for t in plan["tokens"]]
        return pre, dec
