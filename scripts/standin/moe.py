"""The MoE stand-in: tensor-parallel attention, expert-parallel MoE layers.

Attention is split by heads as in the dense stand-in and ends with an
all-reduce. Each MoE layer then routes the rank's shard of the tokens
(router.py) and moves them to the ranks owning their experts and back, in
one of the two ways engines do it (--moe-dispatch):

  alltoall:  all_to_all_single with the router's split sizes (dispatch),
             the experts, all_to_all_single back (combine);
  allgather: all_gather of the shards (every rank sees every token), the
             local experts, reduce_scatter of the partial outputs.

Then an all_gather of the shards makes the hidden states whole again for
the next attention. Eager steps send exactly the routed rows (uneven splits,
different every step); CUDA-graph decode sends fixed-size padded buffers
(the shapes a graph needs, as DeepEP's low-latency mode does), with the
routing fed through static index buffers before each replay.
"""

import torch
import torch.distributed as dist
import torch.nn.functional as F

import model
import router as routing


class MoEModel(model.TPModel):
    def __init__(self, shape, rank, device, cuda_graphs, dispatch="alltoall"):
        if dispatch not in ("alltoall", "allgather"):
            raise SystemExit(f"standin: --moe-dispatch must be alltoall or allgather, not {dispatch}")
        if shape.experts % shape.tp:
            raise SystemExit(f"standin: {shape.experts} experts do not split over --tp {shape.tp}")
        self.dispatch = dispatch
        self.router = routing.Router(shape.tp, shape.experts, shape.top_k)
        self.moe_layers = [i for i in range(shape.layers) if i >= shape.dense_layers]
        self.plans, self.static = {}, None
        super().__init__(shape, rank, device, cuda_graphs)

    def mlp_weights(self, i):
        s, h, dev = self.s, self.s.hidden, self.device
        if i < s.dense_layers:
            return super().mlp_weights(i)
        local, f = s.experts // s.tp, s.expert_ffn
        w = {"w_gate_up": model.rand((local, h, 2 * f), h, dev),
             "w_down": model.rand((local, f, h), f, dev)}
        if s.shared_experts:  # replicated: each rank runs them on its shard
            sf = s.shared_experts * f
            w["shared_gate_up"] = model.rand((h, 2 * sf), h, dev)
            w["shared_down"] = model.rand((sf, h), sf, dev)
        return w

    def info(self):
        per_layer = ["all_reduce (attention)"]
        if self.dispatch == "alltoall":
            per_layer += ["all_to_all_single (dispatch)", "all_to_all_single (combine)"]
        else:
            per_layer += ["all_gather (dispatch)", "reduce_scatter (combine)"]
        per_layer.append("all_gather (shards back to every rank)")
        return {"moe_dispatch": self.dispatch, "collectives_per_layer": per_layer,
                "dense_layers": self.s.dense_layers}

    # --- routing ------------------------------------------------------------

    def begin(self, key, n, graph=False):
        """Routes the next forward of n tokens; graph=True writes padded
        plans into the static buffers a captured graph reads."""
        key = "/".join(map(str, key))
        plans = {i: routing.plan_layer(self.router, self.rank, f"{key}/{i}", n, pad=graph)
                 for i in self.moe_layers}
        if graph:
            self._fill_static(plans)
            return
        dev = self.device
        self.plans = {i: {
            "send_idx": torch.tensor(p.send_idx, dtype=torch.long, device=dev),
            "recv_pos": torch.tensor(p.recv_pos, dtype=torch.long, device=dev),
            "gather_idx": torch.tensor(p.gather_idx, dtype=torch.long, device=dev),
            "send_splits": p.send_splits, "recv_splits": p.recv_splits,
            "capacity": p.capacity, "padded": False} for i, p in plans.items()}

    @torch.inference_mode()
    def _fill_static(self, plans):
        # The static buffers were made under inference mode (with the
        # graph); updating them in place needs it too.
        flat = []
        for i in self.moe_layers:
            p = plans[i]
            flat += p.send_idx + p.recv_pos + p.gather_idx
        src = torch.tensor(flat, dtype=torch.long)
        if self.static is None:
            self.static = torch.empty(len(flat), dtype=torch.long, device=self.device)
            rows = len(plans[self.moe_layers[0]].send_idx)
            views = self.static.view(len(self.moe_layers), 3, rows)
            p0 = plans[self.moe_layers[0]]
            self.plans = {i: {
                "send_idx": views[j, 0], "recv_pos": views[j, 1], "gather_idx": views[j, 2],
                "send_splits": p0.send_splits, "recv_splits": p0.recv_splits,
                "capacity": p0.capacity, "padded": True} for j, i in enumerate(self.moe_layers)}
        self.static.copy_(src)

    # --- collectives (tp 1: local copies) -------------------------------------

    def a2a(self, inp, out_rows, out_splits, in_splits, padded):
        out = inp.new_empty((out_rows, inp.shape[1]))
        if self.s.tp == 1:
            out.copy_(inp)
        elif padded:
            dist.all_to_all_single(out, inp)
        else:
            dist.all_to_all_single(out, inp, out_splits, in_splits)
        return out

    def gather_shards(self, shard):
        m, h = shard.shape
        if self.s.tp == 1:
            return shard.clone()
        out = shard.new_empty((self.s.tp * m, h))
        dist.all_gather_into_tensor(out, shard.contiguous())
        return out

    def reduce_scatter(self, full):
        if self.s.tp == 1:
            return full.clone()
        out = full.new_empty((full.shape[0] // self.s.tp, full.shape[1]))
        dist.reduce_scatter_tensor(out, full.contiguous())
        return out

    # --- the layer ------------------------------------------------------------

    def experts(self, rows, pos, capacity, L):
        """Runs the rank's experts on rows; pos is each row's expert-buffer
        row (local expert * capacity + place), the last row is scratch."""
        local, h = L["w_gate_up"].shape[0], rows.shape[1]
        buf = rows.new_zeros((local * capacity + 1, h))
        buf[pos] = rows
        gate, up = torch.bmm(buf[:-1].view(local, capacity, h), L["w_gate_up"]).chunk(2, dim=-1)
        out = torch.bmm(F.silu(gate) * up, L["w_down"]).view(local * capacity, h)
        return torch.cat([out, out.new_zeros((1, h))])[pos]

    def mlp(self, x, L):
        if "w_gate_up" not in L:
            return super().mlp(x, L)
        s, p = self.s, self.plans[L["index"]]
        n, h = x.shape
        m = -(-n // s.tp)
        lo, hi = self.rank * m, min(n, (self.rank + 1) * m)
        shard = x.new_zeros((m + 1, h))  # row m stays zero: what pad rows send
        if hi > lo:
            shard[: hi - lo] = x[lo:hi]
        k = 1.0 / s.top_k
        if self.dispatch == "alltoall":
            send = shard[p["send_idx"]]
            recv = self.a2a(send, p["recv_pos"].shape[0], p["recv_splits"], p["send_splits"], p["padded"])
            y = self.experts(recv, p["recv_pos"], p["capacity"], L)
            back = self.a2a(y, send.shape[0], p["send_splits"], p["recv_splits"], p["padded"])
            out = x.new_zeros((m + 1, h)).index_add_(0, p["send_idx"], back * k)[:m]
        else:
            every = torch.cat([self.gather_shards(shard[:m]), x.new_zeros((1, h))])
            y = self.experts(every[p["gather_idx"]], p["recv_pos"], p["capacity"], L)
            partial = x.new_zeros((s.tp * m + 1, h)).index_add_(0, p["gather_idx"], y * k)
            out = self.reduce_scatter(partial[: s.tp * m])
        if "shared_gate_up" in L:
            gate, up = (shard[:m] @ L["shared_gate_up"]).chunk(2, dim=-1)
            out = out + (F.silu(gate) * up) @ L["shared_down"]
        return self.gather_shards(out)[:n]
