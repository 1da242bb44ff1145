"""CPU check of the MoE stand-in (any torch >= 1.13, no GPU, one rank): the
all-to-all and the all-gather dispatch, exact and padded (the CUDA-graph
layout), must give the same layer output for the same routing. Exit 1 on a
mismatch.

  python3 scripts/standin/check_moe.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch

import math
import torch.nn.functional as F

if not hasattr(torch, "inference_mode"):
    torch.inference_mode = torch.no_grad
if not hasattr(F, "scaled_dot_product_attention"):  # torch < 2.0, for this check only
    def sdpa(q, k, v, is_causal=False):
        n = q.shape[-2]
        s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
        s = s.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        return (s.softmax(-1) @ v.float()).to(q.dtype)
    F.scaled_dot_product_attention = sdpa
import model
import moe
import shapes

print("torch", torch.__version__)
bad = 0
for name in ("Qwen/Qwen3-30B-A3B", "deepseek-ai/DeepSeek-V2-Lite"):
    s = shapes.resolve(name, {"hidden": 64, "layers": 2, "heads": 4, "ffn": 96, "vocab": 64, "expert_ffn": 32})
    shape = model.Shape(dict(s, batch=3, max_len=32), 1)
    out = {}
    for dispatch in ("alltoall", "allgather"):
        torch.manual_seed(0)
        m = moe.MoEModel(shape, 0, torch.device("cpu"), False, dispatch)
        L = m.layers[-1]
        x = torch.randn(7, 64, dtype=torch.bfloat16)
        for pad in (False, True):
            m.static = None
            m.begin((5, 0), 7, graph=pad)
            with torch.no_grad():
                out[dispatch, pad] = m.mlp(x, L).float()
        # The whole model runs: prefill and decode.
        with torch.no_grad():
            m.begin((1, 0), 5)
            tok = m.prefill(0, [1, 2, 3, 4, 5])
            m.begin((2, "decode"), 3)
            dec = m.decode([tok, 0, 0], [5, 32, 32])
        print(name, dispatch, "prefill", tok, "decode", dec)
    # Naive reference: each token through each expert it was routed to.
    import router as routing
    counts = m.router.counts("5/0/%d" % L["index"], [7])[0]
    naive = torch.zeros(7, 64)
    slot = 0
    for e, c in enumerate(counts):
        for _ in range(c):
            t = slot % 7
            g, u = (x[t:t + 1] @ L["w_gate_up"][e]).chunk(2, dim=-1)
            naive[t] += ((F.silu(g) * u) @ L["w_down"][e]).float()[0] / s["top_k"]
            slot += 1
    if "shared_gate_up" in L:
        g, u = (x @ L["shared_gate_up"]).chunk(2, dim=-1)
        naive += ((F.silu(g) * u) @ L["shared_down"]).float()
    out["naive"] = naive
    ref = out["alltoall", False]
    assert ref.abs().max() > 0
    for k, v in out.items():
        err = (v - ref).abs().max().item() / (ref.abs().max().item() + 1e-9)
        print(name, k, "max rel diff", round(err, 4))
        bad += err > 0.05  # bf16 rounding: the naive sum is in float
print("mismatches", bad)
sys.exit(1 if bad else 0)
