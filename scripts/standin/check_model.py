"""CPU check of the stand-in model (any torch, no GPU, TP 1): decoding from
the KV cache, with an idle slot in between, must give the tokens a fresh
prefill of the whole sequence gives. Exit 1 on a mismatch.

  python3 scripts/standin/check_model.py
"""
import math
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch, torch.nn.functional as F
print("torch", torch.__version__)
if not hasattr(F, "scaled_dot_product_attention"):
    def sdpa(q, k, v, is_causal=False):
        n = q.shape[-2]
        s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
        m = torch.ones(n, n, dtype=torch.bool).tril()
        s = s.masked_fill(~m, float("-inf"))
        return (s.softmax(-1) @ v.float()).to(q.dtype)
    F.scaled_dot_product_attention = sdpa
if not hasattr(torch, "inference_mode"):
    torch.inference_mode = torch.no_grad
import model
args = types.SimpleNamespace(hidden=64, layers=2, heads=4, ffn=128, vocab=64, batch=3, max_len=32)
m = model.TPModel(model.Shape(args, 1), 0, torch.device("cpu"), False)
# torch < 2.0 has no SDPA; the shim is only for this check.
# Two requests: A in slot 0 (5 tokens), B in slot 2 (3 tokens); decode both, slot 1 idle.
A, B = [1, 2, 3, 4, 5], [7, 8, 9]
ta = m.prefill(0, A); tb = m.prefill(2, B)
seqA, seqB = A + [ta], B + [tb]
mism = 0
for step in range(6):
    toks = [seqA[-1], 0, seqB[-1]]
    pos = [len(seqA) - 1, 32, len(seqB) - 1]
    out = m.decode(toks, pos)
    # Reference: a fresh prefill of the whole sequence in a spare slot (1).
    refA = m.prefill(1, seqA); refB = m.prefill(1, seqB)
    print(step, out, refA, refB)
    mism += (out[0] != refA) + (out[2] != refB)
    seqA.append(out[0]); seqB.append(out[2])
print("mismatches", mism)
sys.exit(1 if mism else 0)
