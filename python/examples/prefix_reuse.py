#!/usr/bin/env python3
"""Prefix reuse with a real transformer: worker A prefills a prompt and stores its KV cache in the
cluster; worker B, another process, finds the cached prefix, loads it into its own KV cache,
computes only the rest of the prompt, and decodes. B checks its answer against its own full
recompute.

    npm start                                    # a local cluster on 127.0.0.1:7401-7403
    /usr/bin/python3 python/examples/prefix_reuse.py --endpoints 127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403

(PYTHONPATH=python/src unless the package is installed.) The model is a small decoder built here
with fixed seeds (no download): 2 layers, 4 heads of 16, learned positions, CPU, float32. Pages
hold 16 tokens each in the layout docs/CLIENT.md documents, layer-major fp16:
shape [layers, 2 (K, V), 16 tokens, kv_heads, head_dim].

Roles: `--role demo` (default) runs A here and B in a child process and prints both reports;
`--role a` and `--role b` run one worker and print one JSON line.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from typing import List, Optional, Tuple

import torch
from torch import nn

if __package__ in (None, ""):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from kvcache_cluster import Client, hash_blocks  # noqa: E402

BLOCK_TOKENS = 16
VOCAB = 256
D_MODEL = 64
HEADS = 4
HEAD_DIM = D_MODEL // HEADS
LAYERS = 2
POSITIONS_MAX = 512
MODEL_SEED = 1234
PROMPT_SEED = 7
PROMPT_TOKENS = 56  # three full blocks cached, eight tokens B computes itself
DECODE_TOKENS = 8

Past = List[Tuple[torch.Tensor, torch.Tensor]]  # per layer: K, V of shape [heads, positions, head_dim]


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.norm2 = nn.LayerNorm(D_MODEL)
        self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL))

    def forward(self, x: torch.Tensor, past: Optional[Tuple[torch.Tensor, torch.Tensor]]) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        steps = x.shape[0]
        q, k, v = self.qkv(self.norm1(x)).split(D_MODEL, dim=-1)
        q, k, v = (t.reshape(steps, HEADS, HEAD_DIM).transpose(0, 1) for t in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=1)
            v = torch.cat([past[1], v], dim=1)
        cached = k.shape[1] - steps
        # Query i sits at position cached + i and sees keys 0..cached + i.
        mask = torch.ones(steps, k.shape[1], dtype=torch.bool).tril(diagonal=cached)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(HEAD_DIM)
        attention = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v
        x = x + self.proj(attention.transpose(0, 1).reshape(steps, D_MODEL))
        return x + self.mlp(self.norm2(x)), (k, v)


class TinyDecoder(nn.Module):
    """A GPT-style decoder small enough to build and run in a test, deterministic from its seed."""

    def __init__(self, seed: int = MODEL_SEED) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.position = nn.Embedding(POSITIONS_MAX, D_MODEL)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB)
        self.eval()

    @torch.no_grad()
    def forward(self, tokens: torch.Tensor, past: Optional[Past] = None) -> Tuple[torch.Tensor, Past]:
        start = 0 if past is None else past[0][0].shape[1]
        x = self.embed(tokens) + self.position(torch.arange(start, start + tokens.shape[0]))
        present: Past = []
        for layer, block in enumerate(self.blocks):
            x, kv = block(x, None if past is None else past[layer])
            present.append(kv)
        return self.head(self.norm(x)), present


def prompt_tokens() -> List[int]:
    generator = torch.Generator().manual_seed(PROMPT_SEED)
    return torch.randint(0, VOCAB, (PROMPT_TOKENS,), generator=generator).tolist()


def pages_of(present: Past, blocks: int) -> torch.Tensor:
    """The KV cache as pages: [blocks, layers, 2, BLOCK_TOKENS, heads, head_dim], fp16."""
    kv = torch.stack([torch.stack([k, v]) for k, v in present])  # [layers, 2, heads, positions, head_dim]
    kv = kv[:, :, :, : blocks * BLOCK_TOKENS].reshape(LAYERS, 2, HEADS, blocks, BLOCK_TOKENS, HEAD_DIM)
    return kv.permute(3, 0, 1, 4, 2, 5).contiguous().to(torch.float16)


def past_of(pages: torch.Tensor) -> Past:
    """The inverse of pages_of, in float32 for the model."""
    blocks = pages.shape[0]
    kv = pages.to(torch.float32).permute(1, 2, 4, 0, 3, 5).reshape(LAYERS, 2, HEADS, blocks * BLOCK_TOKENS, HEAD_DIM)
    return [(kv[layer, 0], kv[layer, 1]) for layer in range(LAYERS)]


def decode(model: TinyDecoder, logits: torch.Tensor, past: Past, steps: int) -> List[int]:
    out = []
    for _ in range(steps):
        token = int(logits[-1].argmax())
        out.append(token)
        logits, past = model(torch.tensor([token]), past)
    return out


def worker_a(client: Client, namespace: str, salt: bytes) -> dict:
    """Prefills the prompt and stores the KV of its full blocks; returns what it stored."""
    model = TinyDecoder()
    tokens = prompt_tokens()
    keys = hash_blocks(tokens, BLOCK_TOKENS, namespace, salt=salt)
    _, present = model(torch.tensor(tokens))
    pages = pages_of(present, len(keys))
    results = client.put_pages([
        {"meta": {"namespace": namespace, "key": key, "parent_key": keys[i - 1] if i else None, "dtype": "fp16",
                  "shape": list(pages[i].shape), "tokens": BLOCK_TOKENS}, "data": pages[i]}
        for i, key in enumerate(keys)
    ])
    return {"role": "a", "pages": len(keys), "stored": sum(r.ok for r in results), "codes": sorted({r.code for r in results})}


def worker_b(client: Client, namespace: str, salt: bytes) -> dict:
    """Reuses the cached prefix, computes the rest, decodes, and compares with a full recompute."""
    torch.set_num_threads(1)
    model = TinyDecoder()
    tokens = prompt_tokens()
    keys = hash_blocks(tokens, BLOCK_TOKENS, namespace, salt=salt)
    started = time.perf_counter()
    hit = client.lookup(namespace, keys, lease_ms=10_000, linearizable=True)
    pages = torch.empty((hit, LAYERS, 2, BLOCK_TOKENS, HEADS, HEAD_DIM), dtype=torch.float16)
    loaded = sum(1 for _ in client.get_pages(namespace, keys[:hit], out=pages, allow_partial=True))
    past = past_of(pages[:loaded]) if loaded else None
    reused = loaded * BLOCK_TOKENS
    logits, past = model(torch.tensor(tokens[reused:]), past)
    decoded = decode(model, logits, past, DECODE_TOKENS)
    reuse_ms = (time.perf_counter() - started) * 1000
    full_logits, full_past = model(torch.tensor(tokens))
    full_decoded = decode(model, full_logits, full_past, DECODE_TOKENS)
    return {
        "role": "b", "hit": hit, "loaded": loaded, "reused_tokens": reused, "computed_tokens": len(tokens) - reused,
        "max_abs_logit_diff": float((logits[-1] - full_logits[-1]).abs().max()),
        "logit_scale": float(full_logits[-1].abs().max()),
        "decoded": decoded, "decoded_full": full_decoded, "reuse_ms": round(reuse_ms, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Prefix reuse across two workers with a real transformer.")
    parser.add_argument("--endpoints", default=os.environ.get("KVC_ENDPOINTS", "127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403"))
    parser.add_argument("--namespace", default="example/tiny-decoder")
    parser.add_argument("--salt", default="tenant-a")
    parser.add_argument("--role", choices=("demo", "a", "b"), default="demo")
    args = parser.parse_args()
    salt = args.salt.encode()
    with Client(args.endpoints) as client:
        if args.role == "a":
            print(json.dumps(worker_a(client, args.namespace, salt)))
            return 0
        if args.role == "b":
            print(json.dumps(worker_b(client, args.namespace, salt)))
            return 0
        print(json.dumps(worker_a(client, args.namespace, salt)))
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--role", "b", "--endpoints", args.endpoints,
                            "--namespace", args.namespace, "--salt", args.salt], check=True, capture_output=True, text=True, timeout=120)
    report = json.loads(child.stdout)
    print(json.dumps(report))
    same = report["decoded"] == report["decoded_full"]
    print(f"worker B reused {report['reused_tokens']} of {PROMPT_TOKENS} prompt tokens; next-token logits differ from a full "
          f"recompute by {report['max_abs_logit_diff']:.2e}; decoded tokens {'match' if same else 'DIFFER'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
