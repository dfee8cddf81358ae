"""Client.watch and Client.list_pages: the cluster's page-set changes as a generator that survives
member failures, with the semantics of src/client/watch.ts (docs/CLIENT.md "Watching the
cache"). One Watch stream to one member at a time; the generator remembers the next index it
needs (the last message's last index + 1: all events of one log index always come in one
message, so that place is exact) and, when the stream fails, opens a new one from that index at
the next member after a backoff. A member that no longer keeps the index (KVC_WATCH_COMPACTED) is
skipped while another may; when every known member says so, the error reaches the caller, who
relists (list_all_pages) and watches from its watch_from_index.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple

import grpc

from . import errors
from ._wire import CACHE_SERVICE, cache_pb2
from .errors import KvcError

# Failed streams in a row (no message between them) before watch() gives up.
DEFAULT_WATCH_RESUMES_MAX = 20

_TYPES = {
    cache_pb2.WATCH_EVENT_STORED: "stored",
    cache_pb2.WATCH_EVENT_REMOVED: "removed",
    cache_pb2.WATCH_EVENT_NAMESPACE_DROPPED: "namespace_dropped",
    cache_pb2.WATCH_EVENT_PROGRESS: "progress",
}
_REASONS = {
    cache_pb2.REMOVAL_REASON_EVICTED: "evicted",
    cache_pb2.REMOVAL_REASON_DELETED: "deleted",
    cache_pb2.REMOVAL_REASON_EXPIRED: "expired",
}
# The caller's request is wrong: no member will take it.
_FATAL = frozenset({"KVC_INVALID_ARGUMENT", "KVC_INVALID_NAMESPACE", "KVC_UNAUTHENTICATED"})


@dataclass(frozen=True)
class WatchEvent:
    """One change: type is stored, removed, namespace_dropped or progress (every change up to
    `index` was delivered); `reason` (evicted, deleted, expired) for removed; `endpoint` is the
    member whose feed delivered it."""
    type: str
    index: int
    namespace: str
    key: bytes
    parent_key: bytes
    bytes: int
    tokens: int
    reason: Optional[str]
    endpoint: str
    crc32c: int = 0


@dataclass(frozen=True)
class ListedPage:
    namespace: str
    key: bytes
    parent_key: bytes
    bytes: int
    tokens: int


@dataclass(frozen=True)
class PageListing:
    """One part of a listing: the member's state at applied_index; watch from watch_from_index
    (the first part's applied index + 1) to keep the union of the parts exact."""
    pages: List[ListedPage]
    applied_index: int
    next_page_token: str
    watch_from_index: int
    endpoint: str


def page_set_digest(pages: Iterable[Any]) -> str:
    """sha256 (hex) of a page set, as a member's Status pages_digest (src/bytes/page-set-digest.ts):
    pages sorted by namespace bytes, 0x00, key bytes; one line each of namespace, key hex, parent
    hex, bytes, tokens. Takes objects with namespace, key, parent_key, bytes, tokens."""
    lines = []
    for p in pages:
        ns = p.namespace.encode()
        lines.append((ns + b"\x00" + bytes(p.key), f"{p.namespace}\x00{bytes(p.key).hex()}\x00{bytes(p.parent_key or b'').hex()}\x00{p.bytes}\x00{p.tokens}\n"))
    digest = hashlib.sha256()
    for _, line in sorted(lines, key=lambda item: item[0]):
        digest.update(line.encode())
    return digest.hexdigest()


def watch_events(pool: Any, backoff_ms: Callable[[int], float], namespace: Optional[str], from_index: int,
                 endpoint: Optional[str], resumes_max: int, stop: Optional[threading.Event],
                 on_resume: Optional[Callable[[str, str, int, KvcError], None]],
                 metadata: Optional[List[Tuple[str, str]]] = None) -> Iterator[WatchEvent]:
    if not isinstance(from_index, int) or from_index < 0:
        raise ValueError(f"from_index must be a non-negative integer, got {from_index!r}")
    next_index = from_index
    if endpoint is not None:
        pool.add(endpoint)
    at = endpoint or pool.next_replica()
    failures = 0
    compacted: set = set()
    while stop is None or not stop.is_set():
        call = pool.channel(at).unary_stream(
            CACHE_SERVICE + "Watch", request_serializer=cache_pb2.WatchRequest.SerializeToString,
            response_deserializer=cache_pb2.WatchResponse.FromString)(
                cache_pb2.WatchRequest(namespace=namespace or "", from_index=next_index), metadata=metadata)
        watcher = None
        if stop is not None:
            # Cancels the call from another thread when asked to stop, so a quiet stream ends too.
            watcher = threading.Thread(target=lambda c=call: (stop.wait(), c.cancel()), daemon=True)
            watcher.start()
        try:
            for message in call:
                failures = 0
                compacted.clear()
                for event in message.events:
                    out = _to_event(event, at)
                    if out is None:
                        continue
                    next_index = max(next_index, out.index + 1)
                    yield out
            error = KvcError(errors.KVC_UNAVAILABLE, f"KVC_UNAVAILABLE: the watch stream ended (from {at})", grpc.StatusCode.UNAVAILABLE, at)
        except grpc.RpcError as thrown:
            if stop is not None and stop.is_set():
                return
            error = errors.from_rpc_error(thrown, at)
        finally:
            call.cancel()
        if error.code in _FATAL:
            raise error
        if error.code == "KVC_WATCH_COMPACTED":
            compacted.add(at)
            if all(e in compacted for e in pool.known()):
                raise error
        failures += 1
        if failures > resumes_max:
            error.attempts = failures
            raise error
        to = at if error.code == "KVC_WATCH_TOO_SLOW" else _next_endpoint(pool, at, compacted)
        if on_resume is not None:
            on_resume(at, to, next_index, error)
        if error.code != "KVC_WATCH_TOO_SLOW":
            time.sleep(backoff_ms(failures - 1) / 1000)
        at = to


def _next_endpoint(pool: Any, at: str, compacted: set) -> str:
    for _ in range(len(pool.known())):
        candidate = pool.next_replica()
        if candidate != at and candidate not in compacted:
            return candidate
    return at


def _to_event(event: Any, endpoint: str) -> Optional[WatchEvent]:
    kind = _TYPES.get(event.type)
    if kind is None:
        return None  # A type a newer server added: skipped.
    reason = _REASONS.get(event.reason) if kind == "removed" else None
    return WatchEvent(kind, event.index, event.namespace, bytes(event.key), bytes(event.parent_key), event.bytes,
                      event.tokens, reason, endpoint, event.crc32c)


def to_listing(response: Any, endpoint: str) -> PageListing:
    pages = [ListedPage(p.namespace, bytes(p.key), bytes(p.parent_key), p.bytes, p.tokens) for p in response.pages]
    return PageListing(pages, response.applied_index, response.next_page_token, response.watch_from_index, endpoint)


def list_pages_request(namespace: Optional[str], page_token: str, limit: int) -> Tuple[Any, Any]:
    return cache_pb2.ListPagesRequest(namespace=namespace or "", page_token=page_token, limit=limit), cache_pb2.ListPagesResponse
