"""Routing and dispatch plans of the MoE stand-in (router.py), checked
against a direct simulation of the exchange: what every rank sends must be
what its peers expect, and every routed row must land in one expert slot."""

import unittest

import router as routing
import shapes


def exchange(r, key, n, pad):
    """Plans of every rank, and the rows each rank receives from each peer,
    simulating all_to_all_single with the plans' split sizes."""
    plans = [routing.plan_layer(r, me, key, n, pad) for me in range(r.tp)]
    for p in plans:
        assert sum(p.send_splits) == len(p.send_idx)
        assert sum(p.recv_splits) == len(p.recv_pos) == len(p.gather_idx)
    # send_idx blocks per destination, as all_to_all_single cuts them.
    sent = []
    for me, p in enumerate(plans):
        blocks, at = [], 0
        for k in p.send_splits:
            blocks.append([(me, t) for t in p.send_idx[at:at + k]])
            at += k
        sent.append(blocks)
    return plans, [[sent[s][d] for s in range(r.tp)] for d in range(r.tp)]


class RouterTest(unittest.TestCase):
    def test_apportion(self):
        c = routing.apportion(10, [1, 1, 2], 10)
        self.assertEqual(sum(c), 10)
        self.assertEqual(c[2], 5)
        self.assertEqual(routing.apportion(8, [100, 1, 1, 1], 2), [2, 2, 2, 2])  # the cap spreads it
        self.assertEqual(routing.apportion(0, [1, 2], 3), [0, 0])
        with self.assertRaises(ValueError):
            routing.apportion(7, [1, 1, 1], 2)

    def test_shards(self):
        self.assertEqual(routing.shard_sizes(5, 2), (3, [3, 2]))
        self.assertEqual(routing.shard_sizes(1, 4), (1, [1, 0, 0, 0]))
        self.assertEqual(routing.shard_sizes(8, 4), (2, [2, 2, 2, 2]))

    def test_counts_top_k_per_token(self):
        r = routing.Router(tp=2, experts=128, top_k=8)
        counts = r.counts("s/0", [300, 299])
        self.assertEqual([sum(c) for c in counts], [2400, 2392])
        self.assertLessEqual(max(max(c) for c in counts), 300)  # no expert twice per token

    def test_uneven_and_step_varying(self):
        r = routing.Router(tp=4, experts=128, top_k=8)
        a = r.splits(r.counts("1/0/3", [256] * 4))
        b = r.splits(r.counts("2/0/3", [256] * 4))
        self.assertNotEqual(a, b)
        self.assertTrue(any(len(set(row)) > 1 for row in a), a)
        # Deterministic: every rank derives the same splits.
        self.assertEqual(a, r.splits(r.counts("1/0/3", [256] * 4)))

    def test_exchange_matches(self):
        for tp, experts, k, n in ((2, 128, 8, 37), (4, 64, 6, 5), (2, 64, 6, 1), (1, 128, 8, 9)):
            r = routing.Router(tp, experts, k)
            for pad in (False, True):
                plans, got = exchange(r, "7/decode/2", n, pad)
                m, sizes = routing.shard_sizes(n, tp)
                for me, p in enumerate(plans):
                    # What I receive from s is what s sent me, row for row,
                    # in the order my recv_pos and gather_idx describe.
                    rows = [row for s in range(tp) for row in got[me][s]]
                    self.assertEqual(len(rows), len(p.gather_idx))
                    for (s, t), g in zip(rows, p.gather_idx):
                        if t == m:  # pad row
                            self.assertEqual(g, tp * m)
                        else:
                            self.assertEqual(g, s * m + t)
                    real = [pos for pos in p.recv_pos if pos != r.local * p.capacity]
                    self.assertEqual(len(real), len(set(real)), "two rows in one expert slot")
                    self.assertTrue(all(0 <= pos < r.local * p.capacity for pos in real))
                    if pad:
                        self.assertEqual(p.send_splits, [m * k] * tp)
                        self.assertEqual(p.capacity, tp * m)
                # Every token of every shard is sent exactly top_k times.
                for me, p in enumerate(plans):
                    real = [t for t in p.send_idx if t != m]
                    self.assertEqual(sorted(set(real)), list(range(sizes[me])))
                    self.assertTrue(all(real.count(t) == k for t in set(real)))

    def test_padded_shapes_fixed(self):
        r = routing.Router(2, 128, 8)
        a = routing.plan_layer(r, 0, "1/decode/0", 4, pad=True)
        b = routing.plan_layer(r, 0, "2/decode/0", 4, pad=True)
        self.assertEqual((len(a.send_idx), len(a.recv_pos)), (len(b.send_idx), len(b.recv_pos)))
        self.assertNotEqual(a.recv_pos, b.recv_pos)


class ShapesTest(unittest.TestCase):
    def test_models(self):
        q = shapes.resolve("Qwen/Qwen3-30B-A3B", {"layers": 4})
        self.assertEqual((q["kind"], q["experts"], q["top_k"], q["layers"]), ("moe", 128, 8, 4))
        d = shapes.resolve("deepseek-ai/DeepSeek-V2-Lite", {})
        self.assertEqual((d["experts"], d["shared_experts"], d["top_k"]), (64, 2, 6))
        self.assertIn("2 shared experts", shapes.describe(d))
        self.assertIn("DeepSeek-V2-Lite has", shapes.describe(d))
        self.assertEqual(shapes.resolve("my/model", {})["kind"], "dense")


if __name__ == "__main__":
    unittest.main()
