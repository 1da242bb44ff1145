"""The engine core forgets a request once its last token is sent, so a
long replay does not keep every request it served."""
import threading
import unittest

import engine


class Pipe:
    def __init__(self):
        self.sent = []

    def send(self, msg):
        self.sent.append(msg)


class EmitterTest(unittest.TestCase):
    def test_last_token_forgets_the_request(self):
        pipe, seqs = Pipe(), {7: object(), 8: object()}
        out = engine.Emitter(pipe, threading.Lock(), 7, seqs)
        out.put((11, False))
        self.assertIn(7, seqs)
        out.put((12, True))
        self.assertEqual(list(seqs), [8])
        self.assertEqual(pipe.sent, [("tok", 7, 11, False), ("tok", 7, 12, True)])


if __name__ == "__main__":
    unittest.main()
