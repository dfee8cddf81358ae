"""Proves the Client against a real 3-member cluster (tests/cluster.py): pages put from bytes,
numpy and torch come back byte-identical into every kind of `out` (fresh buffers, one buffer
back to back, a numpy array, a bf16 torch tensor, an allocator callable) and converted with
as_dtype; lookups count the cached prefix; allow_partial and KVC_NOT_FOUND; delete, pin, unpin;
a put starting at a follower reaches the leader through the `kvcache-leader` redirect; server
refusals arrive as KvcError with the server's code and gRPC status, first-writer-wins per page;
bad input is TypeError/ValueError before anything is sent; an unreachable cluster fails within
its deadlines; a closed client refuses calls. Through a real TCP proxy that drops the connection
(faulty_link.py): a get cut midway resumes on another member from the first page not delivered
(no page twice), and a put cut off is resent whole and stored once. Also the retry rules themselves, case by case."""
from __future__ import annotations

import os
import time
import unittest
import uuid

import grpc

try:
    import numpy as np
except ImportError:  # python3-numpy is optional for the package; .ci/run installs it
    np = None
try:
    import torch
except ImportError:
    torch = None

from kvcache_cluster import Client, KvcError, PageInput, hash_blocks
from kvcache_cluster.client import _decide

from . import cluster
from .faulty_link import FaultyLink


def fp16_pages(ns, keys, layers=2, seed=0):
    rng = np.random.default_rng(seed)
    pages = []
    for i, key in enumerate(keys):
        data = rng.standard_normal((layers, 2, 16, 2, 8)).astype(np.float16)
        meta = {"namespace": ns, "key": key, "parent_key": keys[i - 1] if i else None, "dtype": "fp16",
                "shape": list(data.shape), "tokens": 16}
        pages.append({"meta": meta, "data": data})
    return pages


@unittest.skipIf(np is None or torch is None, "python3-numpy and python3-torch are needed to build the test pages")
class ClientAgainstCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.endpoints = cluster.endpoints()
        cls.client = Client(cls.endpoints)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def fresh(self, prefix="py-client"):
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    def put_chain(self, ns, blocks=4, seed=0):
        keys = hash_blocks(list(range(16 * blocks)), 16, ns, salt=b"t")
        pages = fp16_pages(ns, keys, seed=seed)
        results = self.client.put_pages(pages)
        self.assertEqual([r.code for r in results], [""] * blocks)
        self.assertEqual([r.key for r in results], keys)
        return keys, pages

    def test_round_trip_into_every_kind_of_destination(self):
        ns = self.fresh()
        keys, pages = self.put_chain(ns)
        self.assertEqual(self.client.lookup(ns, keys, linearizable=True), 4)
        expected = b"".join(p["data"].tobytes() for p in pages)

        fresh = list(self.client.get_pages(ns, keys))
        self.assertEqual(b"".join(bytes(d) for _, d in fresh), expected)
        meta = fresh[1][0]
        self.assertEqual((meta.key, meta.parent_key, meta.dtype, meta.shape, meta.tokens, meta.bytes),
                         (keys[1], keys[0], "fp16", (2, 2, 16, 2, 8), 16, len(expected) // 4))

        buffer = bytearray(len(expected))
        views = [d for _, d in self.client.get_pages(ns, keys, out=buffer)]
        self.assertEqual(bytes(buffer), expected)
        self.assertTrue(all(v.obj is buffer for v in views), "each page is a slice of out, not a copy")

        array = np.empty((4, 2, 2, 16, 2, 8), dtype=np.float16)
        list(self.client.get_pages(ns, keys, out=array))
        self.assertTrue(all((array[i] == pages[i]["data"]).all() for i in range(4)))

        as_fp32 = torch.empty((4, 2, 2, 16, 2, 8), dtype=torch.float32)
        metas = [m for m, _ in self.client.get_pages(ns, keys, out=as_fp32, as_dtype=torch.float32)]
        self.assertEqual(metas[0].dtype, "fp32")
        self.assertTrue(torch.equal(as_fp32, torch.from_numpy(array.astype(np.float32))))

        as_bf16 = torch.empty((4, 2, 2, 16, 2, 8), dtype=torch.bfloat16)
        with self.assertRaises(ValueError):  # fp16 pages are 2 bytes/element, bf16 too, but fp32 is 4: too small
            list(self.client.get_pages(ns, keys, out=as_bf16, as_dtype="fp32"))
        list(self.client.get_pages(ns, keys, out=as_bf16))
        self.assertEqual(as_bf16.view(torch.uint8).numpy().tobytes(), expected, "bytes land as they are")

        allocated = []

        def allocate(meta):
            allocated.append(np.empty(meta.shape, dtype=np.float16))
            return allocated[-1]

        list(self.client.get_pages(ns, keys, out=allocate))
        self.assertTrue(all((a == p["data"]).all() for a, p in zip(allocated, pages)))

    def test_put_accepts_torch_bytes_and_page_inputs(self):
        ns = self.fresh()
        keys = hash_blocks(list(range(48)), 16, ns)
        tensor = torch.arange(64, dtype=torch.float32).reshape(4, 16)
        raw = bytes(range(256)) * 4
        pages = [
            {"meta": {"namespace": ns, "key": keys[0], "shape": [4, 16], "tokens": 16}, "data": tensor},
            PageInput(meta={"namespace": ns, "key": keys[1], "dtype": "u8", "shape": [1024], "tokens": 16}, data=raw),
            {"meta": {"namespace": ns, "key": keys[2], "dtype": "fp32", "shape": [4, 16], "tokens": 16, "store_dtype": "fp16", "ttl_ms": 600_000},
             "data": tensor.numpy()},
        ]
        self.assertEqual([r.ok for r in self.client.put_pages(pages)], [True, True, True])
        got = list(self.client.get_pages(ns, keys))
        self.assertEqual(bytes(got[0][1]), tensor.numpy().tobytes())
        self.assertEqual(bytes(got[1][1]), raw)
        self.assertEqual((got[2][0].dtype, got[2][0].bytes), ("fp16", 128), "stored as fp16")
        self.assertEqual(got[2][0].ttl_ms, 600_000)

    def test_missing_pages(self):
        ns = self.fresh()
        keys, _ = self.put_chain(ns, blocks=2)
        missing = os.urandom(16)
        self.assertEqual(self.client.lookup(ns, keys + [missing] + keys, linearizable=True), 2)
        self.assertEqual(len(list(self.client.get_pages(ns, keys + [missing] + keys, allow_partial=True))), 2)
        got = []
        with self.assertRaises(KvcError) as raised:
            for page in self.client.get_pages(ns, keys + [missing]):
                got.append(page)
        self.assertEqual(len(got), 2, "the pages before the missing one were delivered")
        self.assertEqual(raised.exception.code, "KVC_NOT_FOUND")
        self.assertEqual(raised.exception.grpc_status, grpc.StatusCode.NOT_FOUND)
        self.assertEqual(raised.exception.grpc_code, 5)
        self.assertGreater(raised.exception.attempts, 1, "the other members were asked before giving up")

    def test_delete_pin_unpin_and_leases(self):
        ns = self.fresh()
        keys, _ = self.put_chain(ns, blocks=2)
        self.client.pin(ns, keys, 60_000)
        self.client.unpin(ns, keys)
        self.assertEqual(self.client.lookup(ns, keys, lease_ms=5_000, linearizable=True), 2)
        self.client.delete(ns, keys[1:])
        self.client.delete(ns, keys[1:])  # idempotent
        self.assertEqual(self.client.lookup(ns, keys, linearizable=True), 1)

    def test_leader_discovery_through_redirects(self):
        status = self.client.status(self.endpoints[0])
        self.assertTrue(cluster.wait_until(lambda: self.client.status(self.endpoints[0]).leader_address != ""))
        leader = self.client.status(self.endpoints[0]).leader_address
        followers = [e for e in self.endpoints if e != leader]
        self.assertEqual(len(status.members), 3)
        with Client(followers[:1]) as client:
            self.assertIsNone(client.leader)
            ns = self.fresh()
            keys = hash_blocks(list(range(16)), 16, ns)
            self.assertTrue(client.put_pages(fp16_pages(ns, keys))[0].ok)
            self.assertEqual(client.leader, leader, "the follower's kvcache-leader trailer was followed")
            self.assertIn(leader, client.endpoints())

    def test_server_codes_arrive_as_kvc_errors(self):
        ns = self.fresh()
        keys, pages = self.put_chain(ns, blocks=1)
        again = self.client.put_pages(pages)
        self.assertEqual(again[0].code, "", "the same key and bytes again is a success")
        other = fp16_pages(ns, keys, seed=99)
        self.assertEqual(self.client.put_pages(other)[0].code, "KVC_EXISTS_DIFFERENT")
        with self.assertRaises(KvcError) as raised:
            self.client.lookup("bad namespace!", keys)
        self.assertEqual((raised.exception.code, raised.exception.grpc_status),
                         ("KVC_INVALID_NAMESPACE", grpc.StatusCode.INVALID_ARGUMENT))
        self.assertEqual(raised.exception.attempts, 1, "a refusal of the request itself is not retried")

    def test_bad_input_is_refused_before_sending(self):
        ns = self.fresh()
        key = os.urandom(16)
        page = {"meta": {"namespace": ns, "key": key, "dtype": "fp16", "shape": [4], "tokens": 1}, "data": bytes(8)}
        cases = [
            (TypeError, lambda: self.client.lookup(ns, key)),
            (TypeError, lambda: self.client.lookup(ns, ["abc"])),
            (ValueError, lambda: self.client.lookup(ns, [b"short"])),
            (ValueError, lambda: self.client.lookup(ns, [bytes(65)])),
            (TypeError, lambda: self.client.lookup(7, [key])),
            (ValueError, lambda: self.client.lookup(ns, [key], lease_ms=60_001)),
            (TypeError, lambda: self.client.get_pages(ns, [key], out=bytes(8))),
            (ValueError, lambda: self.client.get_pages(ns, [key], out=np.zeros((4, 4))[:, ::2])),
            (ValueError, lambda: self.client.get_pages(ns, [key], as_dtype="int4")),
            (TypeError, lambda: self.client.get_pages(ns, [key], out=object())),
            (ValueError, lambda: self.client.put_pages([{**page, "data": bytes(6)}])),
            (ValueError, lambda: self.client.put_pages([{**page, "meta": {**page["meta"], "dtype": "fp64"}}])),
            (ValueError, lambda: self.client.put_pages([{**page, "meta": {**page["meta"], "shape": [0, 4]}}])),
            (TypeError, lambda: self.client.put_pages([{**page, "meta": {**page["meta"], "key": "text"}}])),
            (TypeError, lambda: self.client.put_pages([{**page, "data": 12}])),
            (TypeError, lambda: self.client.put_pages(page)),
            (ValueError, lambda: self.client.pin(ns, [key], 0)),
            (ValueError, lambda: Client([])),
            (TypeError, lambda: Client([7])),
            (ValueError, lambda: Client(["127.0.0.1:1"], ca=b"pem", cert=b"pem")),  # cert without key
            (ValueError, lambda: Client(["127.0.0.1:1"], cert=b"pem", key=b"pem")),  # a client cert needs ca
            (TypeError, lambda: Client(["127.0.0.1:1"], ca=7)),
        ]
        for error, call in cases:
            with self.assertRaises(error):
                call()
        self.assertEqual(self.client.lookup(ns, [key]), 0, "nothing was stored")

    def test_unreachable_cluster_fails_within_its_deadlines(self):
        started = time.monotonic()
        with Client(["127.0.0.1:1"], retries=2, deadline_ms=500, backoff_base_ms=10) as client:
            with self.assertRaises(KvcError) as raised:
                client.lookup("ns", [os.urandom(16)])
        self.assertEqual(raised.exception.code, "KVC_UNAVAILABLE")
        self.assertEqual(raised.exception.attempts, 3)
        self.assertLess(time.monotonic() - started, 5)

    def test_a_get_cut_midway_resumes_on_another_member(self):
        ns = self.fresh()
        keys = [os.urandom(16) for _ in range(8)]
        pages = [{"meta": {"namespace": ns, "key": k, "dtype": "u8", "shape": [1 << 20], "tokens": 16}, "data": os.urandom(1 << 20)} for k in keys]
        self.assertEqual({r.code for r in self.client.put_pages(pages)}, {""})
        self.assertTrue(cluster.wait_applied(self.client, ns, keys, len(keys)))
        link = FaultyLink(self.endpoints[0], cut_after_bytes=3_500_000)
        try:
            with Client([link.address] + self.endpoints[1:], backoff_base_ms=10) as client:
                got = [bytes(data) for _, data in client.get_pages(ns, keys)]
        finally:
            link.close()
        self.assertEqual(link.cut, 1, "the first stream was cut after about three pages")
        self.assertEqual(len(got), len(keys), "no page was delivered twice: the read resumed, not restarted")
        self.assertEqual(got, [p["data"] for p in pages])

    def test_a_put_cut_midway_is_resent_whole(self):
        ns = self.fresh()
        keys = [os.urandom(16) for _ in range(4)]
        pages = [{"meta": {"namespace": ns, "key": k, "dtype": "u8", "shape": [1 << 20], "tokens": 16}, "data": os.urandom(1 << 20)} for k in keys]
        leader = self.client.status(self.endpoints[0]).leader_address
        # The connection drops while the put streams, after about two of its four pages went up
        # (the link counts what the client sends; what the server sends meanwhile is a few
        # settings frames, since its 16 MiB window needs no update for 4 MiB): an ambiguous
        # failure. Puts are idempotent, so the whole stream is sent again, on another member
        # that redirects to the leader if need be.
        link = FaultyLink(leader, cut_after_bytes=2_000_000, direction="to_server")
        try:
            with Client([link.address] + [e for e in self.endpoints if e != leader], backoff_base_ms=10) as client:
                results = client.put_pages(pages)
        finally:
            link.close()
        self.assertEqual(link.cut, 1)
        self.assertEqual([r.code for r in results], [""] * 4)
        self.assertEqual(self.client.lookup(ns, keys, linearizable=True), 4)

    def test_closed_client(self):
        client = Client(self.endpoints)
        client.close()
        with self.assertRaises(ValueError):
            client.lookup("ns", [os.urandom(16)])
        with self.assertRaises(ValueError):
            client.put_pages([])


class RetryRules(unittest.TestCase):
    """_decide mirrors src/client/retry.ts: refusals always retried (redirect when a leader is
    named), ambiguous failures only for idempotent requests or when nothing was sent."""

    def test_rules(self):
        def err(code, leader=None, message=""):
            return KvcError(code, message or code, grpc.StatusCode.UNAVAILABLE, "a:1", leader)

        self.assertEqual(_decide(err("KVC_NOT_LEADER", "b:1"), False, "a:1"), ("redirect", "b:1"))
        self.assertEqual(_decide(err("KVC_NOT_LEADER", "a:1"), False, "a:1"), ("backoff", None))
        self.assertEqual(_decide(err("KVC_NO_LEADER"), False, "a:1"), ("backoff", None))
        for code in ("KVC_UNAVAILABLE", "KVC_DEADLINE_EXCEEDED", "KVC_PROPOSAL_DROPPED"):
            self.assertEqual(_decide(err(code), True, "a:1"), ("backoff", None))
            self.assertEqual(_decide(err(code), False, "a:1"), ("fail", None))
        self.assertEqual(_decide(err("KVC_UNAVAILABLE", message="failed to connect to all addresses"), False, "a:1"), ("backoff", None))
        for code in ("KVC_INVALID_KEY", "KVC_SHAPE_MISMATCH", "KVC_UNAUTHENTICATED", "KVC_TRANSPORT"):
            self.assertEqual(_decide(err(code), True, "a:1"), ("fail", None))


if __name__ == "__main__":
    unittest.main()
