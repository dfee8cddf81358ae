"""Pages on the wire, both directions, as src/client/pages.ts. A put sends each page as chunks of
at most CHUNK_BYTES, the first carrying the metadata with the client-computed byte count and
crc32c. A get reassembles the chunks and checks that nothing was lost or reordered: every page
starts with its metadata, comes under the key asked for and in request order, its offsets are
contiguous from 0, its size is what the metadata says and its crc32c matches. Any violation fails
the read instead of handing the caller a damaged KV cache.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import errors
from ._wire import DTYPE_ITEM_BYTES, Chunk, cache_pb2, dtype_name, wire_dtype
from .buffers import dtype_of, normalize_dtype, readable_bytes
from .checksum import crc32c

# LIMITS.page: chunk size, page size, key lengths, keys per request (src/limits.ts defaults).
CHUNK_BYTES = 1024 * 1024
PAGE_BYTES_MAX = 32 * 1024 * 1024
KEY_BYTES_MIN = 8
KEY_BYTES_MAX = 64
KEYS_PER_REQUEST_MAX = 8192
# The members' namespace syntax (DESIGN §2; src/limits.ts NAMESPACE_PATTERN, LIMITS.namespace.lengthMax).
NAMESPACE_CHARS = "A-Za-z0-9._:/-"
NAMESPACE_LENGTH_MAX = 128
_NAMESPACE_PATTERN = re.compile(f"[{NAMESPACE_CHARS}]+")
# A page converted from fp16 to fp32 on the way out is twice the largest page: checked before a
# destination is chosen, so a confused server cannot make the client allocate without bound.
GET_PAGE_BYTES_MAX = 2 * PAGE_BYTES_MAX
UINT32_MAX = 0xFFFF_FFFF
UINT64_MAX = 0xFFFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class PageMeta:
    """A page's metadata as a server returned it (describing the payload as it travelled)."""
    namespace: str
    key: bytes
    parent_key: Optional[bytes]
    dtype: str
    shape: Tuple[int, ...]
    tokens: int
    bytes: int
    crc32c: int
    ttl_ms: int
    created_at_ms: int


@dataclass
class PageInput:
    """One page to put; `meta` holds namespace, key, parent_key?, dtype, shape, tokens, ttl_ms?,
    store_dtype? (the same fields a mapping page's "meta" has)."""
    meta: Mapping[str, Any]
    data: Any


@dataclass(frozen=True)
class PutResult:
    key: bytes
    # Empty when stored (or already present with the same crc32c); otherwise a KVC_* code.
    code: str
    message: str = field(default="")

    @property
    def ok(self) -> bool:
        return self.code == ""


def check_keys(keys: Any, name: str = "keys") -> List[bytes]:
    """The keys as a list of bytes; TypeError/ValueError for anything the server would refuse."""
    if isinstance(keys, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"{name} must be a list of keys, not a single {type(keys).__name__}")
    try:
        items = list(keys)
    except TypeError:
        raise TypeError(f"{name} must be a list of bytes keys, got {type(keys).__name__}") from None
    return [check_key(key, f"{name}[{i}]") for i, key in enumerate(items)]


def check_key(key: Any, name: str = "key") -> bytes:
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, got {type(key).__name__}")
    key = bytes(key)
    if not KEY_BYTES_MIN <= len(key) <= KEY_BYTES_MAX:
        raise ValueError(f"{name} must be {KEY_BYTES_MIN} to {KEY_BYTES_MAX} bytes, got {len(key)}")
    return key


def namespace_accepted(ns: str) -> bool:
    """Whether the members accept `ns` as a namespace (else they answer KVC_INVALID_NAMESPACE)."""
    return len(ns) <= NAMESPACE_LENGTH_MAX and _NAMESPACE_PATTERN.fullmatch(ns) is not None


def check_namespace(ns: Any) -> str:
    if not isinstance(ns, str):
        raise TypeError(f"namespace must be a str, got {type(ns).__name__}")
    return ns


def _uint(value: Any, name: str, maximum: int, minimum: int = 0) -> int:
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be in [{minimum}, {maximum}], got {value}")
    return value


@dataclass
class PreparedPage:
    key: bytes
    meta_bytes: bytes
    data: memoryview


def prepare_page(page: Any, index: int) -> PreparedPage:
    """Checks one page to put and computes its byte count and crc32c (once, not per attempt)."""
    if isinstance(page, Mapping):
        meta, data = page.get("meta"), page.get("data")
    elif hasattr(page, "meta") and hasattr(page, "data"):
        meta, data = page.meta, page.data
    else:
        raise TypeError(f"pages[{index}] must be a mapping with 'meta' and 'data' or a PageInput, got {type(page).__name__}")
    if not isinstance(meta, Mapping):
        meta = getattr(meta, "__dict__", None)
        if meta is None:
            raise TypeError(f"pages[{index}].meta must be a mapping")
    name = f"pages[{index}]"
    view = readable_bytes(data, f"{name}.data")
    dtype = meta["dtype"] if "dtype" in meta else dtype_of(data)
    if dtype is None:
        raise ValueError(f"{name}.meta.dtype is required unless data is a numpy array or torch tensor")
    dtype = normalize_dtype(dtype, f"{name}.meta.dtype")
    shape = meta.get("shape")
    if shape is None:
        shape = tuple(data.shape) if hasattr(data, "shape") else None
    if shape is None or isinstance(shape, (str, bytes)):
        raise TypeError(f"{name}.meta.shape must be a sequence of ints")
    shape = [_uint(dim, f"{name}.meta.shape[{i}]", UINT32_MAX, 1) for i, dim in enumerate(shape)]
    if not shape:
        raise ValueError(f"{name}.meta.shape must not be empty")
    product = DTYPE_ITEM_BYTES[dtype]
    for dim in shape:
        product *= dim
    if product != len(view):
        raise ValueError(f"{name}: shape {shape} of {dtype} is {product} bytes, data has {len(view)}")
    if len(view) > PAGE_BYTES_MAX:
        raise ValueError(f"{name}: {len(view)} bytes is over the {PAGE_BYTES_MAX}-byte page limit")
    key = check_key(meta.get("key"), f"{name}.meta.key")
    parent = meta.get("parent_key")
    store_dtype = meta.get("store_dtype")
    wire = cache_pb2.PageMeta(
        namespace=check_namespace(meta.get("namespace")),
        key=key,
        parent_key=b"" if parent is None else check_key(parent, f"{name}.meta.parent_key"),
        dtype=wire_dtype(dtype),
        shape=shape,
        tokens=_uint(meta.get("tokens", 0), f"{name}.meta.tokens", UINT32_MAX),
        bytes=len(view),
        crc32c=crc32c(view),
        ttl_ms=_uint(meta.get("ttl_ms", 0) or 0, f"{name}.meta.ttl_ms", UINT64_MAX),
        store_dtype=wire_dtype(None if store_dtype is None else normalize_dtype(store_dtype, f"{name}.meta.store_dtype")),
    )
    return PreparedPage(key, wire.SerializeToString(), view)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# PutPagesRequest's field tags: 1 meta (bytes), 2 data (bytes), 3 last (varint).
_TAG_META, _TAG_DATA, _TAG_LAST = b"\x0a", b"\x12", b"\x18"

PutMessage = Tuple[Optional[bytes], memoryview, bool]


def encode_put_pages_request(message: PutMessage) -> bytes:
    """Serializes one PutPagesRequest by hand so the chunk (a view of the caller's buffer) is
    copied once, into the message, rather than into a bytes object and then into the message."""
    return b"".join(put_pages_request_parts(message))


def put_pages_request_parts(message: PutMessage) -> List[Any]:
    """One PutPagesRequest's bytes as the pieces that make it, in order, the chunk a view of the
    caller's buffer: what the put lane hands to sendmsg without joining them (put_lane.py)."""
    meta, data, last = message
    parts: List[Any] = []
    if meta is not None:
        parts += [_TAG_META, _varint(len(meta)), meta]
    if len(data) > 0:
        parts += [_TAG_DATA, _varint(len(data)), data]
    if last:
        parts.append(_TAG_LAST + b"\x01")
    return parts


def page_messages(page: PreparedPage, chunk_bytes: int = CHUNK_BYTES) -> Iterator[PutMessage]:
    """The PutPages messages of one page: ceil(bytes / chunk_bytes) chunks (one for an empty page)."""
    data = page.data
    if len(data) == 0:
        yield (page.meta_bytes, data, True)
        return
    for offset in range(0, len(data), chunk_bytes):
        end = min(offset + chunk_bytes, len(data))
        yield (page.meta_bytes if offset == 0 else None, data[offset:end], end == len(data))


def from_wire_meta(wire: Any, endpoint: str) -> PageMeta:
    dtype = dtype_name(wire.dtype)
    if dtype is None:
        raise errors.local_error(errors.KVC_PROTOCOL, f"a page came with dtype {wire.dtype}", endpoint)
    return PageMeta(
        namespace=wire.namespace, key=bytes(wire.key), parent_key=bytes(wire.parent_key) or None,
        dtype=dtype, shape=tuple(wire.shape), tokens=wire.tokens, bytes=wire.bytes,
        crc32c=wire.crc32c, ttl_ms=wire.ttl_ms, created_at_ms=wire.created_at_ms,
    )


# Chooses where a page's bytes go: a writable byte view of exactly meta.bytes, or None for a
# fresh bytearray.
Destination = Callable[[PageMeta, int], Optional[memoryview]]

# Copies a page answered from the shared arena (a cache_pb2.SharedPage) into a writable byte view
# of exactly its length (shared_memory.MemberArena.copy).
SharedCopy = Callable[[Any, memoryview], None]


class _InProgress:
    __slots__ = ("meta", "target", "filled")

    def __init__(self, meta: PageMeta, target: memoryview):
        self.meta = meta
        self.target = target
        self.filled = 0


class PageAssembler:
    """Reassembles one GetPages stream, answered by `endpoint`, for `keys` in order. With
    `copy_shared` (a TRANSFER_SHARED_MEMORY stream) a page may also come as one message with
    `shared` set: its bytes are copied from the arena into the same destination a streamed page
    would get, and checked against its crc32c whatever `verify_checksum` says."""

    def __init__(self, keys: Sequence[bytes], endpoint: str, destination: Destination, verify_checksum: bool,
                 copy_shared: Optional[SharedCopy] = None):
        self._keys = keys
        self._endpoint = endpoint
        self._destination = destination
        self._verify = verify_checksum
        self._copy_shared = copy_shared
        self._current: Optional[_InProgress] = None
        self.completed = 0

    def push(self, chunk: Chunk) -> Optional[Tuple[PageMeta, memoryview]]:
        if chunk.shared is not None:
            return self._shared(chunk)
        page = self._begin(chunk.meta) if chunk.meta is not None else self._current
        if page is None:
            raise self._protocol(f"a chunk arrived without page metadata (after page {self.completed})")
        data = chunk.data
        if chunk.offset != page.filled:
            raise self._protocol(f"page {self.completed} chunk at offset {chunk.offset}, expected {page.filled}")
        if page.filled + len(data) > page.meta.bytes:
            raise self._protocol(f"page {self.completed} overflows its {page.meta.bytes} bytes")
        page.target[page.filled:page.filled + len(data)] = data
        page.filled += len(data)
        return self._complete(page) if chunk.last else None

    def finish(self) -> None:
        """Call when the stream ended; KVC_INCOMPLETE_PAGE if it ended inside a page."""
        if self._current is not None:
            raise errors.local_error(
                errors.KVC_INCOMPLETE_PAGE,
                f"the stream ended inside page {self.completed} after {self._current.filled} of {self._current.meta.bytes} bytes",
                self._endpoint,
            )

    def _begin(self, wire: Any) -> _InProgress:
        index = self.completed
        if self._current is not None:
            raise self._protocol(f"page {index + 1} started before page {index} ended")
        if index >= len(self._keys):
            raise self._protocol(f"more pages than the {len(self._keys)} requested")
        meta = from_wire_meta(wire, self._endpoint)
        if meta.key != self._keys[index]:
            raise self._protocol(f"page {index} has the wrong key")
        if meta.bytes > GET_PAGE_BYTES_MAX:
            raise self._protocol(f"page {index} announces {meta.bytes} bytes")
        target = self._destination(meta, index)
        if target is None:
            target = memoryview(bytearray(meta.bytes))
        elif len(target) != meta.bytes:
            raise ValueError(f"destination for page {index} has {len(target)} bytes, need {meta.bytes}")
        self._current = _InProgress(meta, target)
        return self._current

    def _shared(self, chunk: Chunk) -> Tuple[PageMeta, memoryview]:
        shared = chunk.shared
        if self._copy_shared is None:
            raise self._protocol("a shared-memory answer to a stream that did not ask for one")
        if chunk.meta is None:
            raise self._protocol(f"a shared-memory answer without page metadata (after page {self.completed})")
        page = self._begin(chunk.meta)
        if shared.length != page.meta.bytes:
            raise self._protocol(f"page {self.completed} is {page.meta.bytes} bytes, its shared copy {shared.length}")
        try:
            self._copy_shared(shared, page.target)
        except (ValueError, IndexError, OSError) as error:
            raise self._protocol(f"page {self.completed} cannot be copied from the shared arena: {error}") from None
        page.filled = page.meta.bytes
        return self._complete(page, True)

    def _complete(self, page: _InProgress, shared: bool = False) -> Tuple[PageMeta, memoryview]:
        index = self.completed
        if page.filled != page.meta.bytes:
            raise self._protocol(f"page {index} ended after {page.filled} of {page.meta.bytes} bytes")
        if (shared or self._verify) and crc32c(page.target) != page.meta.crc32c:
            where = " (copied from the shared arena: its lease may have expired first)" if shared else ""
            raise errors.local_error(errors.KVC_CHECKSUM_MISMATCH, f"page {index} does not match its crc32c{where}", self._endpoint)
        self._current = None
        self.completed += 1
        return page.meta, page.target

    def _protocol(self, message: str) -> errors.KvcError:
        return errors.local_error(errors.KVC_PROTOCOL, message, self._endpoint)


def batches(items: List[Any], size: int) -> Iterator[List[Any]]:
    # An empty request is still sent once, so the server's answer (and its errors) are the caller's.
    if not items:
        yield []
    for i in range(0, len(items), size):
        yield items[i:i + size]


Pageish = Union[Mapping[str, Any], PageInput]
