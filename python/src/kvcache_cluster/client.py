"""Client: what an inference worker embeds to use a kvcache cluster, with the semantics of the
TypeScript client (src/client/client.ts, docs/CLIENT.md). It starts from any member address and
finds the leader from `kvcache-leader` trailers; writes go to the leader, reads rotate over every
known member (pages are immutable, so any replica that has a page serves the same bytes, and a
lagging one can only under-report a Lookup). Every attempt has a deadline; failed attempts are
retried by the idempotency rules below. Pages travel in chunks of at most 1 MiB and are checked
on arrival (pages.py). With transfer="shared-memory" a get from a member on this host copies the
pages straight from the member's shared arena instead (shared_memory.py).

Blocking calls, safe to share between threads (the engine adapters call it from executors).
"""
from __future__ import annotations

import os
import random
import threading
import time
from typing import Any, Callable, Dict, Generator, Iterable, Iterator, List, Optional, Tuple, TypeVar, Union

import grpc

from . import errors
from ._pool import EndpointPool
from ._wire import ADMIN_SERVICE, CACHE_SERVICE, admin_pb2, cache_pb2, decode_get_pages_response, wire_dtype
from .buffers import normalize_dtype, writable_bytes
from .errors import KvcError
from .pages import (
    KEYS_PER_REQUEST_MAX, UINT32_MAX, PageAssembler, PageMeta, PreparedPage, PutResult, _uint, batches,
    check_keys, check_namespace, encode_put_pages_request, namespace_accepted, page_messages, prepare_page,
    put_pages_request_parts,
)
from .put_lane import LaneUnavailable, PutLanes
from .shared_memory import MemberArena, SharedMemoryReads
from .shared_lookup import SharedLookups
from .watch import DEFAULT_WATCH_RESUMES_MAX, PageListing, WatchEvent, list_pages_request, to_listing, watch_events

DEFAULT_DEADLINE_MS = 10_000
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_BASE_MS = 100
# A Raft election takes one to two election timeouts (1 to 2 s with the default tick).
DEFAULT_BACKOFF_MAX_MS = 2_000
# Most page bytes in one PutPages stream; larger batches are split, so a retry resends at most this.
PUT_STREAM_BYTES_MAX = 256 * 1024 * 1024
LEASE_MS_MAX = 60_000
PIN_TTL_MS_MAX = 60 * 60 * 1000
# How page bytes travel on a get: the gRPC stream, or the same host's shared memory.
TRANSFERS = ("grpc", "shared-memory")
DEFAULT_TRANSFER = "grpc"

# The server refused before doing anything: any request may be retried.
_REFUSED = frozenset({"KVC_NOT_LEADER", "KVC_NO_LEADER"})
# The request may or may not have taken effect: only idempotent requests are retried.
_AMBIGUOUS = frozenset({"KVC_PROPOSAL_DROPPED", "KVC_DEADLINE_EXCEEDED", "KVC_UNAVAILABLE"})
# gRPC C-core's wording when no connection to the member could be made: the request never left
# this process, so even a non-idempotent one may be retried. A miss only makes the client more
# conservative. (grpc-js says "No connection established" for the same case.)
_NEVER_SENT_DETAIL = "failed to connect to all addresses"
# A stream that failed the client's own checks: reads change nothing, so another try is worth it.
_DAMAGED_READ = frozenset({errors.KVC_CHECKSUM_MISMATCH, errors.KVC_INCOMPLETE_PAGE, errors.KVC_PROTOCOL})

T = TypeVar("T")
_LEADER = "leader"
_REPLICA = "replica"


def _decide(error: KvcError, idempotent: bool, endpoint: str) -> Tuple[str, Optional[str]]:
    """('redirect', leader) | ('backoff', None) | ('fail', None), as src/client/retry.ts decides."""
    if error.code in _REFUSED:
        # A member naming itself as leader while refusing is not progress: back off instead.
        if error.leader is not None and error.leader != endpoint:
            return "redirect", error.leader
        return "backoff", None
    if error.code not in _AMBIGUOUS:
        return "fail", None
    if idempotent or (error.code == errors.KVC_UNAVAILABLE and _NEVER_SENT_DETAIL in str(error)):
        return "backoff", None
    return "fail", None


def _check_transfer(transfer: Any, what: str = "transfer") -> str:
    if transfer not in TRANSFERS:
        raise ValueError(f"{what} must be 'grpc' or 'shared-memory', got {transfer!r}")
    return transfer


def _positive_int(value: Any, name: str, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _pem(value: Optional[Union[str, bytes]], name: str) -> Optional[bytes]:
    if value is None or isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be PEM bytes or the path of a PEM file")
    with open(value, "rb") as file:
        return file.read()


def _tls_credentials(ca: Any, cert: Any, key: Any) -> Optional[grpc.ChannelCredentials]:
    if (cert is None) != (key is None):
        raise ValueError("give both cert and key, or neither")
    if ca is None:
        if cert is not None:
            raise ValueError("cert and key need ca (the cluster CA)")
        return None
    return grpc.ssl_channel_credentials(root_certificates=_pem(ca, "ca"), private_key=_pem(key, "key"),
                                        certificate_chain=_pem(cert, "cert"))


class Client:
    """Client(endpoints, token=None): endpoints are host:port strings (a list, or one string with
    commas); token is sent as `authorization: Bearer` on every call (CacheService and
    AdminService), for members that configure tokens or an admin token.

    ca, cert, key: TLS. ca is the cluster CA that members' certificates chain to; cert and key a
    client certificate, for members that ask for one. Each is PEM bytes or the path of a PEM file.
    Without ca the channels are plaintext.

    transfer: how get_pages receives page bytes ('grpc', the default, or 'shared-memory'); each
    get_pages call may override it. 'shared-memory' copies them from the member's shared arena when
    the member is on this host and shares it (docs/CLIENT.md "Same-host shared memory"), and
    streams them otherwise.

    lookup_via: where lookup answers from ('grpc', the default, or 'shared-memory'). 'shared-memory'
    reads the page index a member on this host keeps in shared memory, with no call, for lookups
    that are neither linearizable nor leased nor aimed at an endpoint; the others, and every lookup
    while no member's index can be read, go over gRPC (docs/CLIENT.md "Same-host lookups")."""

    def __init__(self, endpoints: Union[str, Iterable[str]], token: Optional[str] = None, *,
                 deadline_ms: int = DEFAULT_DEADLINE_MS, retries: int = DEFAULT_RETRIES,
                 backoff_base_ms: int = DEFAULT_BACKOFF_BASE_MS, backoff_max_ms: int = DEFAULT_BACKOFF_MAX_MS,
                 verify_checksums: bool = True, transfer: str = DEFAULT_TRANSFER,
                 lookup_via: str = DEFAULT_TRANSFER, ca: Optional[Union[str, bytes]] = None, cert: Optional[Union[str, bytes]] = None,
                 key: Optional[Union[str, bytes]] = None, put_via: Optional[str] = None):
        if isinstance(endpoints, str):
            endpoints = [e.strip() for e in endpoints.split(",") if e.strip()]
        elif isinstance(endpoints, (bytes, bytearray)) or not isinstance(endpoints, Iterable):
            raise TypeError("endpoints must be host:port strings")
        endpoints = list(endpoints)
        if not all(isinstance(e, str) for e in endpoints):
            raise TypeError("endpoints must be host:port strings")
        if token is not None and not isinstance(token, str):
            raise TypeError("token must be a str")
        self._pool = EndpointPool(endpoints, _tls_credentials(ca, cert, key))
        self._token = token
        self._deadline_ms = _positive_int(deadline_ms, "deadline_ms", 1)
        self._retries = _positive_int(retries, "retries", 0)
        self._backoff_base_ms = _positive_int(backoff_base_ms, "backoff_base_ms", 0)
        self._backoff_max_ms = _positive_int(backoff_max_ms, "backoff_max_ms", 0)
        self._verify = bool(verify_checksums)
        self._transfer = _check_transfer(transfer)
        if put_via is None:
            put_via = "grpc" if os.environ.get("KVC_PUT_LANE") == "off" else "lane"
        if put_via not in ("lane", "grpc"):
            raise ValueError(f"put_via must be 'lane' or 'grpc', not {put_via!r}")
        # The lane is plaintext: a TLS client never sends a page or its token over it.
        self._put_lanes = PutLanes() if put_via == "lane" and ca is None else None
        self._shm = SharedMemoryReads(self.status)
        self._put_attempts = {"lane": 0, "grpc": 0}
        self._shared_copies_refused = 0
        self._shared_copies = 0
        self._shared_lookups = (SharedLookups(self.endpoints, self.status, self._report_access)
                                if _check_transfer(lookup_via, "lookup_via") == "shared-memory" else None)
        # Calls sent without waiting (ReleasePages, accesses reported as Lookups), in flight: gRPC
        # cancels a call whose future is garbage-collected (_send_unwaited).
        self._unwaited: set = set()
        self._unwaited_lock = threading.Lock()
        self._random = random.Random()
        self._random_lock = threading.Lock()

    # -- surface -----------------------------------------------------------------------------

    def endpoints(self) -> List[str]:
        """Every member address the client knows, in the order it learned them."""
        return self._pool.known()

    @property
    def leader(self) -> Optional[str]:
        """Where the client believes the leader is (None until a redirect or a write told it)."""
        return self._pool.leader

    def lookup(self, ns: str, keys: Iterable[bytes], lease_ms: int = 0, linearizable: bool = False,
               *, endpoint: Optional[str] = None) -> int:
        """How many leading keys are cached: the longest cached prefix, in pages. A lease protects
        the matched pages from eviction for lease_ms (at most 60 000); it only extends protection,
        so a lookup stays idempotent."""
        self._check_open()
        ns = check_namespace(ns)
        keys = check_keys(keys)
        lease_ms = _uint(lease_ms, "lease_ms", LEASE_MS_MAX)
        # A namespace the members refuse goes over gRPC, for the member's KVC_INVALID_NAMESPACE.
        if (self._shared_lookups is not None and endpoint is None and not linearizable and lease_ms == 0
                and namespace_accepted(ns)):
            found = self._shared_lookups.match(ns, keys)
            if found is not None:
                return found
        matched = 0
        for batch in batches(keys, KEYS_PER_REQUEST_MAX):
            request = cache_pb2.LookupRequest(namespace=ns, keys=batch, linearizable=bool(linearizable), lease_ms=lease_ms)

            def attempt(at: str, batch: List[bytes] = batch, request: Any = request) -> int:
                answer = self._unary(at, CACHE_SERVICE + "Lookup", request, cache_pb2.LookupResponse)
                if not 0 <= answer.matched <= len(batch):
                    raise errors.local_error(errors.KVC_PROTOCOL, f"Lookup matched {answer.matched} of {len(batch)} keys", at)
                return answer.matched

            found = self._with_retry(_target(endpoint), True, attempt)
            matched += found
            if found < len(batch):
                break
        return matched

    def get_pages(self, ns: str, keys: Iterable[bytes], out: Any = None, as_dtype: Any = None, *,
                  allow_partial: bool = False, layer_begin: int = 0, layer_end: int = 0,
                  endpoint: Optional[str] = None, deadline_ms: Optional[int] = None,
                  transfer: Optional[str] = None) -> Iterator[Tuple[PageMeta, memoryview]]:
        """Streams the pages of `keys` in order, each whole and verified, as (meta, memoryview).

        Without `out` each page's bytes are a fresh bytearray. With `out` (a writable buffer, a
        numpy array or a CPU torch tensor) the pages are written into it back to back and each
        memoryview is the page's slice of it, so `out` holds the prefix when iteration ends; a
        page that does not fit raises ValueError. `out` may also be a callable taking a page's
        PageMeta and returning a writable buffer of exactly meta.bytes for it (an engine's
        allocator): the page is received straight into it. `as_dtype` ('fp32' from stored fp16, or a
        numpy/torch dtype) converts on the server. A key no member has ends the iteration with
        KvcError KVC_NOT_FOUND after the pages before it, or quietly with allow_partial.
        `transfer` overrides the client's for this call ('grpc' or 'shared-memory'); pages copied
        from shared memory land in the same destinations and are always checked against their
        crc32c.

        Arguments are checked when this is called; the request is sent on the first next()."""
        self._check_open()
        ns = check_namespace(ns)
        keys = check_keys(keys)
        if endpoint is not None:
            _target(endpoint)  # checks its type
        as_wire = wire_dtype(None if as_dtype is None else normalize_dtype(as_dtype, "as_dtype"))
        target = None if out is None or callable(out) else writable_bytes(out)
        allocate = out if callable(out) else None
        request = dict(namespace=ns, as_dtype=as_wire, layer_begin=_uint(layer_begin, "layer_begin", UINT32_MAX),
                       layer_end=_uint(layer_end, "layer_end", UINT32_MAX))
        deadline = self._deadline_ms if deadline_ms is None else _positive_int(deadline_ms, "deadline_ms", 1)
        shared = (self._transfer if transfer is None else _check_transfer(transfer)) == "shared-memory"
        return self._get_pages(keys, request, target, allocate, bool(allow_partial), endpoint, deadline, shared)

    def put_pages(self, pages: Iterable[Any], *, deadline_ms: Optional[int] = None) -> List[PutResult]:
        """Stores pages and returns one PutResult per page, in order (code '' = stored, or already
        there with the same crc32c). A page is a mapping {"meta": {...}, "data": buffer} or a
        PageInput; byte counts and crc32c are computed here. Puts are idempotent, so a batch is
        resent whole after an ambiguous failure."""
        self._check_open()
        if isinstance(pages, (bytes, bytearray, memoryview, str, dict)):
            raise TypeError("pages must be a list of pages")
        prepared = [prepare_page(page, i) for i, page in enumerate(pages)]
        deadline = self._deadline_ms if deadline_ms is None else _positive_int(deadline_ms, "deadline_ms", 1)
        results: List[PutResult] = []
        for batch in _put_batches(prepared):
            results += self._with_retry(_LEADER, True, lambda at, batch=batch: self._put_stream(at, batch, deadline))
        return results

    def delete(self, ns: str, keys: Iterable[bytes]) -> None:
        """Deletes pages (absent ones are fine: deletes are idempotent)."""
        self._keys_write("DeletePages", cache_pb2.DeletePagesRequest, cache_pb2.DeletePagesResponse, ns, keys)

    def pin(self, ns: str, keys: Iterable[bytes], ttl_ms: int) -> None:
        """Protects pages from eviction and expiry for ttl_ms (1 ms to 1 hour); a pin only
        refreshes its expiry, so it is retried like any idempotent write."""
        ttl_ms = _uint(ttl_ms, "ttl_ms", PIN_TTL_MS_MAX, 1)
        self._keys_write("PinPages", cache_pb2.PinPagesRequest, cache_pb2.PinPagesResponse, ns, keys, ttl_ms=ttl_ms)

    def unpin(self, ns: str, keys: Iterable[bytes]) -> None:
        self._keys_write("UnpinPages", cache_pb2.UnpinPagesRequest, cache_pb2.UnpinPagesResponse, ns, keys)

    def status(self, endpoint: Optional[str] = None) -> Any:
        """One member's admin_pb2.StatusResponse (`endpoint`'s, or any member's); learns the
        members it lists and the leader it names."""
        self._check_open()
        answer = self._with_retry(_target(endpoint), True, lambda at: self._unary(
            at, ADMIN_SERVICE + "Status", admin_pb2.StatusRequest(), admin_pb2.StatusResponse, admin=True))
        for member in answer.members:
            self._pool.add(member.address)
        if answer.leader_address:
            self._pool.set_leader(answer.leader_address)
        return answer

    def watch(self, namespace: Optional[str] = None, from_index: int = 0, *, endpoint: Optional[str] = None,
              resumes_max: int = DEFAULT_WATCH_RESUMES_MAX, stop: Optional[threading.Event] = None,
              on_resume: Optional[Callable[[str, str, int, KvcError], None]] = None) -> Iterator[WatchEvent]:
        """The cluster's page-set changes in log order (WatchEvent: stored, removed,
        namespace_dropped, progress), from `from_index` (last seen + 1, or a listing's
        watch_from_index; 0 = from now), resuming across member failures (watch.py). Runs until
        the caller stops iterating or sets `stop`."""
        self._check_open()
        if namespace is not None:
            namespace = check_namespace(namespace)
        return watch_events(self._pool, self._backoff_ms, namespace, from_index, endpoint, resumes_max, stop, on_resume,
                            self._metadata())

    def list_pages(self, namespace: Optional[str] = None, page_token: str = "", limit: int = 0, *,
                   endpoint: Optional[str] = None) -> PageListing:
        """One part of the page listing (ListPages); pass next_page_token back for the next."""
        self._check_open()
        request, response_type = list_pages_request(namespace, page_token, limit)
        answer: List[Any] = []

        def attempt(at: str) -> Any:
            answer[:] = [at]
            return self._unary(at, CACHE_SERVICE + "ListPages", request, response_type)
        response = self._with_retry(_target(endpoint), True, attempt)
        return to_listing(response, answer[0])

    def list_all_pages(self, namespace: Optional[str] = None, *, endpoint: Optional[str] = None) -> PageListing:
        """The whole page set, every part from one member; apply the events from its
        watch_from_index on to stay exact."""
        part = self.list_pages(namespace, endpoint=endpoint)
        pages = list(part.pages)
        while part.next_page_token:
            part = self.list_pages(namespace, part.next_page_token, endpoint=part.endpoint)
            pages.extend(part.pages)
        return PageListing(pages, part.applied_index, "", part.watch_from_index, part.endpoint)

    @property
    def shared_copies_refused(self) -> int:
        """Pages whose copy from a shared arena did not match its crc32c, and that were streamed
        instead (a lease that expired before the copy, or a damaged copy in the member's memory)."""
        return self._shared_copies_refused

    @property
    def shared_copies(self) -> int:
        """Pages (or layer ranges) copied from a member's shared arena, refused ones included."""
        return self._shared_copies

    def shared_memory_problem(self, endpoint: str) -> str:
        """Whether reads from `endpoint` can use shared memory: '' when they do, else why not (the
        member is on another host, does not share its arena, ...). Asks the member when not known yet."""
        self._check_open()
        return "" if self._shm.arena(_target(endpoint)[1]) is not None else self._shm.why_streamed(endpoint)

    def shared_lookup_problem(self) -> str:
        """'' when lookups are answered from a same-host member's shared index (lookup_via
        "shared-memory", and one was found), else why not. Probes now when it is time."""
        if self._shared_lookups is None:
            return "the client's lookup_via is 'grpc'"
        return self._shared_lookups.describe()

    def close(self) -> None:
        """Closes every channel and unmaps the shared arenas and lookup index; calls made afterwards raise ValueError."""
        self._shm.close()
        if self._shared_lookups is not None:
            self._shared_lookups.close()
        if self._put_lanes is not None:
            self._put_lanes.close()
        self._pool.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()

    # -- calls and retries -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._pool.closed:
            raise ValueError("the client is closed")

    def _metadata(self, admin: bool = False) -> Optional[List[Tuple[str, str]]]:
        # One token for every service: its scopes decide what it may do (admin is kept for callers).
        del admin
        if self._token is not None:
            return [("authorization", f"Bearer {self._token}")]
        return None

    def _unary(self, endpoint: str, path: str, request: Any, response_type: Any, admin: bool = False) -> Any:
        call = self._pool.channel(endpoint).unary_unary(
            path, request_serializer=type(request).SerializeToString, response_deserializer=response_type.FromString)
        return call(request, timeout=self._deadline_ms / 1000, metadata=self._metadata(admin))

    def _keys_write(self, rpc: str, request_type: Any, response_type: Any, ns: str, keys: Iterable[bytes], **fields: Any) -> None:
        self._check_open()
        ns = check_namespace(ns)
        keys = check_keys(keys)
        for batch in batches(keys, KEYS_PER_REQUEST_MAX):
            request = request_type(namespace=ns, keys=batch, **fields)
            self._with_retry(_LEADER, True, lambda at, request=request: self._unary(at, CACHE_SERVICE + rpc, request, response_type))

    def _with_retry(self, target: Any, idempotent: bool, attempt: Callable[[str], T]) -> T:
        """Runs `attempt` against the right member until it succeeds or the rules say give up."""
        redirect: Optional[str] = None
        for retry in range(self._retries + 1):
            endpoint = redirect or self._pick(target)
            redirect = None
            try:
                result = attempt(endpoint)
                # A member that accepted a write is the leader (or forwards to it): keep writing there.
                if target == _LEADER:
                    self._pool.set_leader(endpoint)
                return result
            except grpc.RpcError as thrown:
                error = errors.from_rpc_error(thrown, endpoint)
            except KvcError as thrown:
                error = thrown
            decision = ("fail", None) if isinstance(target, tuple) else _decide(error, idempotent, endpoint)
            redirect = self._after_failure(error, decision, endpoint, retry)
        raise AssertionError("unreachable: the last retry raises")  # pragma: no cover

    def _after_failure(self, error: KvcError, decision: Tuple[str, Optional[str]], endpoint: str, retry: int) -> Optional[str]:
        """Raises when giving up; otherwise returns where to go next after any backoff."""
        kind, leader = decision
        if kind == "fail" or retry >= self._retries:
            error.attempts = retry + 1
            raise error
        if kind == "redirect":
            self._pool.set_leader(leader)
            return leader
        if self._pool.leader == endpoint:
            self._pool.set_leader(None)
        time.sleep(self._backoff_ms(retry) / 1000)
        return None

    def _backoff_ms(self, retry: int) -> float:
        """Exponential with equal jitter: half fixed, half random, never at once."""
        ceiling = min(self._backoff_max_ms, self._backoff_base_ms * 2 ** min(retry, 30))
        with self._random_lock:
            return ceiling / 2 + self._random.random() * ceiling / 2

    def _pick(self, target: Any) -> str:
        if target == _LEADER:
            return self._pool.leader_or_next()
        if target == _REPLICA:
            return self._pool.next_replica()
        return target[1]

    # -- pages -------------------------------------------------------------------------------

    @property
    def put_attempts(self) -> Dict[str, int]:
        """PutPages attempts made over the put lane and over gRPC ({"lane": n, "grpc": n})."""
        return dict(self._put_attempts)

    def _put_stream(self, endpoint: str, batch: List[PreparedPage], deadline_ms: int) -> List[PutResult]:
        response = None
        lanes = self._put_lanes
        if lanes is not None and lanes.usable(endpoint):
            self._put_attempts["lane"] += 1
            try:
                parts = (put_pages_request_parts(message) for page in batch for message in page_messages(page))
                response = lanes.call(endpoint, parts, self._metadata(), deadline_ms)
            except LaneUnavailable:
                # Nothing was sent: this attempt goes over gRPC instead.
                self._put_attempts["lane"] -= 1
                response = None
        if response is None:
            self._put_attempts["grpc"] += 1
            call = self._pool.channel(endpoint).stream_unary(
                CACHE_SERVICE + "PutPages", request_serializer=encode_put_pages_request,
                response_deserializer=cache_pb2.PutPagesResponse.FromString)
            messages = (message for page in batch for message in page_messages(page))
            response = call(messages, timeout=deadline_ms / 1000, metadata=self._metadata())
        results = response.results
        if len(results) != len(batch) or any(r.key != page.key for r, page in zip(results, batch)):
            raise errors.local_error(errors.KVC_PROTOCOL, f"PutPages answered {len(results)} results for {len(batch)} pages, or out of order", endpoint)
        return [PutResult(bytes(r.key), r.code, r.message) for r in results]

    def _get_pages(self, keys: List[bytes], request: dict, target: Optional[memoryview], allocate: Optional[Callable[[PageMeta], Any]],
                   allow_partial: bool, endpoint: Optional[str], deadline_ms: int, shared: bool) -> Iterator[Tuple[PageMeta, memoryview]]:
        offset = 0

        def destination(meta: PageMeta, index: int) -> Optional[memoryview]:
            if allocate is not None:
                return writable_bytes(allocate(meta), f"out(meta) for page {index}")
            if target is None:
                return None
            if offset + meta.bytes > len(target):
                raise ValueError(f"out has {len(target)} bytes; page {index} needs {meta.bytes} more after {offset}")
            return target[offset:offset + meta.bytes]

        for batch in batches(keys, KEYS_PER_REQUEST_MAX):
            pages = self._get_batch(batch, request, destination, allow_partial, endpoint, deadline_ms, shared)
            while True:
                try:
                    meta, data = next(pages)
                except StopIteration as done:
                    complete = done.value
                    break
                offset += meta.bytes
                yield meta, data
            if not complete:
                return

    def _get_batch(self, keys: List[bytes], request: dict, destination: Any, allow_partial: bool,
                   endpoint: Optional[str], deadline_ms: int, shared: bool) -> Generator[Tuple[PageMeta, memoryview], None, bool]:
        """One batch of a get, resumed after failures from the first page not yet delivered. A
        member that lacks a page (it may lag) is not the last word: the others are asked, the
        leader first, before KVC_NOT_FOUND is final. Returns False when allow_partial cut the
        batch short."""
        delivered = 0
        lacking: set = set()
        failed: set = set()
        following: Optional[str] = None
        for retry in range(self._retries + 1):
            at = endpoint or following or self._read_replica(shared, failed)
            following = None
            try:
                for page in self._read_pages(at, keys[delivered:], request, destination, deadline_ms, shared):
                    delivered += 1
                    lacking.clear()
                    yield page
                return True
            except grpc.RpcError as thrown:
                error = errors.from_rpc_error(thrown, at)
            except KvcError as thrown:
                error = thrown
            if error.code == errors.KVC_NOT_FOUND:
                lacking.add(at)
                following = None if endpoint is not None else self._member_not_in(lacking)
                if following is not None and retry < self._retries:
                    continue
                if allow_partial:
                    return False
                error.attempts = retry + 1
                raise error
            failed.add(at)
            # A member that cannot be reached is not the same-host member reads prefer until a
            # read maps its arena again.
            if error.code == errors.KVC_UNAVAILABLE:
                self._shm.forget(at)
            decision = ("fail", None) if endpoint is not None else (
                ("backoff", None) if error.code in _DAMAGED_READ else _decide(error, True, at))
            following = self._after_failure(error, decision, at, retry)
        raise AssertionError("unreachable: the last retry raises")  # pragma: no cover

    def _read_replica(self, shared: bool, failed: set) -> str:
        """Where a read goes when nothing else decides: over shared memory, the member on this
        host (the first whose arena an earlier read mapped), since only its pages can be copied
        here and its answers are a place per page, not the bytes; until one is known, after it
        failed this read, and for gRPC reads, the replicas in turn."""
        local = self._shm.same_host_member(at for at in self._pool.known() if at not in failed) if shared else None
        return local or self._pool.next_replica()

    def _read_pages(self, endpoint: str, keys: List[bytes], request: dict, destination: Any,
                    deadline_ms: int, shared: bool) -> Iterator[Tuple[PageMeta, memoryview]]:
        """How the pages of one attempt travel from `endpoint`: over shared memory when asked for
        and the member's arena is readable here (in streams of at most the keys one client may
        lease), else over gRPC. A member that refuses the shared-memory proof (it restarted:
        KVC_SHM_NOT_ON_HOST) or this client's lease count (KVC_TOO_MANY_LEASES) gets the rest of
        the keys as a gRPC stream, and so does a copy whose crc32c does not match (the member hands
        out pages it has not read, since this client checks every copy: client_verifies; its
        stream checks them, and drops a damaged copy). Everything above this method (batching, resume after failure,
        NOT_FOUND failover, allow_partial, `out` placement) is shared by both transports."""
        arena = self._shm.arena(endpoint) if shared else None
        if arena is None:
            yield from self._stream_pages(endpoint, keys, request, destination, deadline_ms, None)
            return
        delivered = 0
        streams = list(batches(keys, arena.leases_per_client_max))
        try:
            for number, batch in enumerate(streams):
                # Before a further stream, the member must have ended this one's leases: else the
                # next stream may pass the per-client bound and be refused (KVC_TOO_MANY_LEASES).
                more = number + 1 < len(streams)
                for page in self._stream_pages(endpoint, batch, request, destination, deadline_ms, arena, more):
                    delivered += 1
                    yield page
        except (grpc.RpcError, KvcError) as thrown:
            error = errors.from_rpc_error(thrown, endpoint) if isinstance(thrown, grpc.RpcError) else thrown
            if error.code == errors.KVC_SHM_NOT_ON_HOST:
                self._shm.forget(endpoint, arena)
            elif error.code == errors.KVC_CHECKSUM_MISMATCH and error.grpc_status == grpc.StatusCode.UNKNOWN:
                # A copy this client refused (detected here), not a page the member refused.
                self._shared_copies_refused += 1
            elif error.code != errors.KVC_TOO_MANY_LEASES:
                raise
        else:
            return
        yield from self._stream_pages(endpoint, keys[delivered:], request, destination, deadline_ms, None)

    def _copy_shared(self, arena: MemberArena, shared: Any, target: memoryview) -> None:
        self._shared_copies += 1
        arena.copy(shared.region, shared.offset, target)

    def _stream_pages(self, endpoint: str, keys: List[bytes], request: dict, destination: Any,
                      deadline_ms: int, arena: Optional[MemberArena],
                      wait_release: bool = False) -> Iterator[Tuple[PageMeta, memoryview]]:
        """One GetPages stream; with `arena`, a TRANSFER_SHARED_MEMORY one whose leases it
        releases at its end (waiting for the member's answer with `wait_release`)."""
        if arena is None:
            message = cache_pb2.GetPagesRequest(keys=keys, **request)
        else:
            # PageAssembler checks every page copied from the arena, whatever verify_checksums says.
            message = cache_pb2.GetPagesRequest(keys=keys, transfer=cache_pb2.TRANSFER_SHARED_MEMORY,
                                                shm_nonce=arena.nonce, client_id=self._shm.client_id,
                                                client_verifies=True, **request)
        call = self._pool.channel(endpoint).unary_stream(
            CACHE_SERVICE + "GetPages", request_serializer=cache_pb2.GetPagesRequest.SerializeToString,
            response_deserializer=decode_get_pages_response)(message, timeout=deadline_ms / 1000, metadata=self._metadata())
        copy = None if arena is None else (lambda shared, target: self._copy_shared(arena, shared, target))
        assembler = PageAssembler(keys, endpoint, destination, self._verify, copy)
        lease_ids: List[int] = []
        try:
            for chunk in call:
                # Noted before the copy, so a failed copy's lease is released too.
                if chunk.shared is not None:
                    lease_ids.append(chunk.shared.lease_id)
                page = assembler.push(chunk)
                if page is not None:
                    yield page
            assembler.finish()
            if assembler.completed != len(keys):
                raise errors.local_error(errors.KVC_PROTOCOL, f"GetPages ended after {assembler.completed} of {len(keys)} pages without an error", endpoint)
        finally:
            # Ends the call when the consumer stopped early or a check failed; a no-op once done.
            call.cancel()
            if arena is not None and lease_ids:
                self._release_leases(endpoint, arena, lease_ids, wait_release)

    def _release_leases(self, endpoint: str, arena: MemberArena, lease_ids: List[int], wait: bool = False) -> None:
        """Ends leases whose bytes were copied, without waiting for the answer unless `wait`. Best
        effort: the copies were checked against their crc32c already, and a lease not released (the
        member restarted, it expired, the call failed) ends by itself within its lease time."""
        request = cache_pb2.ReleasePagesRequest(shm_nonce=arena.nonce, client_id=self._shm.client_id, lease_ids=lease_ids)
        future = self._send_unwaited(endpoint, "ReleasePages", request, cache_pb2.ReleasePagesResponse)
        if future is not None and wait:
            try:
                future.result()
            except grpc.RpcError:
                pass  # best effort, as above: the next stream may then be streamed instead

    def _report_access(self, ns: str, keys: List[bytes]) -> None:
        """Sends a Lookup of keys matched from the shared index without waiting for its answer, so
        that the members count them as accessed for eviction, as a Lookup over gRPC would have."""
        endpoint = self._shared_lookups.endpoint if self._shared_lookups is not None else ""
        known = self._pool.known()
        if not endpoint and not known:
            return
        request = cache_pb2.LookupRequest(namespace=ns, keys=keys[:KEYS_PER_REQUEST_MAX])
        self._send_unwaited(endpoint or known[0], "Lookup", request, cache_pb2.LookupResponse)

    def _send_unwaited(self, endpoint: str, method: str, request: Any, response_type: Any) -> Any:
        """Starts a CacheService call to `endpoint` and returns its future, or None when the client
        is (being) closed. The future is kept until the call ends: gRPC cancels a call whose future
        is garbage-collected."""
        if self._pool.closed:
            return None
        try:
            future = self._pool.channel(endpoint).unary_unary(
                CACHE_SERVICE + method, request_serializer=type(request).SerializeToString,
                response_deserializer=response_type.FromString).future(
                    request, timeout=self._deadline_ms / 1000, metadata=self._metadata())
        except (ValueError, RuntimeError):  # the client was closed meanwhile
            return None
        with self._unwaited_lock:
            self._unwaited.add(future)
        future.add_done_callback(self._unwaited_done)
        return future

    def _unwaited_done(self, future: Any) -> None:
        with self._unwaited_lock:
            self._unwaited.discard(future)

    def _member_not_in(self, lacking: set) -> Optional[str]:
        leader = self._pool.leader
        if leader is not None and leader not in lacking:
            return leader
        return next((a for a in self._pool.known() if a not in lacking), None)


def _target(endpoint: Optional[str]) -> Any:
    if endpoint is None:
        return _REPLICA
    if not isinstance(endpoint, str):
        raise TypeError("endpoint must be a host:port string")
    return ("endpoint", endpoint)


def _put_batches(pages: List[PreparedPage]) -> Iterator[List[PreparedPage]]:
    """Streams of at most KEYS_PER_REQUEST_MAX pages and PUT_STREAM_BYTES_MAX bytes."""
    batch: List[PreparedPage] = []
    size = 0
    for page in pages:
        if batch and (len(batch) >= KEYS_PER_REQUEST_MAX or size + len(page.data) > PUT_STREAM_BYTES_MAX):
            yield batch
            batch, size = [], 0
        batch.append(page)
        size += len(page.data)
    if batch:
        yield batch
