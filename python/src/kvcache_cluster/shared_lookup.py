"""The client's side of the same-host shared lookup index: a member writes the fingerprints of the
pages it stores into an open-addressing hash table in a shared-memory file (/dev/shm), and a client
on the same host answers Lookup (how many leading keys are stored: the longest stored prefix) by
reading that table, without a gRPC round trip. Engines call lookup on their scheduling path, once
per request and often per step, so a round trip there is latency every request pays; reading the
table costs a few microseconds per key.

The file (format v1, all integers little-endian; the member's writer is native code):

    offset 0     8 bytes  magic b"KVCLKUP1"
    offset 8     u32      version = 1
    offset 12    u32      header_bytes = 4096
    offset 16    16 bytes nonce (the same kind of proof as the arena's: the client compares its
                          SHA-256 with the one Status lists before trusting the file)
    offset 32    u64      capacity: slots, a power of two, >= 1024
    offset 40    u64      seq: a seqlock counter, odd while the writer changes slots or counters
    offset 48    u64      used
    offset 56    u64      tombstones
    offset 64    u32      retired: 0 live; 1 replaced or closed (stop using this file)
    offset 68    u32      the writer's pid (for the member's sweep of files whose writer is gone)
    offset 4096  u64      slots[capacity]: 0 empty, 1 tombstone, else a fingerprint
    size = 4096 + 8 * capacity

A page's fingerprint is the first 8 bytes (little-endian) of SHA-256(namespace UTF-8, 0x00, key),
with 0 and 1 moved to 2 and 3 (they mean empty and tombstone). Its home slot is fp & (capacity - 1);
probing goes on linearly (wrapping), skips tombstones, and stops at an empty slot (absent) or at
the fingerprint (present), after at most capacity slots. A fingerprint is 64 bits, so two pages
share one with probability ~n/2^64: a lookup is a hint for scheduling, and get_pages still checks
every page it reads.

The writer changes the table inside a seqlock: seq odd, change, seq even. A match reads seq,
probes, and reads seq again; a different or odd seq means a change overlapped, and the match is
tried again (16 times at most, then BUSY). That this is correct without fences rests on the reader
seeing memory in program order, which x86-64 (TSO: loads are not reordered with loads) gives and
weaker machines (ARM, POWER) do not; and on 8-byte loads that do not tear, which a 64-bit process
gets from a memoryview cast to "Q" (one aligned load per item; struct's "<Q" reads byte by byte).
So a reader refuses to open anywhere but a 64-bit little-endian x86-64 process
(SharedLookupUnsupported), and callers read over gRPC there.

What the answers mean to a caller: a count >= 0 is the answer. BUSY (the writer kept the table
busy) means "ask this Lookup over gRPC". RETIRED means the same and more: the member replaced the
file (it grew the table, or restarted) or closed it, so close this reader, read Status again for
the new file, and use gRPC until then.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import mmap
import os
import platform
import stat
import struct
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

# What match returns when it cannot answer (callers ask over gRPC instead).
BUSY = -1
RETIRED = -2

MAGIC = b"KVCLKUP1"
VERSION = 1
HEADER_BYTES = 4096
NONCE_BYTES = 16
CAPACITY_MIN = 1024
SLOT_BYTES = 8
EMPTY = 0
TOMBSTONE = 1
# Byte offsets of the header's fields.
HEADER_OFFSETS = {"magic": 0, "version": 8, "header_bytes": 12, "nonce": 16, "capacity": 32, "seq": 40,
                  "used": 48, "tombstones": 56, "retired": 64}
# Tries of one match while the writer keeps changing the table, before BUSY.
MATCH_ATTEMPTS = 16

_U64_MAX = (1 << 64) - 1
_U64 = struct.Struct("<Q")
_HEADER = struct.Struct("<8sII16sQ")  # magic, version, header_bytes, nonce, capacity
# Indexes of the header's live fields in the header viewed as u64s (seq, ...) and as u32s (retired).
_SEQ_WORD = HEADER_OFFSETS["seq"] // 8
_USED_WORD = HEADER_OFFSETS["used"] // 8
_TOMBSTONES_WORD = HEADER_OFFSETS["tombstones"] // 8
_RETIRED_HALF = HEADER_OFFSETS["retired"] // 4


class SharedLookupUnsupported(OSError):
    """This process cannot read a shared lookup index safely (not 64-bit little-endian x86-64).
    An OSError, so that callers which fall back to gRPC on (OSError, ValueError) do so here too."""


def platform_problem() -> str:
    """Why this process cannot use a shared lookup index, or '' when it can."""
    machine = platform.machine()
    if machine.lower() not in ("x86_64", "amd64"):
        return (f"the shared lookup index is read only on x86-64, whose loads keep program order "
                f"(the seqlock needs that without fences); this machine is {machine or 'unknown'!r}")
    if sys.byteorder != "little":
        return "the shared lookup index is little-endian and read through native views; this process is big-endian"
    if sys.maxsize <= 1 << 32:
        return "the shared lookup index needs a 64-bit process (8-byte loads that do not tear)"
    return ""


@functools.lru_cache(maxsize=256)
def _namespace_hash(namespace: str) -> Any:
    """SHA-256 already fed the namespace and its 0 separator; callers copy it, never update it."""
    if not isinstance(namespace, str):
        raise TypeError(f"namespace must be a str, got {type(namespace).__name__}")
    return hashlib.sha256(namespace.encode("utf-8") + b"\x00")


def fingerprint_of_digest(digest: bytes) -> int:
    """The fingerprint a SHA-256 digest gives: its first 8 bytes as u64 little-endian, 0 and 1
    (empty, tombstone) moved to 2 and 3."""
    (value,) = _U64.unpack_from(digest)
    return value + 2 if value < 2 else value


def fingerprint(namespace: str, key: bytes) -> int:
    """The fingerprint of page `key` of `namespace`, as the member stores it."""
    h = _namespace_hash(namespace).copy()
    h.update(key)
    return fingerprint_of_digest(h.digest())


def fingerprints(namespace: str, keys: Sequence[bytes]) -> List[int]:
    """fingerprint(namespace, key) of each key, in order."""
    base = _namespace_hash(namespace)
    unpack = _U64.unpack_from
    out: List[int] = []
    for key in keys:
        h = base.copy()
        h.update(key)
        (value,) = unpack(h.digest())
        out.append(value + 2 if value < 2 else value)
    return out


class SharedLookupReader:
    """A member's shared lookup index, mapped read-only. Opening checks the platform
    (SharedLookupUnsupported), the file (OSError when it cannot be opened) and its header and size
    (ValueError); it does not check the nonce: the caller compares SHA-256(reader.nonce) with the
    nonce_sha256 of the member's Status, as for the arena, before using the answers.

    match may be called from many threads at once; close only when no other thread uses the
    reader (a match racing close raises ValueError)."""

    def __init__(self, path: str):
        problem = platform_problem()
        if problem:
            raise SharedLookupUnsupported(problem)
        self.path = path
        self._closed = True
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"{path} is not a shared lookup index: not a regular file")
            size = info.st_size
            if size < HEADER_BYTES:
                raise ValueError(f"{path} is not a shared lookup index: {size} bytes, less than its {HEADER_BYTES}-byte header")
            header = os.pread(fd, _HEADER.size, 0)
            if len(header) < _HEADER.size:
                raise ValueError(f"{path} is not a shared lookup index: its header could not be read whole")
            magic, version, header_bytes, nonce, capacity = _HEADER.unpack(header)
            if magic != MAGIC:
                raise ValueError(f"{path} is not a shared lookup index: magic {magic!r}, expected {MAGIC!r}")
            if version != VERSION:
                raise ValueError(f"{path} is a shared lookup index of version {version}; version {VERSION} is known")
            if header_bytes != HEADER_BYTES:
                raise ValueError(f"{path} has a {header_bytes}-byte header; version {VERSION} has {HEADER_BYTES}")
            if capacity < CAPACITY_MIN or capacity & (capacity - 1):
                raise ValueError(f"{path} has capacity {capacity}; it must be a power of two >= {CAPACITY_MIN}")
            expected = HEADER_BYTES + SLOT_BYTES * capacity
            if size != expected:
                raise ValueError(f"{path} is {size} bytes; capacity {capacity} makes it {expected}")
            mapping = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        self.nonce: bytes = nonce
        self.capacity: int = capacity
        self._mmap: Optional[mmap.mmap] = mapping
        # Native views (little-endian was checked): each item read is one aligned 8- or 4-byte load.
        base = memoryview(mapping)
        self._words = base[:HEADER_BYTES].cast("Q")
        self._halves = base[:HEADER_BYTES].cast("I")
        self._slots = base[HEADER_BYTES:].cast("Q")
        base.release()  # the views above keep the mapping exported on their own
        self._closed = False

    @property
    def retired(self) -> bool:
        """Whether the member replaced or closed this file (stop using it; re-read Status)."""
        self._check_open()
        return self._halves[_RETIRED_HALF] != 0

    def counts(self) -> Tuple[int, int]:
        """(used, tombstones) as the header says now, for diagnostics (not read under the seqlock)."""
        self._check_open()
        return self._words[_USED_WORD], self._words[_TOMBSTONES_WORD]

    def match(self, namespace: str, keys: Sequence[bytes]) -> int:
        """How many leading `keys` of `namespace` the member stores, or BUSY or RETIRED (ask over
        gRPC). Fingerprints are computed only as far as the probing gets, so a miss early in a
        long list costs little."""
        self._check_open()
        if not isinstance(keys, (list, tuple)):
            keys = list(keys)
        return self._match([], keys, _namespace_hash(namespace), len(keys))

    def match_fingerprints(self, fps: Sequence[int]) -> int:
        """match for fingerprints already computed (fingerprint/fingerprints). A value of 0 or 1 is
        moved to 2 or 3 as fingerprint does, so it is never taken for an empty slot or a tombstone."""
        self._check_open()
        checked: List[int] = []
        for fp in fps:
            if fp < 2 or fp > _U64_MAX:
                if not 0 <= fp <= _U64_MAX:
                    raise ValueError(f"a fingerprint is a u64, got {fp}")
                fp += 2
            checked.append(fp)
        return self._match(checked, (), None, len(checked))

    def _match(self, fps: List[int], keys: Sequence[bytes], base: Any, n: int) -> int:
        """The seqlock read. `fps` holds the first fingerprints; those after it are computed from
        `keys` with `base` (the namespace's hash) as probing reaches them, and kept for the retries."""
        try:
            words, halves, slots = self._words, self._halves, self._slots
            mask = self.capacity - 1
            capacity = self.capacity
            unpack = _U64.unpack_from
            for _ in range(MATCH_ATTEMPTS):
                s1 = words[_SEQ_WORD]
                if s1 & 1:
                    continue
                if halves[_RETIRED_HALF]:
                    return RETIRED
                count = 0
                while count < n:
                    if count < len(fps):
                        fp = fps[count]
                    else:
                        h = base.copy()
                        h.update(keys[count])
                        (fp,) = unpack(h.digest())
                        if fp < 2:
                            fp += 2
                        fps.append(fp)
                    at = fp & mask
                    left = capacity
                    while True:  # tombstones and other fingerprints: go on
                        slot = slots[at]
                        if slot == fp:
                            found = True
                            break
                        left -= 1
                        if slot == EMPTY or not left:
                            found = False
                            break
                        at = (at + 1) & mask
                    if not found:
                        break
                    count += 1
                if words[_SEQ_WORD] == s1:
                    return count
            return BUSY
        except ValueError:
            if self._closed:  # close() released the views under this call
                raise ValueError(f"{self.path}: the shared lookup reader is closed") from None
            raise

    def close(self) -> None:
        """Unmaps the file; later calls raise ValueError. Closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        for view in (self._slots, self._halves, self._words):
            view.release()
        mapping, self._mmap = self._mmap, None
        if mapping is not None:
            try:
                mapping.close()
            except BufferError:  # someone still holds a view: the mapping goes with its last reference
                pass

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: the shared lookup reader is closed")

    def __enter__(self) -> "SharedLookupReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"capacity={self.capacity}"
        return f"SharedLookupReader({self.path!r}, {state})"


# How long a client that found no usable index asks over gRPC before looking again (seconds).
PROBE_AGAIN_S = 30.0
# A matched prefix is reported to the cluster as accessed at most this often (seconds).
ACCESS_REPORT_S = 1.0
# Distinct prefixes remembered as reported; past it the memory starts afresh.
_REPORTED_MAX = 16_384


class SharedLookups:
    """The Client's same-host lookups (lookup_via="shared-memory"): the first of its endpoints
    whose Status lists a shared lookup index this process can open, with the nonce Status names,
    answers lookups with no call (docs/CLIENT.md "Same-host lookups"). `status(endpoint)` returns a
    member's admin_pb2.StatusResponse (or raises); `report(ns, keys)` sends a Lookup of the matched
    keys without waiting, so that the members still count them as accessed for eviction (each
    distinct prefix at most once per ACCESS_REPORT_S)."""

    def __init__(self, endpoints: Callable[[], List[str]], status: Callable[[str], Any],
                 report: Callable[[str, List[bytes]], None]):
        self._endpoints = endpoints
        self._status = status
        self._report = report
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._reader: Optional[SharedLookupReader] = None
        self._endpoint = ""
        self._why = "not probed"
        self._until = 0.0
        self._reported: Dict[Tuple[str, Tuple[int, ...]], float] = {}
        self._closed = False
        # Lookups answered here, and those that went over gRPC (no index usable, or busy).
        self.answered = 0
        self.fell_back = 0
        self.busy = 0

    def match(self, ns: str, keys: Sequence[bytes]) -> Optional[int]:
        """The longest stored prefix of `keys` in `ns` from the shared index, or None: ask over gRPC."""
        reader = self._current()
        if reader is None:
            self.fell_back += 1
            return None
        fps = fingerprints(ns, keys)
        try:
            matched = reader.match_fingerprints(fps)
        except ValueError:  # closed by another thread meanwhile
            matched = RETIRED
        if matched == RETIRED:
            self._forget(reader)
        if matched < 0:
            self.fell_back += 1
            self.busy += matched == BUSY
            return None
        self.answered += 1
        if matched > 0:
            self._note_access(ns, list(keys[:matched]), tuple(fps[:matched]))
        return matched

    def describe(self) -> str:
        """'' when an index answers, else why none does (probes now if it is time)."""
        return "" if self._current() is not None else self._why

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def close(self) -> None:
        with self._lock:
            self._closed = True
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _current(self) -> Optional[SharedLookupReader]:
        reader = self._reader
        if reader is not None or self._closed or time.monotonic() < self._until:
            return reader
        # One thread probes; the others ask over gRPC meanwhile rather than wait for Status.
        if not self._probe_lock.acquire(blocking=False):
            return None
        try:
            found, endpoint, why = self._find()
            with self._lock:
                if self._closed:
                    if found is not None:
                        found.close()
                    return None
                self._reader, self._endpoint, self._why = found, endpoint, why
                self._until = 0.0 if found is not None else time.monotonic() + PROBE_AGAIN_S
            return found
        finally:
            self._probe_lock.release()

    def _forget(self, reader: SharedLookupReader) -> None:
        with self._lock:
            if self._reader is reader:
                self._reader, self._why, self._until = None, "the member retired its index file", 0.0
        reader.close()

    def _find(self) -> Tuple[Optional[SharedLookupReader], str, str]:
        problems = []
        for endpoint in self._endpoints():
            found = self._open(endpoint)
            if isinstance(found, SharedLookupReader):
                return found, endpoint, ""
            problems.append(f"{endpoint}: {found}")
        return None, "", "; ".join(problems) or "no endpoints"

    def _open(self, endpoint: str) -> Union[SharedLookupReader, str]:
        try:
            status = self._status(endpoint)
        except Exception as error:  # noqa: BLE001 - any failure means: not this member, now
            return f"Status failed: {error}"
        try:
            listed = status.HasField("shared_lookup")
        except ValueError:  # message modules generated before the field: python/gen_protos.py
            return "this client's protobuf modules predate shared_lookup (regenerate them: python/gen_protos.py)"
        if not listed:
            return status.shared_lookup_note or "the member keeps no shared lookup index"
        index = status.shared_lookup
        try:
            reader = SharedLookupReader(index.path)
        except (OSError, ValueError) as error:
            return str(error)
        if not hmac.compare_digest(hashlib.sha256(reader.nonce).digest(), bytes(index.nonce_sha256)):
            reader.close()
            return f"{index.path} has another nonce than the member's (another host, or a stale file)"
        return reader

    def _note_access(self, ns: str, keys: List[bytes], fps: Tuple[int, ...]) -> None:
        now = time.monotonic()
        prefix = (ns, fps)
        with self._lock:
            last = self._reported.get(prefix)
            if last is not None and now - last < ACCESS_REPORT_S:
                return
            if len(self._reported) >= _REPORTED_MAX:
                self._reported = {}
            self._reported[prefix] = now
        self._report(ns, keys)
