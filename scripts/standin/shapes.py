"""Model shapes the stand-ins take from the card's model id (standard
library only). Each entry is the stand-in's shape, scaled down to run on a
few GPUs with random weights, beside the real model's (from its
config.json), so what was scaled is written down with the trace.

Expert count, top_k and shared experts are kept as the model has them:
they decide the dispatch traffic. Layers and vocabulary are cut.
"""

# The stand-in's shape when the model is not known: the generic dense
# decoder of the first stand-in.
DENSE = dict(kind="dense", hidden=4096, layers=16, heads=32, ffn=11008, vocab=32000)

MODELS = {
    "Qwen/Qwen3-32B": dict(
        DENSE, real=dict(hidden=5120, layers=64, heads=64, ffn=25600, vocab=151936)),
    "Qwen/Qwen3-30B-A3B": dict(
        kind="moe", hidden=2048, layers=8, heads=32, ffn=6144, vocab=32000,
        experts=128, top_k=8, shared_experts=0, expert_ffn=768, dense_layers=0,
        real=dict(hidden=2048, layers=48, heads=32, vocab=151936, experts=128, top_k=8,
                  expert_ffn=768)),
    "deepseek-ai/DeepSeek-V2-Lite": dict(
        kind="moe", hidden=2048, layers=8, heads=16, ffn=10944, vocab=32000,
        experts=64, top_k=6, shared_experts=2, expert_ffn=1408, dense_layers=1,
        real=dict(hidden=2048, layers=27, heads=16, vocab=102400, experts=64, top_k=6,
                  shared_experts=2, expert_ffn=1408, dense_layers=1, attention="MLA")),
    "meta-llama/Llama-3.1-8B": dict(
        kind="train", hidden=1024, layers=8, heads=16, ffn=3584, vocab=32000,
        real=dict(hidden=4096, layers=32, heads=32, ffn=14336, vocab=128256)),
}

KEYS = ("hidden", "layers", "heads", "ffn", "vocab", "experts", "top_k",
        "shared_experts", "expert_ffn", "dense_layers")


def resolve(model, given):
    """The shape for model: the table's entry (DENSE when unknown) with the
    values given on the command line (not None) put over it."""
    shape = dict(MODELS.get(model, DENSE))
    real = shape.pop("real", None)
    for k in KEYS:
        if given.get(k) is not None:
            shape[k] = given[k]
    shape["model"] = model
    shape["scaled_from"] = real
    return shape


def describe(shape):
    """One line for card.yaml's deviations: what ran in place of the model."""
    s = shape
    parts = [f"{s['layers']} layers", f"hidden {s['hidden']}", f"{s['heads']} heads", f"vocab {s['vocab']}"]
    if s["kind"] == "moe":
        parts.append(f"{s['experts']} experts top-{s['top_k']} (ffn {s['expert_ffn']})")
        if s.get("shared_experts"):
            parts.append(f"{s['shared_experts']} shared experts")
        if s.get("dense_layers"):
            parts.append(f"first {s['dense_layers']} layer(s) dense (ffn {s['ffn']})")
    else:
        parts.append(f"ffn {s['ffn']}")
    line = f"{s['kind']} stand-in with random weights: " + ", ".join(parts)
    real = s.get("scaled_from")
    if real:
        line += "; " + s["model"] + " has " + ", ".join(f"{k} {v}" for k, v in real.items())
    return line
