"""Proves the reader of the same-host shared lookup index (shared_lookup.py) against a small
pure-Python writer of the same format v1, kept here for the tests only (the member's writer is
native code; the two are cross-checked against a real member elsewhere). Randomized inserts and
removes, by key and by crafted fingerprint, agree with a Python set: a key hits iff it is stored,
a list matches its longest stored prefix, tombstones are probed past and reused, probing wraps at
the end of the table, and a full table (no empty slot) answers after capacity slots. The seqlock:
a seq left odd gives BUSY after the retries, a seq that changes under a match makes it read again
(and BUSY when it never stops changing), and a writer in another process that removes and puts
back fingerprints inside its odd windows is never seen half-way. A retired file answers RETIRED.
Bad files (magic, version, header size, capacity, file size) raise ValueError with a message; a
missing one OSError; another platform SharedLookupUnsupported. The fingerprint is SHA-256's first
8 bytes little-endian, checked against hashlib and a fixed vector, with 0/1 moved to 2/3."""
from __future__ import annotations

import hashlib
import mmap
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

from kvcache_cluster import shared_lookup
from kvcache_cluster.shared_lookup import (
    BUSY, MATCH_ATTEMPTS, RETIRED, SharedLookupReader, SharedLookupUnsupported, fingerprint,
    fingerprint_of_digest, fingerprints,
)

MAGIC = b"KVCLKUP1"
HEADER_BYTES = 4096


def spec_fingerprint(namespace: str, key: bytes) -> int:
    """The fingerprint as the format says, computed without the module."""
    digest = hashlib.sha256(namespace.encode("utf-8") + b"\x00" + key).digest()
    value = int.from_bytes(digest[:8], "little")
    return value + 2 if value in (0, 1) else value


def write_header(path: str, capacity: int, *, magic: bytes = MAGIC, version: int = 1, header_bytes: int = HEADER_BYTES,
                 nonce: bytes = b"\x00" * 16, size: int = -1) -> None:
    """A lookup file with the given header fields (possibly wrong ones) and `size` bytes (default: right)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, HEADER_BYTES + 8 * capacity if size < 0 else size)
        header = struct.pack("<8sII16sQQQQI", magic, version, header_bytes, nonce, capacity, 0, 0, 0, 0)
        os.pwrite(fd, header, 0)
    finally:
        os.close(fd)


class Writer:
    """The member's side, as the format describes it: open addressing with linear probing, a
    removed fingerprint becomes a tombstone (reused by a later insert), and every change happens
    with seq odd."""

    def __init__(self, path: str, capacity: int = 1024, nonce: bytes = b""):
        self.path = path
        self.capacity = capacity
        self.mask = capacity - 1
        self.nonce = nonce or os.urandom(16)
        write_header(path, capacity, nonce=self.nonce)
        fd = os.open(path, os.O_RDWR)
        try:
            self.mmap = mmap.mmap(fd, HEADER_BYTES + 8 * capacity, flags=mmap.MAP_SHARED)
        finally:
            os.close(fd)
        view = memoryview(self.mmap)
        self.words = view[:HEADER_BYTES].cast("Q")  # seq 5, used 6, tombstones 7
        self.halves = view[:HEADER_BYTES].cast("I")  # retired 16
        self.slots = view[HEADER_BYTES:].cast("Q")
        view.release()

    @property
    def seq(self) -> int:
        return self.words[5]

    @seq.setter
    def seq(self, value: int) -> None:
        self.words[5] = value

    def _begin(self) -> None:
        assert self.seq % 2 == 0
        self.seq += 1

    def _end(self) -> None:
        self.seq += 1

    def find(self, fp: int) -> int:
        """The slot holding fp, or -1."""
        at = fp & self.mask
        for _ in range(self.capacity):
            slot = self.slots[at]
            if slot == fp:
                return at
            if slot == 0:
                return -1
            at = (at + 1) & self.mask
        return -1

    def insert(self, fp: int) -> bool:
        assert fp >= 2
        self._begin()
        try:
            at = fp & self.mask
            reuse = -1
            for _ in range(self.capacity):
                slot = self.slots[at]
                if slot == fp:
                    return False
                if slot == 1 and reuse < 0:
                    reuse = at
                if slot == 0:
                    break
                at = (at + 1) & self.mask
            else:
                at = -1
            target = reuse if reuse >= 0 else at
            if target < 0:
                raise RuntimeError("the table is full")
            if self.slots[target] == 1:
                self.words[7] -= 1
            self.slots[target] = fp
            self.words[6] += 1
            return True
        finally:
            self._end()

    def remove(self, fp: int) -> bool:
        self._begin()
        try:
            at = self.find(fp)
            if at < 0:
                return False
            self.slots[at] = 1
            self.words[6] -= 1
            self.words[7] += 1
            return True
        finally:
            self._end()

    def retire(self) -> None:
        self.halves[16] = 1

    def close(self) -> None:
        for view in (self.slots, self.halves, self.words):
            view.release()
        self.mmap.close()


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="kvc-lookup-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.serial = 0

    def path(self) -> str:
        self.serial += 1
        return os.path.join(self.dir, f"lookup-{self.serial}")

    def writer(self, capacity: int = 1024) -> Writer:
        writer = Writer(self.path(), capacity)
        self.addCleanup(writer.close)
        return writer

    def reader(self, writer: Writer) -> SharedLookupReader:
        reader = SharedLookupReader(writer.path)
        self.addCleanup(reader.close)
        return reader


class FingerprintRule(Files):
    def test_known_vector(self):
        digest = hashlib.sha256(b"ns" + b"\x00" + b"key-00000001").digest()
        expected = struct.unpack("<Q", digest[:8])[0]
        self.assertEqual(fingerprint("ns", b"key-00000001"), expected)
        # Fixed, for the native writer to check itself against.
        self.assertEqual(expected, 0x8282DD67468C7DD9)

    def test_fingerprints_agree_with_the_spec(self):
        rng = random.Random(7)
        for ns in ("ns", "", "tenant-a/llama-3-8b", "tenänt/模型"):
            keys = [rng.randbytes(rng.choice((0, 1, 16, 32))) for _ in range(50)]
            expected = [spec_fingerprint(ns, k) for k in keys]
            self.assertEqual(fingerprints(ns, keys), expected)
            self.assertEqual([fingerprint(ns, k) for k in keys], expected)
        # The separator keeps ("a", b"bc") and ("ab", b"c") apart.
        self.assertNotEqual(fingerprint("a", b"bc"), fingerprint("ab", b"c"))

    def test_zero_and_one_become_two_and_three(self):
        self.assertEqual(fingerprint_of_digest(b"\x00" * 32), 2)
        self.assertEqual(fingerprint_of_digest(b"\x01" + b"\x00" * 31), 3)
        self.assertEqual(fingerprint_of_digest(b"\x02" + b"\x00" * 31), 2)
        self.assertEqual(fingerprint_of_digest(b"\xff" * 32), (1 << 64) - 1)
        writer = self.writer()
        reader = self.reader(writer)
        # 0 and 1 would be an empty slot and a tombstone: match_fingerprints moves them like fingerprint does.
        self.assertEqual(reader.match_fingerprints([0]), 0)
        writer.insert(2)
        self.assertEqual(reader.match_fingerprints([0, 1]), 1)
        writer.insert(3)
        self.assertEqual(reader.match_fingerprints([0, 1]), 2)
        self.assertEqual(reader.match_fingerprints([2, 3]), 2)
        writer.remove(2)  # slot 2 is a tombstone (1) now: fp 1 is still looked up as 3
        self.assertEqual(reader.match_fingerprints([1]), 1)
        self.assertEqual(reader.match_fingerprints([0]), 0)
        for bad in (-1, 1 << 64):
            with self.assertRaisesRegex(ValueError, "u64"):
                reader.match_fingerprints([bad])

    def test_match_by_key_is_match_by_fingerprint(self):
        writer = self.writer()
        reader = self.reader(writer)
        keys = [b"key-%08d" % i for i in range(20)]
        for key in keys[:12]:
            writer.insert(spec_fingerprint("ns", key))
        self.assertEqual(reader.match("ns", keys), 12)
        self.assertEqual(reader.match_fingerprints(fingerprints("ns", keys)), 12)
        self.assertEqual(reader.match("other", keys), 0)
        self.assertEqual(reader.match("ns", iter(keys)), 12)  # any iterable
        self.assertEqual(reader.match("ns", []), 0)


class Probing(Files):
    def test_randomized_keys_against_a_set(self):
        rng = random.Random(1)
        writer = self.writer(1024)
        reader = self.reader(writer)
        universe = [rng.randbytes(32) for _ in range(900)]
        stored = set()
        for step in range(6000):
            key = rng.choice(universe)
            if key in stored and rng.random() < 0.45:
                self.assertTrue(writer.remove(spec_fingerprint("ns", key)))
                stored.discard(key)
            elif key not in stored and len(stored) < 700:
                self.assertTrue(writer.insert(spec_fingerprint("ns", key)))
                stored.add(key)
            if step % 200 == 0:
                self.check_against(reader, "ns", universe, stored, rng)
        self.check_against(reader, "ns", universe, stored, rng)
        self.assertEqual(reader.counts(), (len(stored), writer.words[7]))
        self.assertGreater(writer.words[7], 0, "the run should leave tombstones to probe past")

    def check_against(self, reader, ns, universe, stored, rng):
        for key in universe:
            self.assertEqual(reader.match(ns, [key]), int(key in stored))
        present = list(stored)
        absent = [k for k in universe if k not in stored]
        for _ in range(30):
            prefix = rng.sample(present, min(len(present), rng.randint(0, 20)))
            tail = [rng.choice(absent)] + rng.sample(universe, 5) if absent else []
            self.assertEqual(reader.match(ns, prefix + tail), len(prefix))

    def test_randomized_colliding_fingerprints_against_a_set(self):
        """Fingerprints crowded onto four home slots around the end of the table: long chains,
        tombstones inside them, and probes that wrap."""
        rng = random.Random(2)
        capacity = 1024
        writer = self.writer(capacity)
        reader = self.reader(writer)
        homes = (capacity - 3, capacity - 2, capacity - 1, 0)
        universe = sorted({(rng.randrange(1, 1 << 50) << 10) | rng.choice(homes) for _ in range(300)})
        stored = set()
        for step in range(4000):
            fp = rng.choice(universe)
            if fp in stored and rng.random() < 0.5:
                writer.remove(fp)
                stored.discard(fp)
            elif fp not in stored:
                writer.insert(fp)
                stored.add(fp)
            if step % 100 == 0:
                for each in universe:
                    self.assertEqual(reader.match_fingerprints([each]), int(each in stored))
                chain = rng.sample(sorted(stored), min(len(stored), 10))
                missing = [f for f in universe if f not in stored][:1]
                self.assertEqual(reader.match_fingerprints(chain + missing + chain), len(chain))
        self.assertGreater(writer.words[7], 0)

    def test_tombstones_are_probed_past_and_reused(self):
        writer = self.writer(1024)
        reader = self.reader(writer)
        a, b, c = [(k << 10) | 5 for k in (1, 2, 3)]  # one home slot: 5, 6, 7
        for fp in (a, b, c):
            writer.insert(fp)
        self.assertEqual([writer.find(f) for f in (a, b, c)], [5, 6, 7])
        writer.remove(b)
        self.assertEqual(writer.slots[6], 1)
        self.assertEqual(reader.match_fingerprints([a, c]), 2)  # c is past the tombstone
        self.assertEqual(reader.match_fingerprints([a, b, c]), 1)
        self.assertEqual(reader.counts(), (2, 1))
        writer.insert(b)
        self.assertEqual(writer.find(b), 6)  # the tombstone was reused
        self.assertEqual(reader.match_fingerprints([a, b, c]), 3)
        self.assertEqual(reader.counts(), (3, 0))

    def test_wraparound_at_the_end_of_the_table(self):
        capacity = 1024
        writer = self.writer(capacity)
        reader = self.reader(writer)
        # Keys whose home is the last slot: they fill slots capacity-1, 0, 1, 2.
        keys = []
        i = 0
        while len(keys) < 4:
            key = b"wrap-%d" % i
            if spec_fingerprint("ns", key) & (capacity - 1) == capacity - 1:
                keys.append(key)
            i += 1
        fps = [spec_fingerprint("ns", k) for k in keys]
        for fp in fps:
            writer.insert(fp)
        self.assertEqual([writer.find(f) for f in fps], [capacity - 1, 0, 1, 2])
        self.assertEqual(reader.match("ns", keys), 4)
        absent = (12345 << 10) | (capacity - 1)  # probes capacity-1, 0, 1, 2, stops at empty 3
        self.assertEqual(reader.match_fingerprints([absent]), 0)
        writer.remove(fps[0])  # the last slot becomes a tombstone: the others are found past it
        self.assertEqual(reader.match("ns", keys[1:]), 3)
        self.assertEqual(reader.match("ns", keys), 0)
        writer.remove(fps[2])
        self.assertEqual(reader.match("ns", [keys[3], keys[1]]), 2)

    def test_a_full_table_answers_after_capacity_slots(self):
        capacity = 1024
        writer = self.writer(capacity)
        reader = self.reader(writer)
        fps = [(k << 10) | (k % capacity) for k in range(1, capacity + 1)]
        for fp in fps:
            writer.insert(fp)
        self.assertEqual(reader.counts(), (capacity, 0))
        self.assertEqual(reader.match_fingerprints(fps[:50]), 50)
        self.assertEqual(reader.match_fingerprints([(999999 << 10) | 7]), 0)  # no empty slot anywhere
        for fp in fps:  # all tombstones now, and no empty slot
            writer.remove(fp)
        self.assertEqual(reader.match_fingerprints([fps[3]]), 0)
        writer.insert(fps[3])
        self.assertEqual(reader.match_fingerprints([fps[3], fps[4]]), 1)


class Seqlock(Files):
    def test_odd_seq_left_is_busy(self):
        writer = self.writer()
        reader = self.reader(writer)
        writer.insert(fingerprint("ns", b"k"))
        writer.seq = 7  # a writer stopped half-way
        self.assertEqual(reader.match("ns", [b"k"]), BUSY)
        self.assertEqual(reader.match("ns", []), BUSY)
        writer.seq = 8
        self.assertEqual(reader.match("ns", [b"k"]), 1)

    def test_seq_that_changes_under_a_match_makes_it_read_again(self):
        writer = self.writer()
        reader = self.reader(writer)
        writer.insert(fingerprint("ns", b"k"))

        class Changing:
            """The header's u64s, with a seq that moves by 2 on each of its first `changes` reads."""

            def __init__(self, words, changes):
                self.words, self.changes, self.reads = words, changes, 0

            def __getitem__(self, index):
                if index == 5:
                    self.reads += 1
                    return self.words[5] + 2 * min(self.reads, self.changes)
                return self.words[index]

        real = reader._words
        try:
            reader._words = Changing(real, 5)
            self.assertEqual(reader.match("ns", [b"k"]), 1)
            self.assertEqual(reader._words.reads, 6)  # two tries with seq moved under them, then a whole one
            reader._words = Changing(real, 10 ** 9)
            self.assertEqual(reader.match("ns", [b"k"]), BUSY)
            self.assertEqual(reader._words.reads, 2 * MATCH_ATTEMPTS)
        finally:
            reader._words = real

    def test_a_writer_in_another_process_is_never_seen_half_way(self):
        """The writer removes and puts back fingerprints a and b inside each odd window: at every
        even seq all three are stored, so every answer must be 3 (or BUSY)."""
        writer = self.writer()
        reader = self.reader(writer)
        a, b, c = [(k << 10) | 9 for k in (1, 2, 3)]
        for fp in (a, b, c):
            writer.insert(fp)
        script = r"""
import mmap, os, sys, time
path, a_at, b_at, a, b, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED)
os.close(fd)
words = memoryview(m)[:4096].cast("Q")
slots = memoryview(m)[4096:].cast("Q")
print("ready", flush=True)
end = time.monotonic() + seconds
windows = 0
while time.monotonic() < end:
    words[5] += 1
    slots[a_at] = 1
    slots[b_at] = 1
    for _ in range(20):
        pass
    slots[a_at] = a
    slots[b_at] = b
    words[5] += 1
    windows += 1
    for _ in range(20):
        pass
print(windows, flush=True)
"""
        proc = subprocess.Popen([sys.executable, "-c", script, writer.path, str(writer.find(a)), str(writer.find(b)),
                                 str(a), str(b), "1.0"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(proc.wait)
        self.assertEqual(proc.stdout.readline().strip(), "ready")
        answers = {}
        while proc.poll() is None:
            got = reader.match_fingerprints([a, b, c])
            answers[got] = answers.get(got, 0) + 1
        windows = int(proc.stdout.read().split()[0])
        proc.stdout.close()
        self.assertGreater(windows, 1000)
        self.assertEqual(set(answers) - {3, BUSY}, set(), f"answers seen: {answers}")
        self.assertGreater(answers.get(3, 0), 0, f"answers seen: {answers}")
        self.assertEqual(writer.seq % 2, 0)


class Retired(Files):
    def test_retired_file_answers_retired(self):
        writer = self.writer()
        reader = self.reader(writer)
        writer.insert(fingerprint("ns", b"k"))
        self.assertFalse(reader.retired)
        writer.retire()
        self.assertTrue(reader.retired)
        self.assertEqual(reader.match("ns", [b"k"]), RETIRED)
        self.assertEqual(reader.match_fingerprints([]), RETIRED)
        writer.seq = 9  # while the writer is inside a change, the seq is looked at first
        self.assertEqual(reader.match("ns", [b"k"]), BUSY)


class BadFiles(Files):
    def check_bad(self, pattern: str, **fields):
        path = self.path()
        write_header(path, **fields)
        with self.assertRaisesRegex(ValueError, pattern):
            SharedLookupReader(path)

    def test_bad_headers_and_sizes(self):
        self.check_bad("magic b'KVCARENA'", capacity=1024, magic=b"KVCARENA")
        self.check_bad("version 2; version 1 is known", capacity=1024, version=2)
        self.check_bad("8192-byte header", capacity=1024, header_bytes=8192)
        self.check_bad("capacity 1536; it must be a power of two >= 1024", capacity=1536)
        self.check_bad("capacity 512; it must be a power of two >= 1024", capacity=512)
        self.check_bad("capacity 0;", capacity=0, size=HEADER_BYTES)
        self.check_bad("is 12296 bytes; capacity 1024 makes it 12288", capacity=1024, size=HEADER_BYTES + 8 * 1024 + 8)
        self.check_bad("is 12280 bytes; capacity 1024 makes it 12288", capacity=1024, size=HEADER_BYTES + 8 * 1024 - 8)
        self.check_bad("100 bytes, less than its 4096-byte header", capacity=1024, size=100)

    def test_empty_and_foreign_files(self):
        path = self.path()
        open(path, "wb").close()
        with self.assertRaisesRegex(ValueError, "not a shared lookup index: 0 bytes"):
            SharedLookupReader(path)
        path = self.path()
        with open(path, "wb") as f:
            f.write(os.urandom(HEADER_BYTES + 8 * 1024))
        with self.assertRaisesRegex(ValueError, "not a shared lookup index: magic"):
            SharedLookupReader(path)

    def test_missing_file_is_an_os_error_and_a_directory_a_value_error(self):
        with self.assertRaises(FileNotFoundError):
            SharedLookupReader(os.path.join(self.dir, "absent"))
        with self.assertRaisesRegex(ValueError, "not a regular file"):
            SharedLookupReader(self.dir)


class OpenAndClose(Files):
    def test_fields_context_manager_and_close(self):
        writer = self.writer(2048)
        with SharedLookupReader(writer.path) as reader:
            self.assertEqual(reader.path, writer.path)
            self.assertEqual(reader.nonce, writer.nonce)
            self.assertEqual(reader.capacity, 2048)
            self.assertEqual(reader.match("ns", [b"x"]), 0)
        with self.assertRaisesRegex(ValueError, "closed"):
            reader.match("ns", [b"x"])
        with self.assertRaisesRegex(ValueError, "closed"):
            reader.match_fingerprints([5])
        with self.assertRaisesRegex(ValueError, "closed"):
            _ = reader.retired
        reader.close()  # again: nothing happens

    def test_the_file_is_opened_read_only(self):
        writer = self.writer()
        os.chmod(writer.path, 0o400)
        reader = self.reader(writer)
        with self.assertRaises(TypeError):
            reader._slots[0] = 5  # a read-only mapping
        writer.insert(77 << 10)
        self.assertEqual(reader.match_fingerprints([77 << 10]), 1)  # the writer's changes are seen live

    def test_other_platforms_are_refused(self):
        writer = self.writer()
        with mock.patch.object(shared_lookup.platform, "machine", return_value="aarch64"):
            with self.assertRaisesRegex(SharedLookupUnsupported, "x86-64.*'aarch64'"):
                SharedLookupReader(writer.path)
        with mock.patch.object(shared_lookup.sys, "byteorder", "big"):
            with self.assertRaisesRegex(SharedLookupUnsupported, "big-endian"):
                SharedLookupReader(writer.path)
        self.assertTrue(issubclass(SharedLookupUnsupported, OSError))
        self.assertEqual(shared_lookup.platform_problem(), "")


class Speed(Files):
    def test_sixteen_keys_take_microseconds(self):
        writer = self.writer(1 << 16)
        reader = self.reader(writer)
        rng = random.Random(3)
        keys = [rng.randbytes(32) for _ in range(16)]
        for i in range(40000):  # a table 60% full
            writer.insert(spec_fingerprint("ns", b"%d" % i))
        for key in keys:
            writer.insert(spec_fingerprint("ns", key))
        self.assertEqual(reader.match("ns", keys), 16)
        rounds = 2000
        started = time.perf_counter()
        for _ in range(rounds):
            reader.match("ns", keys)
        per_call_us = (time.perf_counter() - started) / rounds * 1e6
        fps = fingerprints("ns", keys)
        started = time.perf_counter()
        for _ in range(rounds):
            reader.match_fingerprints(fps)
        per_fps_us = (time.perf_counter() - started) / rounds * 1e6
        print(f"\n  match of 16 keys: {per_call_us:.1f} us; match_fingerprints of 16: {per_fps_us:.1f} us", file=sys.stderr)
        self.assertLess(per_call_us, 200)  # tens of microseconds expected; loose for slow CI machines


if __name__ == "__main__":
    unittest.main()


class SharedLookupAgainstCluster(unittest.TestCase):
    """The Client with lookup_via="shared-memory" against the real `kvc dev` members (tests/cluster.py):
    answers from a member's shared index equal the members' answers over gRPC, follow a delete,
    and refused keys still get the member's error."""

    @classmethod
    def setUpClass(cls):
        from kvcache_cluster import Client, KvcError  # noqa: F401 - the package, not only this module
        from tests import cluster
        if shared_lookup.platform_problem():
            raise unittest.SkipTest(shared_lookup.platform_problem())
        cls.cluster = cluster
        cls.endpoints = cluster.endpoints()
        cls.grpc = Client(cls.endpoints)
        cls.client = Client(cls.endpoints, lookup_via="shared-memory")
        deadline = time.monotonic() + 10
        while cls.client.shared_lookup_problem() and time.monotonic() < deadline:
            time.sleep(0.1)
        if cls.client.shared_lookup_problem():
            problem = cls.client.shared_lookup_problem()
            cls.client.close()
            cls.grpc.close()
            raise unittest.SkipTest(f"no member's shared lookup index can be read here: {problem}")

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.grpc.close()

    def test_answers_equal_grpc_and_follow_a_delete(self):
        from kvcache_cluster import KvcError, hash_blocks
        ns = f"py-lookup-{os.urandom(4).hex()}"
        keys = hash_blocks(list(range(16 * 12)), 16, ns)
        stored = keys[:8]
        results = self.grpc.put_pages([{"meta": {"namespace": ns, "key": k, "dtype": "u8", "shape": [16], "tokens": 16},
                                        "data": bytes(16)} for k in stored])
        self.assertEqual({r.code for r in results}, {""})
        endpoint = self.client._shared_lookups.endpoint  # the member whose index answers
        self.assertTrue(self.cluster.wait_until(lambda: self.client.lookup(ns, keys) == 8, 10.0), "the index has the pages")
        answered = self.client._shared_lookups.answered
        for probe in (keys, keys[3:], keys[8:], stored[:1], [keys[9]] + stored):
            self.assertEqual(self.client.lookup(ns, probe), self.grpc.lookup(ns, probe, endpoint=endpoint), probe[:1])
        self.assertGreaterEqual(self.client._shared_lookups.answered - answered, 5, "answered from shared memory")
        self.grpc.delete(ns, [stored[4]])
        self.assertTrue(self.cluster.wait_until(lambda: self.client.lookup(ns, keys) == 4, 10.0), "a delete ends the prefix")
        self.assertEqual(self.grpc.lookup(ns, keys, endpoint=endpoint), 4)
        with self.assertRaises(ValueError):  # checked here, as for every call
            self.client.lookup(ns, [b"tiny"])
        with self.assertRaises(KvcError) as refused:  # the member's to refuse: asked over gRPC
            self.client.lookup("no spaces allowed", keys)
        self.assertEqual(refused.exception.code, "KVC_INVALID_NAMESPACE")
        self.grpc.delete(ns, stored)
