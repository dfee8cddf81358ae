"""Proves hash_blocks gives exactly the TypeScript client's keys: the golden vectors of
test/client/hash-vectors.json (the file test/client/hash.test.ts checks too), a naive rewrite of
the docs/CLIENT.md layout on random inputs, numpy/torch/range token holders, the chain property,
and refusal of what cannot be encoded (TypeError/ValueError) while ids in the ignored partial
block are not read."""
from __future__ import annotations

import hashlib
import json
import os
import random
import struct
import unittest

from kvcache_cluster import BLOCK_KEY_BYTES, hash_blocks

VECTORS = os.path.join(os.path.dirname(__file__), "..", "..", "test", "client", "hash-vectors.json")


def reference(tokens, block, namespace, salt=b"", extra=b""):
    """docs/CLIENT.md's reference, written out independently of kvcache_cluster.hashing."""
    u32 = lambda x: struct.pack("<I", x)  # noqa: E731
    sha16 = lambda b: hashlib.sha256(b).digest()[:16]  # noqa: E731
    ns = namespace.encode()
    salt = salt.encode() if isinstance(salt, str) else salt
    prev = sha16(b"kvc-block-v1" + u32(block) + u32(len(ns)) + ns + u32(len(salt)) + salt)
    keys = []
    for i in range(len(tokens) // block):
        prev = sha16(prev + b"".join(u32(t) for t in tokens[i * block:(i + 1) * block]) + u32(len(extra)) + extra)
        keys.append(prev)
    return keys


class GoldenVectors(unittest.TestCase):
    def test_shared_vector_file(self):
        with open(VECTORS, encoding="utf-8") as f:
            vectors = json.load(f)["vectors"]
        self.assertEqual(len(vectors), 4)
        for v in vectors:
            salt = b""
            if "salt" in v:
                salt = v["salt"]["utf8"] if "utf8" in v["salt"] else bytes.fromhex(v["salt"]["hex"])
            extra = bytes.fromhex(v.get("extra", ""))
            keys = hash_blocks(v["tokens"], v["blockTokens"], v["namespace"], salt=salt, extra=extra)
            self.assertEqual([k.hex() for k in keys], v["keys"], v["name"])
            self.assertEqual(reference(v["tokens"], v["blockTokens"], v["namespace"], salt, extra), keys, v["name"])


class Layout(unittest.TestCase):
    def test_random_inputs_match_the_written_out_layout(self):
        rng = random.Random(12345)
        for _ in range(50):
            tokens = [rng.randrange(2 ** 32) for _ in range(rng.randrange(200))]
            block = 1 + rng.randrange(20)
            ns = f"ns-{rng.randrange(7)}"
            salt = str(rng.randrange(3))
            self.assertEqual(hash_blocks(tokens, block, ns, salt=salt), reference(tokens, block, ns, salt))

    def test_token_holders(self):
        tokens = list(range(64))
        expected = hash_blocks(tokens, 16, "p")
        self.assertEqual(hash_blocks(range(64), 16, "p"), expected)
        self.assertEqual(hash_blocks(tuple(tokens), 16, "p"), expected)
        try:
            import numpy as np
        except ImportError:
            return
        self.assertEqual(hash_blocks(np.arange(64, dtype=np.int64), 16, "p"), expected)
        self.assertEqual(hash_blocks(np.arange(64, dtype=np.uint32), 16, "p"), expected)
        try:
            import torch
        except ImportError:
            return
        self.assertEqual(hash_blocks(torch.arange(64), 16, "p"), expected)

    def test_chain_and_partial_blocks(self):
        a = list(range(20))
        b = list(a)
        b[9] = 999
        ka, kb = hash_blocks(a, 4, "chain"), hash_blocks(b, 4, "chain")
        self.assertEqual(kb[:2], ka[:2])
        self.assertTrue(all(x != y for x, y in zip(ka[2:], kb[2:])))
        self.assertEqual(hash_blocks(a[:12], 4, "chain"), ka[:3])
        self.assertEqual(hash_blocks(list(range(15)), 16, "p"), [])
        self.assertEqual(hash_blocks(list(range(47)), 16, "p"), hash_blocks(list(range(32)), 16, "p"))
        self.assertTrue(all(len(k) == BLOCK_KEY_BYTES for k in ka))
        self.assertEqual(hash_blocks(list(range(64)), 16, "m", salt="t"), hash_blocks(list(range(64)), 16, "m", salt=b"t"))
        self.assertNotEqual(hash_blocks(list(range(64)), 16, "model-a", salt="tenant-1"),
                            hash_blocks(list(range(64)), 16, "model-at", salt="enant-1"))

    def test_refuses_what_it_cannot_encode(self):
        with self.assertRaises(ValueError):
            hash_blocks([1, -1], 2, "p")
        with self.assertRaises(ValueError):
            hash_blocks([1, 2 ** 32], 2, "p")
        with self.assertRaises(TypeError):
            hash_blocks([1, 1.5], 2, "p")
        with self.assertRaises(TypeError):
            hash_blocks([1, True], 2, "p")
        with self.assertRaises(ValueError):
            hash_blocks([1, 2], 0, "p")
        with self.assertRaises(TypeError):
            hash_blocks([1, 2], 2.5, "p")
        with self.assertRaises(TypeError):
            hash_blocks([1, 2], 2, None)
        with self.assertRaises(TypeError):
            hash_blocks("1234", 2, "p")
        with self.assertRaises(TypeError):
            hash_blocks([1, 2], 2, "p", salt=3)
        self.assertEqual(len(hash_blocks([1, 2, 3, -1], 3, "p")), 1, "a bad id in the ignored partial block is not read")

    def test_hashes_a_128k_token_prompt_quickly(self):
        import time

        started = time.perf_counter()
        keys = hash_blocks(list(range(131_072)), 16, "big", salt="s")
        self.assertEqual(len(keys), 8192)
        self.assertLess(time.perf_counter() - started, 2.0)


if __name__ == "__main__":
    unittest.main()
