#!/usr/bin/env python3
"""Micro-benchmark of decoding GetPagesResponse on the Python client's get path: the hand-written
reader of _wire.py (a memoryview of each chunk's payload) against the protoc-generated message
(cache_pb2.GetPagesResponse.FromString, whose `data` is a new bytes object), each followed by the
copy into the caller's buffer the client makes anyway. Chunks of 1 MiB, as members send them, of
2 MiB pages (half the chunks carry the page's metadata). Best and median of several runs (the
machine is shared: the best run is the least disturbed, the median keeps allocation costs).

    PYTHONPATH=python/src /usr/bin/python3 python/bench_wire.py
"""
from __future__ import annotations

import time

from google.protobuf.internal import api_implementation

from kvcache_cluster._wire import cache_pb2, decode_get_pages_response

MIB = 1 << 20
RUNS = 7
PAGES_PER_RUN = 100


def chunks():
    data = bytes(range(256)) * (2 * MIB // 256)
    meta = cache_pb2.PageMeta(namespace="bench", key=b"k" * 32, parent_key=b"p" * 32, dtype=cache_pb2.FP16,
                              shape=[32, 2, 8, 16, 128], tokens=16, bytes=len(data), crc32c=1, created_at_ms=1_764_950_000_000)
    return [cache_pb2.GetPagesResponse(meta=meta, data=data[:MIB], offset=0, last=False).SerializeToString(),
            cache_pb2.GetPagesResponse(data=data[MIB:], offset=MIB, last=True).SerializeToString()]


def us_per_chunk(decode, messages, target):
    """(best, median) microseconds per chunk over RUNS runs."""
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(PAGES_PER_RUN):
            for i, message in enumerate(messages):
                target[i * MIB:(i + 1) * MIB] = decode(message).data
        runs.append((time.perf_counter() - started) / (PAGES_PER_RUN * len(messages)) * 1e6)
    runs.sort()
    return runs[0], runs[len(runs) // 2]


def main():
    messages = chunks()
    target = bytearray(2 * MIB)
    hand = us_per_chunk(decode_get_pages_response, messages, target)
    generated = us_per_chunk(cache_pb2.GetPagesResponse.FromString, messages, target)
    print(f"protobuf {api_implementation.Type()} backend; µs per 1 MiB chunk, decoded and copied into the destination")
    print(f"{'':40} {'best':>9} {'median':>9}")
    print(f"{'hand-written reader (_wire.py)':40} {hand[0]:9.1f} {hand[1]:9.1f}")
    print(f"{'protoc message (GetPagesResponse)':40} {generated[0]:9.1f} {generated[1]:9.1f}   "
          f"{generated[0] / hand[0]:.1f}x / {generated[1] / hand[1]:.1f}x")


if __name__ == "__main__":
    main()
