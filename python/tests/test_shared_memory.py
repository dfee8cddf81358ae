"""Proves the same-host shared-memory read path (transfer="shared-memory", shared_memory.py)
against the real `kvc dev` cluster of tests/cluster.py, whose members keep their arenas in
/dev/shm files: pages copied from each member's arena are byte-identical in every kind of `out`
(fresh, one buffer, numpy, torch, an allocator) and are counted as leases by the member, which
has none left afterwards (ReleasePages); a converted page (as_dtype) is streamed; the per-call
override works both ways; reads without an endpoint all go to the one member whose arena the
client mapped first; more keys than one client may lease are split into streams the member
accepts, and reads well past the per-client bound keep using shared memory (leases do not pile
up). Fallbacks, all with the right bytes: a nonce the member refuses (KVC_SHM_NOT_ON_HOST, as
after a restart) streams that read and maps the file again for the next; a Status whose file
cannot be opened here, whose file has another nonce (another host, a stale file), or which has
no shared arena is streamed, and shared_memory_problem says why. A byte of the member's arena
changed between the member's answer and the client's copy (as a reused slot would be) is caught by
the crc32c of the copy: the copy is refused (shared_copies_refused), its lease is released all the
same, and the page is streamed instead, whole."""
from __future__ import annotations

import mmap
import os
import shutil
import tempfile
import unittest
import uuid

try:
    import numpy as np
except ImportError:
    np = None
try:
    import torch
except ImportError:
    torch = None

from kvcache_cluster import Client, KvcError, hash_blocks
from kvcache_cluster._wire import CACHE_SERVICE, admin_pb2, cache_pb2
from kvcache_cluster.shared_memory import HEADER_BYTES, HEADER_OFFSETS, MemberArena, SharedMemoryReads, map_read_only, probe_status

from . import cluster


def shm_stats(client, endpoint):
    return client.status(endpoint).memory_tier.shared_memory


def make_pages(ns, keys, shape=(2, 2, 16, 2, 8), seed=0):
    rng = np.random.default_rng(seed)
    pages = []
    for i, key in enumerate(keys):
        data = rng.standard_normal(shape).astype(np.float16)
        pages.append({"meta": {"namespace": ns, "key": key, "parent_key": keys[i - 1] if i else None, "dtype": "fp16",
                               "shape": list(shape), "tokens": 16}, "data": data})
    return pages


@unittest.skipIf(np is None or torch is None, "python3-numpy and python3-torch are needed to build the test pages")
class SharedMemoryAgainstCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.endpoints = cluster.endpoints()
        cls.client = Client(cls.endpoints, transfer="shared-memory")
        problems = {e: cls.client.shared_memory_problem(e) for e in cls.endpoints}
        if any(problems.values()):
            raise unittest.SkipTest(f"the members do not share their arenas here: {problems}")

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def put(self, blocks=4, shape=(2, 2, 16, 2, 8), seed=0):
        ns = f"py-shm-{uuid.uuid4().hex[:8]}"
        keys = hash_blocks(list(range(16 * blocks)), 16, ns, salt=b"shm")
        pages = make_pages(ns, keys, shape, seed)
        self.assertEqual({r.code for r in self.client.put_pages(pages)}, {""})
        self.assertTrue(cluster.wait_applied(self.client, ns, keys, blocks), "every member has the pages")
        return ns, keys, pages, b"".join(p["data"].tobytes() for p in pages)

    def held_drops_to_zero(self, endpoint):
        return cluster.wait_until(lambda: shm_stats(self.client, endpoint).leases_held == 0, 5.0)

    def test_bytes_match_in_every_destination_and_leases_are_released(self):
        ns, keys, pages, expected = self.put()
        page_bytes = len(expected) // len(keys)
        for endpoint in self.endpoints:
            before = shm_stats(self.client, endpoint).leases_granted
            copies = self.client.shared_copies
            fresh = list(self.client.get_pages(ns, keys, endpoint=endpoint))
            self.assertEqual(self.client.shared_copies - copies, len(keys), "each page copied from the arena (shared_copies)")
            self.assertEqual(b"".join(bytes(d) for _, d in fresh), expected)
            self.assertEqual([m.key for m, _ in fresh], keys)
            buffer = bytearray(len(expected))
            list(self.client.get_pages(ns, keys, out=buffer, endpoint=endpoint))
            self.assertEqual(bytes(buffer), expected)
            array = np.zeros((len(keys), 2, 2, 16, 2, 8), dtype=np.float16)
            list(self.client.get_pages(ns, keys, out=array, endpoint=endpoint))
            self.assertTrue(np.array_equal(array, np.stack([p["data"] for p in pages])))
            tensor = torch.zeros((len(keys), page_bytes // 2), dtype=torch.bfloat16)
            list(self.client.get_pages(ns, keys, out=tensor, endpoint=endpoint))
            self.assertEqual(tensor.view(torch.uint8).numpy().tobytes(), expected)
            slots = [np.zeros(page_bytes, dtype=np.uint8) for _ in keys]
            list(self.client.get_pages(ns, keys, out=lambda meta: slots[keys.index(meta.key)], endpoint=endpoint))
            self.assertEqual(b"".join(s.tobytes() for s in slots), expected)
            # Five reads of every page, each one lease on this member; none is held afterwards.
            self.assertEqual(shm_stats(self.client, endpoint).leases_granted - before, 5 * len(keys))
            self.assertTrue(self.held_drops_to_zero(endpoint), "ReleasePages ended every lease")
        # A converted page is streamed: same bytes as over gRPC, no lease.
        endpoint = self.endpoints[0]
        before = shm_stats(self.client, endpoint).leases_granted
        converted = b"".join(bytes(d) for _, d in self.client.get_pages(ns, keys, as_dtype="fp32", endpoint=endpoint))
        self.assertEqual(converted, b"".join(p["data"].astype(np.float32).tobytes() for p in pages))
        self.assertEqual(shm_stats(self.client, endpoint).leases_granted, before)

    def test_reads_without_an_endpoint_go_to_the_same_host_member_found_first(self):
        ns, keys, _, expected = self.put(blocks=2)
        with Client(self.endpoints, transfer="shared-memory") as client:
            before = [shm_stats(client, e).leases_granted for e in self.endpoints]
            for _ in range(6):
                self.assertEqual(b"".join(bytes(d) for _, d in client.get_pages(ns, keys)), expected)
            granted = [shm_stats(client, e).leases_granted - b for e, b in zip(self.endpoints, before)]
        self.assertEqual(sorted(granted), [0, 0, 12], "every read from the member whose arena the client mapped first")

    def test_transfer_per_call_overrides_the_clients(self):
        ns, keys, _, expected = self.put(blocks=2)
        endpoint = self.endpoints[1]
        with Client(self.endpoints) as streaming:  # transfer defaults to "grpc", as in TypeScript
            before = shm_stats(self.client, endpoint).leases_granted
            self.assertEqual(b"".join(bytes(d) for _, d in streaming.get_pages(ns, keys, endpoint=endpoint)), expected)
            self.assertEqual(shm_stats(self.client, endpoint).leases_granted, before)
            got = streaming.get_pages(ns, keys, endpoint=endpoint, transfer="shared-memory")
            self.assertEqual(b"".join(bytes(d) for _, d in got), expected)
            self.assertEqual(shm_stats(self.client, endpoint).leases_granted, before + 2)
        before += 2
        got = self.client.get_pages(ns, keys, endpoint=endpoint, transfer="grpc")
        self.assertEqual(b"".join(bytes(d) for _, d in got), expected)
        self.assertEqual(shm_stats(self.client, endpoint).leases_granted, before)
        with self.assertRaises(ValueError):
            self.client.get_pages(ns, keys, transfer="shm")
        with self.assertRaises(ValueError):
            Client(self.endpoints, transfer="rdma")

    def test_leases_do_not_pile_up_past_the_per_client_bound(self):
        endpoint = self.endpoints[2]
        bound = shm_stats(self.client, endpoint).leases_per_client_max
        if bound > 2048:
            self.skipTest(f"leases_per_client_max is {bound}: too many pages to put here")
        # More keys than one client may lease in one GetPages: the client splits them.
        blocks = bound + 40
        ns, keys, _, expected = self.put(blocks=blocks, shape=(1, 1, 16, 1, 8))
        first = shm_stats(self.client, endpoint).leases_granted
        for _ in range(3):
            got = b"".join(bytes(d) for _, d in self.client.get_pages(ns, keys, endpoint=endpoint))
            self.assertEqual(got, expected)
        granted = shm_stats(self.client, endpoint).leases_granted - first
        # Each stream's leases are released (and the release answered) before the next stream
        # starts: every page of three reads, three times the bound, came from shared memory.
        self.assertEqual(granted, 3 * blocks, f"{granted} of {3 * blocks} pages were leased")
        self.assertTrue(self.held_drops_to_zero(endpoint))
        # And many small reads in a row, far past the bound, all keep using shared memory.
        before = shm_stats(self.client, endpoint).leases_granted
        for start in range(0, 2 * bound, 64):
            chunk = keys[start % blocks:start % blocks + 64]
            self.assertEqual(len(list(self.client.get_pages(ns, chunk, endpoint=endpoint))), len(chunk))
            self.assertEqual(shm_stats(self.client, endpoint).leases_granted - before, len(chunk))
            before += len(chunk)
        self.assertTrue(self.held_drops_to_zero(endpoint))

    def test_a_refused_nonce_streams_that_read_and_maps_again(self):
        ns, keys, _, expected = self.put(blocks=3)
        endpoint = self.endpoints[0]
        with Client(self.endpoints, transfer="shared-memory") as client:
            self.assertEqual(client.shared_memory_problem(endpoint), "")
            arena = client._shm.arena(endpoint)
            # As if the member had restarted with a new nonce: the one the client holds is refused.
            arena.nonce = bytes(16)
            before = shm_stats(client, endpoint).leases_granted
            got = b"".join(bytes(d) for _, d in client.get_pages(ns, keys, endpoint=endpoint))
            self.assertEqual(got, expected)
            self.assertEqual(shm_stats(client, endpoint).leases_granted, before, "KVC_SHM_NOT_ON_HOST: streamed")
            # The client forgot the mapping and looked again: the next read is from shared memory.
            got = b"".join(bytes(d) for _, d in client.get_pages(ns, keys, endpoint=endpoint))
            self.assertEqual(got, expected)
            self.assertEqual(shm_stats(client, endpoint).leases_granted, before + len(keys))
            self.assertIsNot(client._shm.arena(endpoint), arena)
            # The member's own answer to that nonce.
            request = cache_pb2.ReleasePagesRequest(shm_nonce=bytes(16), client_id=b"x", lease_ids=[1])
            with self.assertRaises(KvcError) as refused:
                client._with_retry(("endpoint", endpoint), True, lambda at: client._unary(
                    at, CACHE_SERVICE + "ReleasePages", request, cache_pb2.ReleasePagesResponse))
            self.assertEqual(refused.exception.code, "KVC_SHM_NOT_ON_HOST")

    def test_files_not_readable_here_or_not_the_members_are_streamed(self):
        ns, keys, _, expected = self.put(blocks=2)
        endpoint = self.endpoints[1]
        real = self.client.status(endpoint)
        path = real.memory_tier.shared_memory.files[0].path
        scratch = tempfile.mkdtemp(prefix="kvc-py-shm-")
        self.addCleanup(shutil.rmtree, scratch, True)
        with open(path, "rb") as arena_file:
            header = bytearray(arena_file.read(HEADER_BYTES))

        def status_with(file_path=None, shared=True):
            status = admin_pb2.StatusResponse()
            status.CopyFrom(real)
            if not shared:
                status.memory_tier.ClearField("shared_memory")
            elif file_path is not None:
                status.memory_tier.shared_memory.files[0].path = file_path
            return status

        def write(name, data):
            full = os.path.join(scratch, name)
            with open(full, "wb") as out:
                out.write(data + bytes(4096))
            return full

        nonce = HEADER_OFFSETS["nonce"]
        other = bytearray(header)
        other[nonce:nonce + 16] = bytes(b ^ 0xFF for b in header[nonce:nonce + 16])
        same = write("same-nonce", bytes(header))
        cases = [
            ("a file that is not on this host", status_with(os.path.join(scratch, "gone")), "No such file"),
            ("a file with another nonce", status_with(write("other-nonce", bytes(other))), "not the member's"),
            ("a file that is not an arena", status_with(write("text", b"just some text")), "not an arena file"),
            ("a member without a shared arena", status_with(shared=False), "does not share"),
        ]
        for what, status, why in cases:
            found = probe_status(status)
            self.assertNotIsInstance(found, MemberArena, what)
            self.assertIn(why, found.why, what)
        self.assertIsInstance(probe_status(status_with(same)), MemberArena, "the same nonce in a copy is accepted")
        def refused(at):
            raise RuntimeError("UNAUTHENTICATED")

        failing = SharedMemoryReads(refused)
        self.assertIsNone(failing.arena(endpoint))
        self.assertIn("Status failed: UNAUTHENTICATED", failing.why_streamed(endpoint))

        # End to end: a client that finds a file of another nonce reads over gRPC, with the same bytes.
        with Client(self.endpoints, transfer="shared-memory") as client:
            client._shm = SharedMemoryReads(lambda at: status_with(os.path.join(scratch, "other-nonce")))
            before = shm_stats(client, endpoint).leases_granted
            got = b"".join(bytes(d) for _, d in client.get_pages(ns, keys, endpoint=endpoint))
            self.assertEqual(got, expected)
            self.assertEqual(shm_stats(client, endpoint).leases_granted, before)
            self.assertIn("not the member's", client.shared_memory_problem(endpoint))

    def test_a_damaged_copy_is_refused_and_the_page_streamed(self):
        # One page: a lease for a page after the damaged one could be granted in a message the
        # client never reads (it cancels the stream), and would be held until it expires.
        ns, keys, _, expected = self.put(blocks=1)
        endpoint = self.endpoints[2]
        arena = self.client._shm.arena(endpoint)
        # The client checks every copy (and says so: client_verifies), so the member hands out
        # places without reading them, and the client must catch any damage: a copy damaged in
        # the member's memory, or a lease that expired before the copy and a slot reused. This
        # arena flips one byte of the page in the member's file just before the client copies
        # it, and puts it back just after.

        class ChangedUnderneath(MemberArena):
            __slots__ = ()

            def copy(self, region, offset, target):
                fd = os.open(self.paths[region], os.O_RDWR)
                writable = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
                os.close(fd)
                where = offset + len(target) // 2
                original = writable[where]
                try:
                    writable[where] = original ^ 0x5A
                    super().copy(region, offset, target)
                finally:
                    writable[where] = original
                    writable.close()

        with Client(self.endpoints, transfer="shared-memory") as client:
            mappings = [map_read_only(path) for path in arena.paths]  # its own: close() unmaps them
            client._shm._probes[endpoint] = ChangedUnderneath(arena.nonce, arena.paths, mappings, arena.leases_per_client_max)
            before = shm_stats(client, endpoint).leases_granted
            got = b"".join(bytes(d) for _, d in client.get_pages(ns, keys, endpoint=endpoint))
            self.assertEqual(got, expected, "the page, streamed after its copy was refused")
            self.assertEqual(client.shared_copies_refused, 1)
            self.assertEqual(shm_stats(client, endpoint).leases_granted, before + 1, "the page was leased, then refused")
            self.assertTrue(self.held_drops_to_zero(endpoint), "the refused copy's lease was released too")
        # The member's bytes were never changed for good: the next read is whole.
        self.assertEqual(b"".join(bytes(d) for _, d in self.client.get_pages(ns, keys, endpoint=endpoint)), expected)
