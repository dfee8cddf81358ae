"""The client's side of the same-host read path, as src/client/shared-memory.ts (docs/CLIENT.md
"Same-host shared memory"). A member whose arena lives in shared-memory files lists them in
Status (memory_tier.shared_memory: paths and the SHA-256 of a nonce). The client maps each file
read-only (mmap, PROT_READ), reads the nonce from the file's header, and uses the member only when
the nonce's hash matches: then it is on the member's host and reads the member's live file (a
stale file of a crashed run, or a file of the same name on another host, has another nonce).
GetPages then sends the nonce as proof and receives, per page, a place in a file under a lease;
the client copies the bytes, checks their crc32c (always: a lease that expired before the copy may
have let the slot be reused), and releases the leases with ReleasePages (client.py).

A member that cannot be used this way (no shared arena, a file this process cannot open, a nonce
that does not match, Status refused) is remembered as "stream" for PROBE_AGAIN_S and read over
gRPC as usual.
"""
from __future__ import annotations

import hashlib
import hmac
import mmap
import os
import struct
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

# How long a member found unusable for shared memory is read over gRPC before looking again.
PROBE_AGAIN_S = 30.0

# The arena file header (src/store/pinned-memory.ts writes it; all integers little-endian).
HEADER_MAGIC = b"KVCARENA"
HEADER_VERSION = 1
HEADER_BYTES = 64
HEADER_OFFSETS = {"magic": 0, "version": 8, "region": 12, "nonce": 16, "data_offset": 32, "data_bytes": 40, "pid": 48, "region_count": 52}
NONCE_BYTES = 16
CLIENT_ID_BYTES = 16


class MemberArena:
    """A member's shared arena as this process sees it: verified and mapped read-only."""

    __slots__ = ("nonce", "paths", "files", "leases_per_client_max")

    def __init__(self, nonce: bytes, paths: List[str], files: List[mmap.mmap], leases_per_client_max: int):
        self.nonce = nonce
        self.paths = paths
        self.files = files
        # Keys per GetPages this client may lease at once on the member (its leases_per_client_max).
        self.leases_per_client_max = leases_per_client_max

    def copy(self, region: int, offset: int, target: memoryview) -> None:
        """Copies len(target) bytes at file offset `offset` of file `region` into `target`: one
        memcpy, and no view into the mapping outlives the call."""
        if not 0 <= region < len(self.files):
            raise ValueError(f"region {region} is not one of the {len(self.files)} files")
        mapping = self.files[region]
        end = offset + len(target)
        if offset < 0 or end > len(mapping):
            raise ValueError(f"bytes {offset}..{end} are outside {self.paths[region]} ({len(mapping)} bytes)")
        with memoryview(mapping) as view:
            target[:] = view[offset:end]

    def close(self) -> None:
        for mapping in self.files:
            try:
                mapping.close()
            except BufferError:  # another thread is copying from it: the mapping goes with its last reference
                pass


class _Stream:
    __slots__ = ("why", "until")

    def __init__(self, why: str):
        self.why = why
        self.until = time.monotonic() + PROBE_AGAIN_S


_Probe = Union[MemberArena, _Stream]


class SharedMemoryReads:
    """Which members this process reads over shared memory, with their mapped arenas.
    `status(endpoint)` returns that member's admin_pb2.StatusResponse (or raises)."""

    def __init__(self, status: Callable[[str], Any]):
        # This process's client id: leases are granted to it and only it may release them.
        self.client_id = os.urandom(CLIENT_ID_BYTES)
        self._status = status
        self._probes: Dict[str, _Probe] = {}
        self._lock = threading.Lock()
        # One probe per member at a time; others asking for the same member wait for its answer.
        self._probing: Dict[str, threading.Lock] = {}

    def arena(self, endpoint: str) -> Optional[MemberArena]:
        """The member's arena when this process can read it, else None (stream instead)."""
        with self._lock:
            found = self._probes.get(endpoint)
            if isinstance(found, MemberArena):
                return found
            if found is not None and time.monotonic() < found.until:
                return None
            probing = self._probing.setdefault(endpoint, threading.Lock())
        with probing:
            with self._lock:
                found = self._probes.get(endpoint)
                if isinstance(found, MemberArena) or (found is not None and time.monotonic() < found.until):
                    return found if isinstance(found, MemberArena) else None
            probe = self._probe(endpoint)
            with self._lock:
                self._probes[endpoint] = probe
            return probe if isinstance(probe, MemberArena) else None

    def same_host_member(self, endpoints: Iterable[str]) -> Optional[str]:
        """The first of `endpoints` whose arena this process reads (a member on this host), known
        from an earlier read; None when none is known yet. Never probes: a member that does not
        answer would hold up the read that asked."""
        with self._lock:
            return next((at for at in endpoints if isinstance(self._probes.get(at), MemberArena)), None)

    def why_streamed(self, endpoint: str) -> str:
        """Why the member is streamed, or '' when its arena is in use or it was not probed yet."""
        with self._lock:
            found = self._probes.get(endpoint)
        return found.why if isinstance(found, _Stream) else ""

    def forget(self, endpoint: str, arena: Optional[MemberArena] = None) -> None:
        """The member said the nonce is wrong (it restarted): drop its mapping and look again on
        the next read. With `arena`, only when that is still the one known (another thread may
        have mapped the new file already). The mapping is unmapped when its last user is done."""
        with self._lock:
            if arena is None or self._probes.get(endpoint) is arena:
                self._probes.pop(endpoint, None)

    def close(self) -> None:
        with self._lock:
            probes, self._probes = self._probes, {}
        for probe in probes.values():
            if isinstance(probe, MemberArena):
                probe.close()

    def _probe(self, endpoint: str) -> _Probe:
        try:
            status = self._status(endpoint)
        except Exception as error:  # any failure means "stream", with the reason kept
            return _Stream(f"Status failed: {error}")
        return probe_status(status)


def probe_status(status: Any) -> _Probe:
    """Maps and checks the files a Status answer lists: the arena, or why not."""
    tier = status.memory_tier if status.HasField("memory_tier") else None
    shared = tier.shared_memory if tier is not None and tier.HasField("shared_memory") else None
    if shared is None or len(shared.files) == 0:
        return _Stream("the member does not share its arena")
    files: List[mmap.mmap] = []
    paths: List[str] = []
    try:
        nonce: Optional[bytes] = None
        for region, file in enumerate(shared.files):
            mapping = map_read_only(file.path)
            files.append(mapping)
            paths.append(file.path)
            found = read_header_nonce(mapping, region, file.path)
            if nonce is not None and found != nonce:
                raise ValueError(f"{file.path} has another nonce than region 0")
            nonce = found
        assert nonce is not None
        if not hmac.compare_digest(hashlib.sha256(nonce).digest(), bytes(shared.nonce_sha256)):
            raise ValueError("the files' nonce is not the member's (another host, or a stale file)")
        return MemberArena(nonce, paths, files, max(1, shared.leases_per_client_max))
    except (OSError, ValueError) as error:
        for mapping in files:
            mapping.close()
        return _Stream(str(error))


def map_read_only(path: str) -> mmap.mmap:
    """The whole file mapped MAP_SHARED, PROT_READ (the descriptor is closed at once)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    finally:
        os.close(fd)


def read_header_nonce(mapping: Any, region: int, path: str) -> bytes:
    """The nonce of an arena file's header, after checking its magic, version and region index."""
    if len(mapping) < HEADER_BYTES:
        raise ValueError(f"{path} is not an arena file")
    header = bytes(mapping[0:HEADER_BYTES])
    o = HEADER_OFFSETS
    if header[o["magic"]:o["magic"] + len(HEADER_MAGIC)] != HEADER_MAGIC:
        raise ValueError(f"{path} is not an arena file")
    (version,) = struct.unpack_from("<I", header, o["version"])
    if version != HEADER_VERSION:
        raise ValueError(f"{path} has header version {version}, {HEADER_VERSION} is known")
    (found_region,) = struct.unpack_from("<I", header, o["region"])
    if found_region != region:
        raise ValueError(f"{path} is not region {region}")
    return header[o["nonce"]:o["nonce"] + NONCE_BYTES]
