"""Tests of the stand-in's HTTP side and scheduler with the fake engine
(no torch needed): python3 -m unittest discover -s scripts/standin"""

import http.client
import json
import threading
import unittest

import api
import engine


class StandinHTTPTest(unittest.TestCase):
    def setUp(self):
        self.sched = api.Scheduler(batch=2, max_len=64, vocab=1000)
        self.httpd = api.serve(self.sched, "127.0.0.1", 0, "test-model")
        self.port = self.httpd.server_address[1]
        self.stop = threading.Event()
        fake = api.FakeEngine(1000, step_delay=0.005)
        self.loop = threading.Thread(target=engine.engine_loop, args=(fake.execute, self.sched, self.stop))
        self.sched.ready.set()
        self.loop.start()

    def tearDown(self):
        self.stop.set()
        self.loop.join()
        self.httpd.shutdown()
        self.httpd.server_close()

    def post(self, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read().decode()

    def events(self, text):
        return [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]

    def test_stream(self):
        status, text = self.post({"model": "m", "prompt": [7] * 10, "max_tokens": 4, "ignore_eos": True,
                                  "stream": True, "stream_options": {"include_usage": True}})
        self.assertEqual(status, 200)
        ev = self.events(text)
        self.assertEqual(ev[-1], "[DONE]")
        chunks = [json.loads(e) for e in ev[:-1]]
        tokens = [c["choices"][0]["text"] for c in chunks if c["choices"]]
        # Prefill answers len(prompt) = 10, each decode the previous token + 1.
        self.assertEqual(tokens, [" t10", " t11", " t12", " t13"])
        self.assertEqual([c["choices"][0]["finish_reason"] for c in chunks[:4]], [None, None, None, "length"])
        self.assertEqual(chunks[-1]["usage"], {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14})

    def test_not_streamed(self):
        status, text = self.post({"prompt": [[1, 2, 3]], "max_tokens": 2})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(text)["choices"][0]["text"], " t3 t4")

    def test_concurrency_capped_by_batch(self):
        results = []

        def one(i):
            results.append(self.post({"prompt": [1] * (i + 1), "max_tokens": 5, "stream": True}))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 6)
        self.assertTrue(all(s == 200 and self.events(t)[-1] == "[DONE]" for s, t in results))
        self.assertEqual(self.sched.max_running, 2)
        self.assertEqual(self.sched.running(), 0)

    def test_too_long_and_bad_tokens(self):
        status, text = self.post({"prompt": [1] * 60, "max_tokens": 5, "stream": True})
        self.assertEqual(status, 400)
        self.assertIn("maximum context length is 64", text)
        status, _ = self.post({"prompt": [1000], "max_tokens": 1})
        self.assertEqual(status, 400)

    def test_health_and_models(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("GET", "/health")
        self.assertEqual(c.getresponse().status, 200)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("GET", "/v1/models")
        self.assertEqual(json.loads(c.getresponse().read())["data"][0]["id"], "test-model")


class SchedulerTest(unittest.TestCase):
    def test_plan_positions(self):
        s = api.Scheduler(batch=3, max_len=16, vocab=100)
        a = s.submit([5, 6, 7], 3)
        plan = s.next_plan(timeout=0)
        self.assertEqual(plan["prefills"], [(0, [5, 6, 7])])
        self.assertEqual(plan["decode"], [])
        s.complete(plan, [42], [])
        b = s.submit([1], 2)
        plan = s.next_plan(timeout=0)
        # a decodes token 42 at position 3; b is prefilled into slot 1; idle
        # slot 2 writes the scratch column 16.
        self.assertEqual(plan["decode"], [0])
        self.assertEqual(plan["prefills"], [(1, [1])])
        self.assertEqual(plan["tokens"], [42, 0, 0])
        self.assertEqual(plan["positions"], [3, 16, 16])
        s.complete(plan, [9], [43, 0, 0])
        self.assertEqual([a.out.get_nowait(), a.out.get_nowait()], [(42, False), (43, False)])
        self.assertEqual(b.out.get_nowait(), (9, False))
        plan = s.next_plan(timeout=0)
        self.assertEqual(plan["positions"], [4, 1, 16])
        s.complete(plan, [], [44, 10, 0])
        self.assertEqual(a.out.get_nowait(), (44, True))
        self.assertEqual(b.out.get_nowait(), (10, True))
        self.assertEqual(s.slots, [None, None, None])
        self.assertIsNone(s.next_plan(timeout=0))


if __name__ == "__main__":
    unittest.main()
