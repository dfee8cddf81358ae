#!/usr/bin/env python3
"""Benchmark of the Python client against a running cluster: PUT and GET throughput of 2 MiB
pages and Lookup latency, printed as a table (or one JSON line with --json).

    npm start    # in another terminal: a local cluster on 127.0.0.1:7401-7403
    PYTHONPATH=python/src /usr/bin/python3 python/bench.py --endpoints 127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403

`npm run bench -- python` starts its own `kvc dev` cluster, runs this script and the same
workload through the TypeScript client, and reports both side by side (scripts/bench/python-suite.ts).

Workload: --pages pages of --page-bytes random bytes, put --batch pages per put_pages call, one
call at a time (each call waits for a majority commit); then every page read back --reads times
with get_pages into one preallocated buffer, with crc32c verification on and then off (to show
its cost), and copied from the members' shared-memory arenas (getMBpsSharedMemory; a member that
cannot be read that way is streamed and named in sharedMemoryProblem); then --lookups Lookups of a --chain-key chain whose first half is cached, one at a time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid

if __package__ in (None, ""):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from kvcache_cluster import Client, checksum, crc32c, hash_blocks  # noqa: E402

MB = 1e6


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(endpoints, pages, page_bytes, batch, reads, lookups, chain_keys):
    ns = f"bench-python-{uuid.uuid4().hex[:8]}"
    payloads = [os.urandom(page_bytes) for _ in range(min(pages, 8))]
    keys = [os.urandom(16) for _ in range(pages)]
    result = {"pages": pages, "pageBytes": page_bytes, "batch": batch}
    with Client(endpoints, deadline_ms=60_000) as client:
        started = time.perf_counter()
        for first in range(0, pages, batch):
            chunk = [{"meta": {"namespace": ns, "key": keys[i], "dtype": "u8", "shape": [page_bytes], "tokens": 16},
                      "data": payloads[i % len(payloads)]} for i in range(first, min(first + batch, pages))]
            codes = {r.code for r in client.put_pages(chunk)}
            if codes != {""}:
                raise RuntimeError(f"puts refused: {codes}")
        result["putMBps"] = round(pages * page_bytes / MB / (time.perf_counter() - started), 1)
        # Reads rotate over the members; wait until the last one applied every page.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(client.lookup(ns, keys, endpoint=e) == pages for e in client.endpoints()):
            time.sleep(0.05)
        out = bytearray(pages * page_bytes)
        # Over gRPC with and without crc32c checks, then copied from the members' shared arenas
        # (transfer="shared-memory": same host only; crc32c always checked), in the same run.
        for label, verify, transfer in (("getMBps", True, "grpc"), ("getMBpsNoVerify", False, "grpc"),
                                        ("getMBpsSharedMemory", True, "shared-memory")):
            with Client(endpoints, deadline_ms=60_000, verify_checksums=verify, transfer=transfer) as reader:
                if transfer == "shared-memory":
                    problems = {e: reader.shared_memory_problem(e) for e in reader.endpoints()}
                    if any(problems.values()):
                        result["sharedMemoryProblem"] = "; ".join(f"{e}: {why}" for e, why in problems.items() if why)
                started = time.perf_counter()
                for _ in range(reads):
                    got = sum(1 for _ in reader.get_pages(ns, keys, out=out))
                    if got != pages:
                        raise RuntimeError(f"read {got} of {pages} pages")
                result[label] = round(reads * pages * page_bytes / MB / (time.perf_counter() - started), 1)
        chain = hash_blocks(list(range(16 * chain_keys)), 16, ns)
        half = chain_keys // 2
        client.put_pages([{"meta": {"namespace": ns, "key": k, "dtype": "u8", "shape": [16], "tokens": 16}, "data": bytes(16)} for k in chain[:half]])
        result["lookupMsP50"], result["lookupMsP99"] = lookup_latencies(client, ns, chain, lookups)
        # The same lookups answered from a same-host member's shared index (lookup_via="shared-memory").
        with Client(endpoints, lookup_via="shared-memory") as local:
            deadline = time.monotonic() + 10
            while local.shared_lookup_problem() and time.monotonic() < deadline:
                time.sleep(0.05)
            problem = local.shared_lookup_problem()
            if problem:
                result["sharedLookupProblem"] = problem
            else:
                while local.lookup(ns, chain) != half and time.monotonic() < deadline:
                    time.sleep(0.05)
                result["lookupMsP50SharedMemory"], result["lookupMsP99SharedMemory"] = lookup_latencies(local, ns, chain, lookups)
        sample = payloads[0]
        started = time.perf_counter()
        crc32c(sample)
        result["crc32cMBps"] = round(len(sample) / MB / (time.perf_counter() - started), 1)
        result["crc32cImplementation"] = checksum.IMPLEMENTATION
        client.delete(ns, keys + chain[:half])
    return result


def lookup_latencies(client, ns, chain, lookups):
    """p50 and p99 in ms of `lookups` lookups of `chain`, one at a time."""
    latencies = []
    for _ in range(lookups):
        started = time.perf_counter()
        client.lookup(ns, chain)
        latencies.append((time.perf_counter() - started) * 1000)
    return round(quantile(latencies, 0.5), 3), round(quantile(latencies, 0.99), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", default=os.environ.get("KVC_ENDPOINTS", "127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403"))
    parser.add_argument("--pages", type=int, default=64)
    parser.add_argument("--page-bytes", type=int, default=2 * 1024 * 1024)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reads", type=int, default=3)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--chain-keys", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.endpoints, args.pages, args.page_bytes, args.batch, args.reads, args.lookups, args.chain_keys)
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result.items():
            print(f"{name:>20}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
