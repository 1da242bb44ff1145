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
    """shape: a shapes.resolve dict (or anything with those attributes)."""

    def __init__(self, args, tp):
        get = args.get if isinstance(args, dict) else lambda k, d=None: getattr(args, k, d)
        self.hidden, self.layers, self.heads = get("hidden"), get("layers"), get("heads")
        self.ffn, self.vocab, self.tp = get("ffn"), get("vocab"), tp
        self.batch, self.max_len = get("batch"), get("max_len")
        self.experts, self.top_k = get("experts", 0), get("top_k", 0)
        self.shared_experts, self.expert_ffn = get("shared_experts", 0), get("expert_ffn", 0)
        self.dense_layers = get("dense_layers", 0)
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
        for i in range(s.layers):
            L = {
                "index": i,
                "ln1": torch.ones(h, dtype=torch.bfloat16, device=device),
                "qkv": rand((h, 3 * lh * d), h, device),       # column-parallel
                "o": rand((lh * d, h), s.hidden, device),       # row-parallel
                "ln2": torch.ones(h, dtype=torch.bfloat16, device=device),
            }
            L.update(self.mlp_weights(i))
            self.layers.append(L)
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

    def mlp_weights(self, i):
        """Layer i's MLP: tensor-parallel (a subclass may differ by layer)."""
        s, h = self.s, self.s.hidden
        return {"gate_up": rand((h, 2 * s.ffn // s.tp), h, self.device),
                "down": rand((s.ffn // s.tp, h), s.ffn, self.device)}

    def info(self):
        return {"collectives_per_layer": ["all_reduce (attention)", "all_reduce (MLP)"]}

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
        self.begin(("capture",), self.s.batch, graph=True)
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

    def begin(self, key, n, graph=False):
        """Called before each forward of n tokens; key names the step (the
        MoE stand-in routes by it)."""

    def execute(self, plan):
        pre = []
        for j, (slot, prompt) in enumerate(plan["prefills"]):
            self.begin((plan.get("step", 0), j), len(prompt))
            pre.append(self.prefill(slot, prompt))
        dec = []
        if plan["decode"]:
            self.begin((plan.get("step", 0), "decode"), self.s.batch, graph=self.graph is not None)
            dec = self.decode(plan["tokens"], plan["positions"])
        return pre, dec
