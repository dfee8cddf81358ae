"""What the engine adapters (lmcache.py, sglang.py) share: turning an engine's string cache key
into a page key, reading settings, and torch dtype names. Engines name cache entries with their
own strings (LMCache's CacheEngineKey.to_string(), SGLang's hex page hashes); the cluster wants
8-64 byte keys. A key is SHA16(tag ‖ u32le(len(scope)) ‖ scope ‖ u32le(len(name)) ‖ name): the
same string always maps to the same page key, in every process, and the adapter's tag and scope
(e.g. a tensor-parallel rank) keep different uses of one string apart.
"""
from __future__ import annotations

import hashlib
import os
import re
import struct
from typing import Any, Mapping, Optional

from .client import Client
from .hashing import BLOCK_KEY_BYTES
from .pages import NAMESPACE_CHARS, NAMESPACE_LENGTH_MAX

_NAMESPACE_UNSAFE = re.compile(f"[^{NAMESPACE_CHARS}]")


def engine_page_key(tag: bytes, scope: str, name: str) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"cache key must be a str, got {type(name).__name__}")
    scope_bytes = scope.encode("utf-8")
    name_bytes = name.encode("utf-8")
    material = tag + struct.pack("<I", len(scope_bytes)) + scope_bytes + struct.pack("<I", len(name_bytes)) + name_bytes
    return hashlib.sha256(material).digest()[:BLOCK_KEY_BYTES]


def safe_namespace(text: str) -> str:
    """A namespace the server accepts ([A-Za-z0-9._:/-], 1 to 128 characters) made from a name."""
    cleaned = _NAMESPACE_UNSAFE.sub("-", text)[:NAMESPACE_LENGTH_MAX]
    return cleaned or "default"


def make_client(settings: Mapping[str, Any], client: Optional[Client]) -> Client:
    """The given client, or one built from settings["endpoints"] (a list or a comma-separated
    string) or $KVC_ENDPOINTS, with optional "token" and "deadline_ms"."""
    if client is not None:
        return client
    endpoints = settings.get("endpoints") or os.environ.get("KVC_ENDPOINTS")
    if not endpoints:
        raise ValueError("no cluster endpoints: pass endpoints (host:port,...) or set KVC_ENDPOINTS")
    options = {}
    if settings.get("deadline_ms") is not None:
        options["deadline_ms"] = int(settings["deadline_ms"])
    return Client(endpoints, settings.get("token"), **options)


def torch_dtype(name: str) -> Any:
    import torch

    return {"fp16": torch.float16, "fp32": torch.float32, "bf16": torch.bfloat16, "u8": torch.uint8}[name]
