"""Proves the pieces under the client that touch bytes: crc32c (the standard check value; the
C extension's, numpy and pure paths equal on many sizes, offsets and continued checksums; the
fastest one chosen, or the one KVCACHE_CLUSTER_CRC32C names), the hand-written GetPagesResponse
decoder (it agrees with protobuf's parser on random messages, unknown fields included, and hands
out views rather than copies), and the hand-written PutPagesRequest encoder (protobuf parses what
it writes back to the same message)."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import unittest

from kvcache_cluster._wire import cache_pb2, decode_get_pages_response
from kvcache_cluster import checksum
from kvcache_cluster.checksum import crc32c, crc32c_module, crc32c_numpy, crc32c_pure
from kvcache_cluster.pages import encode_put_pages_request


class Crc32c(unittest.TestCase):
    def test_check_value(self):
        self.assertEqual(crc32c_pure(b"123456789"), 0xE3069283)
        self.assertEqual(crc32c(b"123456789"), 0xE3069283)
        self.assertEqual(crc32c(b""), 0)

    def test_numpy_equals_pure(self):
        rng = random.Random(7)
        for size in [1, 31, 4095, 4096, 4097, 65_537, 300_001, 1 << 20]:
            data = rng.randbytes(size)
            self.assertEqual(crc32c_numpy(data), crc32c_pure(data), size)
        data = os.urandom(200_000)
        self.assertEqual(crc32c_numpy(data[70_000:], crc32c_numpy(data[:70_000])), crc32c_pure(data))
        self.assertEqual(crc32c_numpy(bytearray(data)), crc32c_numpy(memoryview(data)))

    @unittest.skipIf(crc32c_module is None, "the crc32c C extension is not installed (Debian: apt-get install python3-crc32c; "
                     "pip: the package's crc32c extra); the numpy path serves")
    def test_module_equals_pure(self):
        rng = random.Random(11)
        for size in [0, 1, 7, 31, 4095, 4096, 65_537, 300_001, 1 << 20]:
            data = rng.randbytes(size)
            self.assertEqual(crc32c_module(data), crc32c_pure(data), size)
        data = os.urandom(1 << 20)
        expected = crc32c_numpy(data)
        # Continued from a seed, and over views at every alignment: the page targets of a get are
        # slices of one caller's buffer.
        self.assertEqual(crc32c_module(data[123_457:], crc32c_module(data[:123_457])), expected)
        view = memoryview(bytearray(data))
        for start in range(9):
            self.assertEqual(crc32c_module(view[start:start + 100_003]), crc32c_numpy(view[start:start + 100_003]), start)
        try:
            import numpy as np
        except ImportError:
            return
        # A float16 array's buffer is read byte by byte, as the other paths read it.
        halves = np.frombuffer(data, dtype=np.float16)
        self.assertEqual(crc32c_module(halves), expected)
        self.assertEqual(crc32c_module(memoryview(halves)), expected)

    def test_the_fastest_is_chosen(self):
        # Unless KVCACHE_CLUSTER_CRC32C names one (a benchmark's A/B), the C extension when it is
        # there, else numpy on a little-endian host.
        if os.environ.get("KVCACHE_CLUSTER_CRC32C"):
            self.skipTest("KVCACHE_CLUSTER_CRC32C is set in this environment")
        expected = "module" if crc32c_module is not None else "numpy" if sys.byteorder == "little" and _has_numpy() else "pure"
        self.assertEqual(checksum.IMPLEMENTATION, expected)

    def test_the_environment_picks_one(self):
        source = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
        probe = "from kvcache_cluster import checksum; print(checksum.IMPLEMENTATION, checksum.crc32c(b'123456789'))"
        env = {**os.environ, "PYTHONPATH": source, "KVCACHE_CLUSTER_CRC32C": "pure"}
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.stdout.split(), ["pure", str(0xE3069283)], out.stderr)
        env["KVCACHE_CLUSTER_CRC32C"] = "sse9"
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("KVCACHE_CLUSTER_CRC32C='sse9'", out.stderr)


def _has_numpy() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class GetPagesDecoder(unittest.TestCase):
    def test_agrees_with_protobuf(self):
        rng = random.Random(3)
        for i in range(200):
            message = cache_pb2.GetPagesResponse(offset=rng.randrange(2 ** 40), last=rng.random() < 0.5,
                                                 data=rng.randbytes(rng.randrange(3000)))
            if rng.random() < 0.5:
                message.meta.CopyFrom(cache_pb2.PageMeta(namespace="ns", key=rng.randbytes(16), dtype=cache_pb2.FP16,
                                                         shape=[2, 3], bytes=12, crc32c=rng.randrange(2 ** 32)))
            if i % 4 == 1:  # a page answered by its place in the shared arena
                message.shared.CopyFrom(cache_pb2.SharedPage(region=rng.randrange(4), offset=rng.randrange(2 ** 40),
                                                             length=rng.randrange(2 ** 25), lease_id=rng.randrange(2 ** 50),
                                                             expires_in_ms=10_000))
            wire = message.SerializeToString()
            if i % 3 == 0:  # unknown fields of every wire type are skipped
                wire += b"\x28\x96\x01" + b"\x31" + bytes(8) + b"\x3a\x03abc" + b"\x45" + bytes(4)
            chunk = decode_get_pages_response(wire)
            self.assertEqual(bytes(chunk.data), message.data)
            self.assertEqual(chunk.offset, message.offset)
            self.assertEqual(chunk.last, message.last)
            self.assertEqual(chunk.meta, message.meta if message.HasField("meta") else None)
            self.assertEqual(chunk.shared, message.shared if message.HasField("shared") else None)
            if message.data:
                self.assertIs(chunk.data.obj, wire, "the payload is a view into the received message")

    def test_refuses_malformed_bytes(self):
        for bad in (b"\x12\x05ab", b"\x18", b"\x31\x00", b"\x0f"):
            with self.assertRaises(ValueError, msg=bad):
                decode_get_pages_response(bad)


class PutPagesEncoder(unittest.TestCase):
    def test_protobuf_reads_it_back(self):
        meta = cache_pb2.PageMeta(namespace="n", key=b"k" * 16, shape=[4], bytes=4).SerializeToString()
        data = memoryview(os.urandom(300_000))
        for message in [(meta, data[:10], False), (None, data, True), (meta, data[:0], True), (None, data[5:9], False)]:
            parsed = cache_pb2.PutPagesRequest.FromString(encode_put_pages_request(message))
            self.assertEqual(parsed.HasField("meta"), message[0] is not None)
            if message[0] is not None:
                self.assertEqual(parsed.meta.SerializeToString(), meta)
            self.assertEqual(parsed.data, bytes(message[1]))
            self.assertEqual(parsed.last, message[2])


if __name__ == "__main__":
    unittest.main()


class Namespaces(unittest.TestCase):
    """One rule for the members' namespace syntax (pages.py): what the client sends to a same-host
    lookup index, and what the engine adapters make of a free-form name, follow it alike."""

    def test_accepted(self):
        from kvcache_cluster.pages import NAMESPACE_LENGTH_MAX, namespace_accepted
        self.assertTrue(namespace_accepted("llama-3/8b:v1.2_x"))
        self.assertTrue(namespace_accepted("n" * NAMESPACE_LENGTH_MAX))
        for bad in ["", "has space", "é", "n" * (NAMESPACE_LENGTH_MAX + 1), "tab\t"]:
            self.assertFalse(namespace_accepted(bad), bad)

    def test_safe_namespace_is_accepted(self):
        from kvcache_cluster._engine import safe_namespace
        from kvcache_cluster.pages import namespace_accepted
        rng = random.Random(7)
        for _ in range(200):
            name = "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(0, 300)))
            self.assertTrue(namespace_accepted(safe_namespace(name)), repr(name))
