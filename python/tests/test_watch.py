"""Proves Client.watch and Client.list_pages against the real 3-member cluster (tests/cluster.py):
a listing plus the feed from its watch_from_index rebuilds the page set exactly (each member's
Status pages_digest at the same applied index), every change arrives once and in log order with
its reason, and a cut stream (through a TCP proxy that drops the connection, faulty_link.py)
resumes at another member without a gap or a repeat. Bad input: a negative from_index is a
ValueError, a malformed page token KVC_INVALID_PAGE_TOKEN."""
from __future__ import annotations

import threading
import time
import unittest
import uuid

from kvcache_cluster import Client, KvcError, PageInput, page_set_digest

from kvcache_cluster._wire import ADMIN_SERVICE, admin_pb2

from . import cluster
from .faulty_link import FaultyLink

WAIT_S = 20


def page(ns: str, i: int) -> PageInput:
    key = uuid.uuid5(uuid.NAMESPACE_OID, f"{ns}-{i}").bytes
    return PageInput(meta={"namespace": ns, "key": key, "dtype": "u8", "shape": [256], "tokens": 16}, data=bytes([i % 256]) * 256)


class WatchAgainstCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.endpoints = cluster.endpoints()
        cls.client = Client(cls.endpoints)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def test_listing_plus_feed_is_exact_and_resumes_after_a_cut(self):
        ns = f"py-watch-{uuid.uuid4().hex[:8]}"
        listing = self.client.list_all_pages()
        pages = {(p.namespace, p.key): p for p in listing.pages}
        self.client.put_pages([page(ns, i) for i in range(15)])
        self.client.delete(ns, [page(ns, 0).meta["key"]])

        # The network drops a few hundred bytes into the first stream (HTTP/2 setup and a message or two).
        link = FaultyLink(self.endpoints[0], cut_after_bytes=600)
        stop = threading.Event()
        resumes = []
        watcher = Client([link.address] + self.endpoints[1:])
        changes = []
        deadline = time.monotonic() + WAIT_S
        try:
            for event in watcher.watch(from_index=listing.watch_from_index, endpoint=link.address, stop=stop,
                                       on_resume=lambda *info: resumes.append(info[3].code)):
                self.assertLess(time.monotonic(), deadline, "the feed reached every member's applied index in time")
                if event.type == "progress":
                    applied = [self.client.status(e).applied_index for e in self.endpoints]
                    if len(set(applied)) == 1 and event.index >= applied[0]:
                        break
                    continue
                changes.append(event)
                if event.type == "stored":
                    pages[(event.namespace, event.key)] = event
                elif event.type == "removed":
                    pages.pop((event.namespace, event.key), None)
                else:
                    pages = {k: p for k, p in pages.items() if k[0] != event.namespace}
        finally:
            stop.set()
            watcher.close()
            link.close()
        self.assertTrue(resumes, "the client resumed after the drop")
        ids = [(e.index, e.type, e.key) for e in changes]
        self.assertEqual(len(ids), len(set(ids)), "no change twice")
        self.assertEqual([e.index for e in changes], sorted(e.index for e in changes), "in log order")
        mine = [e for e in changes if e.namespace == ns]
        self.assertEqual(sum(e.type == "stored" for e in mine), 15)
        self.assertEqual([e.reason for e in mine if e.type == "removed"], ["deleted"])
        self.assertEqual(link.cut, 1, "the proxy cut the stream")
        digest = page_set_digest(pages.values())
        for endpoint in self.endpoints:
            answer = self.client._unary(endpoint, ADMIN_SERVICE + "Status", admin_pb2.StatusRequest(include_digest=True),
                                        admin_pb2.StatusResponse, admin=True)
            self.assertEqual(answer.pages_digest, digest, f"{endpoint}: the page set the feed rebuilt")

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            next(self.client.watch(from_index=-1))
        with self.assertRaises(KvcError) as caught:
            self.client.list_pages(page_token="not-a-token")
        self.assertEqual(caught.exception.code, "KVC_INVALID_PAGE_TOKEN")


if __name__ == "__main__":
    unittest.main()
