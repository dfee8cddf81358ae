"""The wire contract: the generated message classes of proto/ (python/gen_protos.py), method
paths, dtypes, and a decoder for GetPagesResponse that leaves each chunk's payload where gRPC put
it. protobuf's own parser would copy every 1 MiB chunk into a new bytes object before the client
copies it again into the caller's buffer; reading the four fields by hand hands out a memoryview
into the received message instead, so a chunk is copied once, into its destination. Every other
message, and the page metadata and shared-page answer inside a chunk, is the generated class.

Why not the generated GetPagesResponse (issue 12, measured): decoding a 1 MiB chunk and copying it
into the destination took 47-48 us by hand against 88-108 us with
cache_pb2.GetPagesResponse.FromString (best of 7; medians 48-50 against 114-136 us), about 2.2x,
with protobuf 4.21's cpp backend on the 2-vCPU VM under load 8-11:
`PYTHONPATH=python/src /usr/bin/python3 python/bench_wire.py`. test_wire.py checks this reader
against protobuf's parser on random messages, unknown fields included.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional, Tuple

try:
    from ._proto.kvcache.v1 import admin_pb2, cache_pb2
except ImportError as _error:  # pragma: no cover - exercised by hand, not by the suite
    raise ImportError(
        "kvcache_cluster's protobuf modules are missing: they are generated from proto/ by "
        "`npm ci` (or `/usr/bin/python3 python/gen_protos.py`), which needs protoc "
        "(Debian: apt-get install protobuf-compiler)"
    ) from _error

CACHE_SERVICE = "/kvcache.v1.CacheService/"
ADMIN_SERVICE = "/kvcache.v1.AdminService/"

DTYPE_ITEM_BYTES = {"fp16": 2, "bf16": 2, "fp32": 4, "u8": 1}
_WIRE_BY_DTYPE = {"fp16": cache_pb2.FP16, "fp32": cache_pb2.FP32, "bf16": cache_pb2.BF16, "u8": cache_pb2.U8}
_DTYPE_BY_WIRE = {wire: name for name, wire in _WIRE_BY_DTYPE.items()}


def wire_dtype(name: Optional[str]) -> int:
    return cache_pb2.DTYPE_UNSPECIFIED if name is None else _WIRE_BY_DTYPE[name]


def dtype_name(wire: int) -> Optional[str]:
    return _DTYPE_BY_WIRE.get(wire)


class Chunk(NamedTuple):
    """One GetPagesResponse: `meta` is a cache_pb2.PageMeta on a page's first chunk, else None;
    `data` a memoryview into the received message; `shared` a cache_pb2.SharedPage when the page
    is answered by its place in the member's shared arena (TRANSFER_SHARED_MEMORY), else None."""
    meta: Any
    data: memoryview
    offset: int
    last: bool
    shared: Any = None


def _varint(buf: memoryview, pos: int) -> Tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def decode_get_pages_response(message: bytes) -> Chunk:
    """Parses one GetPagesResponse (fields: 1 meta, 2 data, 3 offset, 4 last, 5 shared); unknown fields are
    skipped as proto3 requires. Raises ValueError on malformed bytes."""
    buf = memoryview(message)
    meta = None
    shared = None
    data = buf[0:0]
    offset = 0
    last = False
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, pos = _varint(buf, pos)
            if field == 3:
                offset = value
            elif field == 4:
                last = value != 0
        elif wire_type == 2:
            length, pos = _varint(buf, pos)
            end = pos + length
            if end > len(buf):
                raise ValueError("length-delimited field overruns the message")
            if field == 1:
                meta = cache_pb2.PageMeta.FromString(bytes(buf[pos:end]))
            elif field == 2:
                data = buf[pos:end]
            elif field == 5:
                shared = cache_pb2.SharedPage.FromString(bytes(buf[pos:end]))
            pos = end
        elif wire_type == 1:
            pos += 8
        elif wire_type == 5:
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire_type}")
    if pos != len(buf):
        raise ValueError("a fixed-width field overruns the message")
    return Chunk(meta, data, offset, last, shared)
