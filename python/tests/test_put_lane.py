"""Proves the Python client's put lane (kvcache_cluster/put_lane.py) against the real cluster
(tests/cluster.py): puts go over it and read back byte-identical, pages of several messages
included; put_via="grpc" never opens it; a follower's refusal over the lane is the KvcError the
same refusal over gRPC is (KVC_NOT_LEADER with the leader's address); a port that does not speak
it (no listener) leaves the client on gRPC, and the lane's own connection errors are
LaneUnavailable before anything is sent."""
from __future__ import annotations

import os
import socket
import unittest
import uuid

import grpc

from kvcache_cluster import Client, KvcError
from kvcache_cluster.pages import page_messages, prepare_page, put_pages_request_parts
from kvcache_cluster.put_lane import LaneUnavailable, PutLanes

from . import cluster


def u8_page(ns, size, key=None):
    return {"meta": {"namespace": ns, "key": key or os.urandom(16), "dtype": "u8", "shape": [size], "tokens": 16}, "data": os.urandom(size)}


class PutLaneAgainstCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.endpoints = cluster.endpoints()

    def fresh(self):
        return f"py-lane-{uuid.uuid4().hex[:8]}"

    def test_puts_go_over_the_lane_and_read_back(self):
        ns = self.fresh()
        sizes = [1, 4096, 1 << 20, 3 * (1 << 20) - 1000, 65536]
        pages = [u8_page(ns, size) for size in sizes]
        with Client(self.endpoints) as client:
            results = client.put_pages(pages)
            self.assertEqual([r.code for r in results], [""] * len(pages))
            self.assertGreater(client.put_attempts["lane"], 0, f"the puts went over the lane: {client.put_attempts}")
            self.assertTrue(cluster.wait_applied(client, ns, [p["meta"]["key"] for p in pages], len(pages)))
            got = [bytes(data) for _, data in client.get_pages(ns, [p["meta"]["key"] for p in pages])]
        self.assertEqual(got, [p["data"] for p in pages], "every page, several messages or one, reads back as sent")

    def test_put_via_grpc_never_opens_the_lane(self):
        ns = self.fresh()
        with Client(self.endpoints, put_via="grpc") as client:
            self.assertEqual(client.put_pages([u8_page(ns, 4096)])[0].code, "")
            attempts = client.put_attempts
            self.assertEqual(attempts["lane"], 0, f"no attempt over the lane: {attempts}")
            self.assertGreaterEqual(attempts["grpc"], 1, "one, or two after a follower's redirect")
        with self.assertRaises(ValueError):
            Client(self.endpoints, put_via="udp")

    def test_a_followers_refusal_is_the_same_error_as_over_grpc(self):
        with Client(self.endpoints) as client:
            self.assertTrue(cluster.wait_until(lambda: client.status(self.endpoints[0]).leader_address != ""))
            leader = client.status(self.endpoints[0]).leader_address
        follower = next(e for e in self.endpoints if e != leader)
        page = prepare_page(u8_page(self.fresh(), 4096), 0)
        lanes = PutLanes()
        try:
            with self.assertRaises(KvcError) as raised:
                lanes.call(follower, (put_pages_request_parts(m) for m in page_messages(page)), None, 5_000)
        finally:
            lanes.close()
        error = raised.exception
        self.assertEqual((error.code, error.grpc_status, error.leader), ("KVC_NOT_LEADER", grpc.StatusCode.UNAVAILABLE, leader),
                         "KVC_NOT_LEADER, UNAVAILABLE and the leader's address, as the gRPC call answers")

    def test_a_port_without_the_lane_leaves_puts_on_grpc(self):
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        lanes = PutLanes()
        page = prepare_page(u8_page(self.fresh(), 16), 0)
        try:
            with self.assertRaises(LaneUnavailable):
                lanes.call(f"127.0.0.1:{port}", (put_pages_request_parts(m) for m in page_messages(page)), None, 1_000)
            self.assertFalse(lanes.usable(f"127.0.0.1:{port}"), "not asked again at once")
        finally:
            lanes.close()


if __name__ == "__main__":
    unittest.main()
