"""Routing and dispatch plans of the MoE stand-in (standard library only, so
it is tested without torch).

The tokens of a step are replicated on every rank after the attention
all-reduce; rank r routes its share (shard) of them: ceil(n / tp) tokens,
the last ranks fewer or none. Experts are split over the ranks in
contiguous blocks (expert parallel). A random router picks top_k experts per
token with a popularity skew that changes every step and layer, so the
number of rows each rank sends to each other rank is uneven and varies.

Every rank derives the whole routing from (step, sub-step, layer), so the
split sizes every rank needs for all_to_all_single are known without an
exchange. A plan lists, for one rank and one layer, which shard rows it
sends where and where the rows it receives go in its expert buffer.
"""

import random


def shard_sizes(n, tp):
    """Rows per rank when n replicated tokens are split over tp ranks: each
    rank takes ceil(n / tp) (its padded shard), the last ranks fewer."""
    m = -(-n // tp)
    return m, [max(0, min(m, n - r * m)) for r in range(tp)]


def apportion(total, weights, cap):
    """Splits total into integer counts proportional to weights, none above
    cap (largest remainder). Needs total <= cap * len(weights)."""
    if total > cap * len(weights):
        raise ValueError(f"{total} rows cannot fit {len(weights)} experts of {cap}")
    counts = [0] * len(weights)
    left = total
    while left > 0:
        open_ = [i for i in range(len(weights)) if counts[i] < cap]
        w = sum(weights[i] for i in open_)
        if w <= 0:
            weights = [1.0] * len(weights)
            continue
        ideal = {i: left * weights[i] / w for i in open_}
        added = 0
        for i in open_:
            take = min(cap - counts[i], int(ideal[i]))
            counts[i] += take
            added += take
        left -= added
        # Largest fractional parts get one more, while room is left.
        for i in sorted(open_, key=lambda i: ideal[i] - int(ideal[i]), reverse=True):
            if left == 0:
                break
            if counts[i] < cap:
                counts[i] += 1
                left -= 1
    return counts


class Router:
    """Expert choices of every rank's shard for one (step, sub, layer)."""

    def __init__(self, tp, experts, top_k, skew=0.3):
        if experts % tp:
            raise ValueError(f"{experts} experts do not split over {tp} ranks")
        if not 1 <= top_k <= experts:
            raise ValueError(f"top_k {top_k} must be in [1, {experts}]")
        self.tp, self.experts, self.top_k, self.skew = tp, experts, top_k, skew
        self.local = experts // tp

    def owner(self, expert):
        return expert // self.local

    def counts(self, key, sizes):
        """counts[src][e]: rows of src's shard routed to expert e (each token
        to top_k distinct-count slots). key names the step and layer."""
        rng = random.Random(f"standin-router/{key}")
        # Popular experts this step: gamma weights (small shape: skewed).
        base = [rng.gammavariate(self.skew, 1.0) + 1e-6 for _ in range(self.experts)]
        out = []
        for n in sizes:
            w = [b * rng.uniform(0.5, 1.5) for b in base]
            out.append(apportion(n * self.top_k, w, n) if n else [0] * self.experts)
        return out

    def splits(self, counts):
        """rows[src][dst]: rows src sends dst (dst owns the experts)."""
        rows = []
        for c in counts:
            per = [0] * self.tp
            for e, k in enumerate(c):
                per[self.owner(e)] += k
            rows.append(per)
        return rows


class Plan:
    """One rank's dispatch for one layer.

    send_idx: the shard row of each sent row, in send order (grouped by
      destination, then expert); pad rows name the zero row `m`.
    send_splits, recv_splits: rows per peer (all_to_all_single's splits);
      with padding every peer gets `pad` rows.
    recv_pos: expert-buffer row of each received row (local expert *
      capacity + its place), pad rows name the scratch row.
    gather_idx: for all-gather dispatch, the row of the gathered tokens
      (src * m + token) each received row is, pads name the zero row tp * m.
    capacity: rows per local expert in the expert buffer.
    """

    def __init__(self, router, me, counts, m, pad=None, capacity=None):
        tp, local = router.tp, router.local
        sizes = [sum(c) // router.top_k for c in counts]
        rows = router.splits(counts)
        mine = range(me * local, (me + 1) * local)
        # Send side: my slots in expert order; slot s is token s % n.
        n = sizes[me]
        self.send_splits = rows[me][:]
        self.send_idx = []
        slot = 0
        for d in range(tp):
            for _ in range(rows[me][d]):
                self.send_idx.append(slot % n)
                slot += 1
            if pad is not None:
                self.send_idx += [m] * (pad - rows[me][d])
        # Receive side: from each source, its slots for my experts.
        per_expert = [sum(counts[s][e] for s in range(tp)) for e in mine]
        need = max(per_expert, default=0)
        self.capacity = capacity if capacity is not None else max(need, 1)
        if need > self.capacity:
            raise ValueError(f"an expert got {need} rows, capacity {self.capacity}")
        scratch = local * self.capacity
        filled = [0] * local
        self.recv_splits = [rows[s][me] for s in range(tp)]
        self.recv_pos, self.gather_idx = [], []
        for s in range(tp):
            slot = sum(counts[s][e] for e in range(me * local))
            for le, e in enumerate(mine):
                for _ in range(counts[s][e]):
                    self.recv_pos.append(le * self.capacity + filled[le])
                    self.gather_idx.append(s * m + slot % sizes[s])
                    filled[le] += 1
                    slot += 1
            if pad is not None:
                short = pad - rows[s][me]
                self.recv_pos += [scratch] * short
                self.gather_idx += [tp * m] * short
        if pad is not None:
            self.send_splits = [pad] * tp
            self.recv_splits = [pad] * tp


def plan_layer(router, me, key, n, pad=False):
    """The plan of rank me for n replicated tokens. pad=True gives the static
    shapes a CUDA graph needs: every peer gets m * top_k rows (the most one
    shard can send one rank) and each expert tp * m rows."""
    m, sizes = shard_sizes(n, router.tp)
    counts = router.counts(key, sizes)
    if not pad:
        return Plan(router, me, counts, m)
    return Plan(router, me, counts, m, pad=m * router.top_k, capacity=router.tp * m)
