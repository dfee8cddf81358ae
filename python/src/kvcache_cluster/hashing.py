"""Chained block hashing: the page keys of a prompt's KV-cache prefix, byte for byte the keys of
the TypeScript client's hashBlocks (src/client/hash.ts; layout in docs/CLIENT.md):

    seed   = SHA16("kvc-block-v1" ‖ u32le(B) ‖ u32le(len(ns)) ‖ ns ‖ u32le(len(salt)) ‖ salt)
    key[i] = SHA16(key[i-1] ‖ u32le(t[iB]) ‖ … ‖ u32le(t[iB+B-1]) ‖ u32le(len(extra)) ‖ extra)

with key[-1] = seed, SHA16 the first 16 bytes of SHA-256, strings as UTF-8. Only full blocks get a
key. The golden vectors in test/client/hash-vectors.json are checked by both languages' tests.
"""
from __future__ import annotations

import hashlib
import struct
import sys
from array import array
from typing import Any, List, Union

BLOCK_KEY_BYTES = 16
BLOCK_TOKENS_MAX = 1 << 20
TOKEN_ID_MAX = 0xFFFF_FFFF
_DOMAIN_TAG = b"kvc-block-v1"


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _as_bytes(value: Union[str, bytes, bytearray, memoryview, None], name: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{name} must be str or bytes, got {type(value).__name__}")


def _token_list(tokens: Any) -> List[Any]:
    # numpy arrays and torch tensors hand over plain Python ints with tolist().
    if hasattr(tokens, "tolist") and not isinstance(tokens, (list, tuple)):
        tokens = tokens.tolist()
    if not isinstance(tokens, (list, tuple, range)):
        raise TypeError(f"tokens must be a sequence of ints, got {type(tokens).__name__}")
    return list(tokens)


def _encode_tokens(used: List[Any]) -> bytes:
    """The used tokens as u32le; ValueError/TypeError naming the first bad one."""
    for index, value in enumerate(used):
        # bool is an int in Python; TypeScript refuses true/false as token ids, so do we.
        if type(value) is not int:
            if isinstance(value, int) and not isinstance(value, bool):
                value = int(value)
                used[index] = value
            else:
                raise TypeError(f"token {index} must be an int, got {type(value).__name__}")
        if value < 0 or value > TOKEN_ID_MAX:
            raise ValueError(f"token {index} must be an integer in [0, 2^32), got {value}")
    packed = array("I", used)
    if packed.itemsize != 4:  # pragma: no cover - every platform CPython runs on has 4-byte unsigned int
        return struct.pack(f"<{len(used)}I", *used)
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return packed.tobytes()


def hash_blocks(tokens: Any, block_tokens: int, namespace: str,
                salt: Union[str, bytes, None] = b"", extra: Union[bytes, None] = b"") -> List[bytes]:
    """The chained 16-byte keys of the full blocks of `tokens` (a sequence of ints, a numpy array
    or a torch tensor of non-negative ids below 2^32). Raises TypeError/ValueError on what cannot
    be encoded; ids in the trailing partial block are not read."""
    if type(block_tokens) is not int:
        raise TypeError(f"block_tokens must be an int, got {type(block_tokens).__name__}")
    if block_tokens < 1 or block_tokens > BLOCK_TOKENS_MAX:
        raise ValueError(f"block_tokens must be an integer in [1, {BLOCK_TOKENS_MAX}], got {block_tokens}")
    if not isinstance(namespace, str):
        raise TypeError("namespace must be a str")
    salt_bytes = _as_bytes(salt, "salt")
    extra_bytes = _as_bytes(extra, "extra")
    token_list = _token_list(tokens)
    block_count = len(token_list) // block_tokens
    encoded = _encode_tokens(token_list[: block_count * block_tokens])
    ns = namespace.encode("utf-8")
    previous = hashlib.sha256(
        _DOMAIN_TAG + _u32(block_tokens) + _u32(len(ns)) + ns + _u32(len(salt_bytes)) + salt_bytes
    ).digest()[:BLOCK_KEY_BYTES]
    suffix = _u32(len(extra_bytes)) + extra_bytes
    block_bytes = block_tokens * 4
    keys: List[bytes] = []
    for block in range(block_count):
        start = block * block_bytes
        previous = hashlib.sha256(previous + encoded[start:start + block_bytes] + suffix).digest()[:BLOCK_KEY_BYTES]
        keys.append(previous)
    return keys
