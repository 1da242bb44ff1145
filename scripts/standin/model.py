"""A tensor-parallel decoder with random weights, run one process per rank.

Megatron-style sharding: attention heads and the MLP's inner dimension are
split across ranks (column-parallel in, row-parallel out), so every layer
ends its attention and its MLP with an all-reduce of the hidden states over
NCCL, and the vocabulary-parallel head all-gathers the logits. Weights are
random: the tokens are nonsense, the traffic has the shape of real serving.
"""

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F


class Shape:
    def __init__(self, args, tp):
        self.hidden, self.layers, self.heads = args.hidden, args.layers, args.heads
        self.ffn, self.vocab, self.tp = args.ffn, args.vocab, tp
        self.batch, self.max_len = args.batch, args.max_len
        for name, n in (("heads", self.heads), ("ffn", self.ffn), ("vocab", self.vocab)):
            if n % tp:
                raise SystemExit(f"standin: --{name} {n} is not divisible by --tp {tp}")
        if self.hidden % self.heads:
            raise SystemExit(f"standin: --hidden {self.hidden} is not divisible by --heads {self.heads}")
        self.head_dim = self.hidden // self.heads
        self.local_heads = self.heads // tp


def rand(shape, fan_in, device):
    return torch.randn(shape, dtype=torch.bfloat16, device=device) / math.sqrt(fan_in)


class TPModel:
    def __init__(self, shape, rank, device, cuda_graphs):
        s = self.s = shape
        self.rank, self.device = rank, device
        h, lh, d = s.hidden, s.local_heads, s.head_dim
        torch.manual_seed(1234)  # replicated weights: the same on every rank
        self.embed = rand((s.vocab, h), 1, device)
        torch.manual_seed(1235 + rank)  # shards: each rank its own
        self.layers = []
        for _ in range(s.layers):
            self.layers.append({
                "ln1": torch.ones(h, dtype=torch.bfloat16, device=device),
                "qkv": rand((h, 3 * lh * d), h, device),       # column-parallel
                "o": rand((lh * d, h), s.hidden, device),       # row-parallel
                "ln2": torch.ones(h, dtype=torch.bfloat16, device=device),
                "gate_up": rand((h, 2 * s.ffn // s.tp), h, device),
                "down": rand((s.ffn // s.tp, h), s.ffn, device),
            })
        self.norm = torch.ones(h, dtype=torch.bfloat16, device=device)
        self.head = rand((h, s.vocab // s.tp), h, device)  # vocabulary-parallel
        # KV cache per layer: [batch slots, max_len + 1 (a scratch column), local heads, head_dim].
        cache = (s.batch, s.max_len + 1, lh, d)
        self.k = [torch.zeros(cache, dtype=torch.bfloat16, device=device) for _ in range(s.layers)]
        self.v = [torch.zeros(cache, dtype=torch.bfloat16, device=device) for _ in range(s.layers)]
        self.slots = torch.arange(s.batch, device=device)
        self.cols = torch.arange(s.max_len + 1, device=device)
        self.in_tokens = torch.zeros(s.batch, dtype=torch.long, device=device)
        self.in_pos = torch.full((s.batch,), s.max_len, dtype=torch.long, device=device)
        self.graph = None
        if cuda_graphs:
            self.capture()

    # --- building blocks -------------------------------------------------

    def rms(self, x, w):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-6)).to(x.dtype) * w

    def all_reduce(self, x):
        if self.s.tp > 1:
            dist.all_reduce(x)
        return x

    def mlp(self, x, L):
        gate, up = (x @ L["gate_up"]).chunk(2, dim=-1)
        return self.all_reduce((F.silu(gate) * up) @ L["down"])

    def logits_argmax(self, x):
        local = self.rms(x, self.norm) @ self.head  # [n, vocab / tp]
        if self.s.tp > 1:
            full = torch.empty((self.s.tp,) + tuple(local.shape), dtype=local.dtype, device=self.device)
            dist.all_gather_into_tensor(full, local.contiguous())
            local = full.permute(1, 0, 2).reshape(local.shape[0], -1)
        return local.argmax(dim=-1)

    # --- prefill: one request, its whole prompt ---------------------------

    @torch.inference_mode()
    def prefill(self, slot, prompt):
        s = self.s
        n = len(prompt)
        x = self.embed[torch.tensor(prompt, device=self.device)]  # [n, h]
        for i, L in enumerate(self.layers):
            q, k, v = (self.rms(x, L["ln1"]) @ L["qkv"]).view(n, 3, s.local_heads, s.head_dim).unbind(1)
            self.k[i][slot, :n] = k
            self.v[i][slot, :n] = v
            a = F.scaled_dot_product_attention(
                q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), is_causal=True)
            x = x + self.all_reduce(a.transpose(0, 1).reshape(n, -1) @ L["o"])
            x = x + self.mlp(self.rms(x, L["ln2"]), L)
        return int(self.logits_argmax(x[-1:])[0])

    # --- decode: every slot, one token each, static shapes ------------------

    def _decode(self):
        s = self.s
        b = s.batch
        x = self.embed[self.in_tokens]  # [b, h]
        # Slot b attends to cache columns 0..pos[b]; idle slots write the scratch column.
        mask = self.cols[None, :] <= self.in_pos[:, None]  # [b, max_len + 1]
        for i, L in enumerate(self.layers):
            q, k, v = (self.rms(x, L["ln1"]) @ L["qkv"]).view(b, 3, s.local_heads, s.head_dim).unbind(1)
            self.k[i].index_put_((self.slots, self.in_pos), k)
            self.v[i].index_put_((self.slots, self.in_pos), v)
            scores = torch.einsum("bhd,blhd->bhl", q, self.k[i]).float() / math.sqrt(s.head_dim)
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
            a = torch.einsum("bhl,blhd->bhd", scores.softmax(-1).to(torch.bfloat16), self.v[i])
            x = x + self.all_reduce(a.reshape(b, -1) @ L["o"])
            x = x + self.mlp(self.rms(x, L["ln2"]), L)
        return self.logits_argmax(x)

    @torch.inference_mode()
    def capture(self):
        """Captures the decode step into a CUDA graph: its all-reduces are
        recorded once and replayed without NCCL host calls, as in vLLM."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):  # warm-up: NCCL and cuBLAS set up outside capture
                self._decode()
        torch.cuda.current_stream().wait_stream(side)
        torch.cuda.synchronize()
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.graph_out = self._decode()
        torch.cuda.synchronize()

    @torch.inference_mode()
    def decode(self, tokens, positions):
        self.in_tokens.copy_(torch.tensor(tokens, dtype=torch.long), non_blocking=False)
        self.in_pos.copy_(torch.tensor(positions, dtype=torch.long), non_blocking=False)
        if self.graph is not None:
            self.graph.replay()
            out = self.graph_out
        else:
            out = self._decode()
        return out.tolist()

    def execute(self, plan):
        pre = [self.prefill(slot, prompt) for slot, prompt in plan["prefills"]]
        dec = self.decode(plan["tokens"], plan["positions"]) if plan["decode"] else []
        return pre, dec
