"""Proves prefix reuse with a real transformer (python/examples/prefix_reuse.py: a small PyTorch
decoder built from fixed seeds, CPU): worker A prefills a prompt and stores its per-layer K/V as
fp16 pages; worker B, a separate process, hashes the same prompt, finds the cached prefix, loads
the pages into its KV cache, computes only the rest and decodes. Its next-token logits equal its
own full recompute within fp16 tolerance and it decodes the same tokens, while a deliberately
wrong cache (the blocks out of order) is detected by the same comparison; under another salt or
namespace B finds nothing. (Block order alone would not be caught: attention without rotary
positions treats cached keys as a set.)"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import unittest
import uuid

try:
    import torch
except ImportError:  # python3-torch is optional for the package; .ci/run installs it
    torch = None

from kvcache_cluster import Client

from . import cluster

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "prefix_reuse.py")
# K/V rounded to fp16 change this model's logits (magnitude ~1.5) by about 1e-5; 1e-3 leaves room
# for other CPUs' kernels, while every wrong cache tried below moves them by more than 1e-2.
LOGIT_TOLERANCE = 1e-3


def load_example():
    spec = importlib.util.spec_from_file_location("prefix_reuse", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_b(namespace: str, salt: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, EXAMPLE, "--role", "b", "--endpoints", ",".join(cluster.endpoints()),
                           "--namespace", namespace, "--salt", salt], capture_output=True, text=True, timeout=120, env=env)
    if done.returncode != 0:
        raise AssertionError(f"worker B failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


@unittest.skipIf(torch is None, "python3-torch is not installed")
class PrefixReuse(unittest.TestCase):
    def test_worker_b_reuses_worker_a_prefix(self):
        example = load_example()
        namespace = f"model-{uuid.uuid4().hex[:8]}"
        with Client(cluster.endpoints()) as client:
            stored = example.worker_a(client, namespace, b"tenant-a")
        self.assertEqual((stored["pages"], stored["stored"]), (3, 3))

        report = run_b(namespace, "tenant-a")
        self.assertEqual((report["hit"], report["loaded"], report["reused_tokens"]), (3, 3, 48))
        self.assertEqual(report["computed_tokens"], example.PROMPT_TOKENS - 48)
        self.assertLess(report["max_abs_logit_diff"], LOGIT_TOLERANCE, report)
        self.assertEqual(report["decoded"], report["decoded_full"])

        # The same worker B code, run here to spare two interpreter starts.
        with Client(cluster.endpoints()) as client:
            other_salt = example.worker_b(client, namespace, b"tenant-b")
            other_namespace = example.worker_b(client, namespace + "-other", b"tenant-a")
        self.assertEqual((other_salt["hit"], other_salt["reused_tokens"]), (0, 0), "another salt shares nothing")
        self.assertEqual(other_namespace["hit"], 0, "another namespace shares nothing")
        self.assertEqual(other_salt["decoded"], report["decoded"], "without a cache B computes the same answer")

    def test_the_comparison_detects_a_wrong_cache(self):
        example = load_example()
        model = example.TinyDecoder()
        tokens = torch.tensor(example.prompt_tokens())
        full, present = model(tokens)
        pages = example.pages_of(present, 3)
        right, _ = model(tokens[48:], example.past_of(pages))
        self.assertLess(float((right[-1] - full[-1]).abs().max()), LOGIT_TOLERANCE)
        other_prompt = (tokens + 1) % example.VOCAB
        wrong_caches = {
            "another prompt's pages": example.pages_of(model(other_prompt)[1], 3),
            "K and V swapped": pages[:, :, [1, 0]].contiguous(),
            "layers swapped": pages[:, [1, 0]].contiguous(),
        }
        for name, wrong_pages in wrong_caches.items():
            wrong, _ = model(tokens[48:], example.past_of(wrong_pages))
            self.assertGreater(float((wrong[-1] - full[-1]).abs().max()), 10 * LOGIT_TOLERANCE, name)


if __name__ == "__main__":
    unittest.main()
