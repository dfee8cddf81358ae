"""crc32c (Castagnoli), the checksum every page carries on the wire (docs/CLIENT.md).

A page's checksum is computed once where it enters the cluster (put_pages) and verified where it
is received (get_pages), so this runs over every payload byte the client moves. Python has no
crc32c of its own (zlib.crc32 is the IEEE polynomial), so there are three paths with identical
results, tested against each other, and `crc32c` is the fastest one this interpreter has:

- the `crc32c` module (PyPI `crc32c`, Debian `python3-crc32c`; a C extension, the optional
  `crc32c` extra of this package), when it is installed and gives the standard check value:
  2,100 MB/s on the development VM with Debian's build (its portable slicing code; builds with
  SSE4.2 are faster), 5.7x the numpy path, and it releases the GIL on large buffers.
- with numpy, a data-parallel form: the buffer is cut into `lanes` equal stripes whose CRCs are
  computed together, one 4-byte column per numpy step (slicing-by-4 tables), then folded pairwise with "shift by n zero
  bytes" operators (CRC is linear over GF(2): crc(A ‖ B) = shift_len(B)(crc(A)) xor crc(B) for
  the unconditioned register). About 400 MB/s of CPU time on the
  development VM, without a compiler.
- without numpy, the classic byte-at-a-time table (a few MB/s; correct, for small inputs).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable, List, Optional, Tuple

POLY_REFLECTED = 0x82F63B78
_MASK = 0xFFFFFFFF


def _byte_table() -> Tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ POLY_REFLECTED if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _byte_table()


def crc32c_pure(data: Any, crc: int = 0) -> int:
    """crc32c of a bytes-like object, continuing from `crc` (0 to start)."""
    table = _TABLE
    c = crc ^ _MASK
    for b in memoryview(data).cast("B"):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _MASK


try:
    import numpy as _np
except ImportError:  # numpy is optional: the pure path serves
    _np = None

# Below this many bytes the table loop beats numpy's per-call overhead (and lanes need _LANE_BYTES).
_NUMPY_MIN_BYTES = 4096
# Lane length in bytes: each numpy step handles one 4-byte column of every lane at once, so a page
# of N bytes takes _LANE_BYTES / 4 steps over N / _LANE_BYTES lanes, then log2(lanes) folding
# steps. 64 was the fastest on the development VM (fewer lanes fold faster, more steps cost more).
_LANE_BYTES = 64

if _np is not None:
    # Slicing-by-4 tables: _WORD_TABLES[k][b] advances byte b through k + 1 more zero bytes, so one
    # 32-bit word is folded into the register with four lookups, one per byte.
    _WORD_TABLES = _np.zeros((4, 256), dtype=_np.uint32)
    _WORD_TABLES[0] = _TABLE
    for _k in range(1, 4):
        _WORD_TABLES[_k] = [_TABLE[int(c) & 0xFF] ^ (int(c) >> 8) for c in _WORD_TABLES[_k - 1]]
    # Operators "advance the unconditioned register over n zero bytes" for n = _LANE_BYTES * 2^k,
    # as four byte tables each. Level 0 is built from its definition; each next level is the
    # previous one applied twice (a squaring), so building all of them costs microseconds, not
    # one pass over n zero bytes per level.
    _SHIFT_LEVELS: List[Any] = []


def _tables_from_basis(basis: List[int]) -> Any:
    tables = _np.zeros((4, 256), dtype=_np.uint32)
    for byte in range(4):
        for value in range(256):
            out = 0
            for bit in range(8):
                if value >> bit & 1:
                    out ^= basis[byte * 8 + bit]
            tables[byte, value] = out
    return tables


def _shift_level(level: int) -> Any:
    while len(_SHIFT_LEVELS) <= level:
        if not _SHIFT_LEVELS:
            def advance(register: int) -> int:
                for _ in range(_LANE_BYTES):
                    register = _TABLE[register & 0xFF] ^ (register >> 8)
                return register
            # The operator is linear, so its value on each of the 32 bits fixes it.
            basis = [advance(1 << bit) for bit in range(32)]
        else:
            previous = _SHIFT_LEVELS[-1]
            once = [int(_apply_shift(previous, _np.uint32(1 << bit))) for bit in range(32)]
            basis = [int(_apply_shift(previous, _np.uint32(value))) for value in once]
        _SHIFT_LEVELS.append(_tables_from_basis(basis))
    return _SHIFT_LEVELS[level]


def _apply_shift(tables: Any, registers: Any) -> Any:
    return (tables[0][registers & 0xFF] ^ tables[1][(registers >> 8) & 0xFF]
            ^ tables[2][(registers >> 16) & 0xFF] ^ tables[3][registers >> 24])


def crc32c_numpy(data: Any, crc: int = 0) -> int:
    """crc32c with numpy's help; same results as crc32c_pure."""
    view = memoryview(data).cast("B")
    total = len(view)
    if total < _NUMPY_MIN_BYTES:
        return crc32c_pure(view, crc)
    # Lanes are a power of two so that they fold pairwise; the tail is finished by the table loop.
    lanes = 1 << ((total // _LANE_BYTES).bit_length() - 1)
    body = lanes * _LANE_BYTES
    # One transposing copy makes every word column contiguous: a strided column read per step
    # costs twice the whole computation.
    columns = _np.ascontiguousarray(_np.frombuffer(view[:body], dtype="<u4").reshape(lanes, _LANE_BYTES // 4).T)
    registers = _np.zeros(lanes, dtype=_np.uint32)
    # The initial register (crc ^ mask) belongs to lane 0 only; the others start from zero, which
    # is what makes them foldable with the zero-byte shift operators.
    registers[0] = (crc ^ _MASK) & _MASK
    # The register's four bytes, as views (little-endian, as the words were read): indexing the
    # tables with them needs no shifts or masks.
    register_bytes = registers.view(_np.uint8).reshape(lanes, 4)
    t0, t1, t2, t3 = _WORD_TABLES
    for column in columns:
        registers ^= column
        registers[:] = t3[register_bytes[:, 0]] ^ t2[register_bytes[:, 1]] ^ t1[register_bytes[:, 2]] ^ t0[register_bytes[:, 3]]
    level = 0
    while len(registers) > 1:
        registers = _apply_shift(_shift_level(level), registers[0::2]) ^ registers[1::2]
        level += 1
    c = int(registers[0])
    table_py = _TABLE
    for b in view[body:]:
        c = table_py[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _MASK


# The standard check value of CRC-32C: a module named crc32c that does not give it is some other
# package, and is not used.
_CHECK_INPUT = b"123456789"
_CHECK_VALUE = 0xE3069283


def _load_module() -> Optional[Callable[..., int]]:
    try:
        import crc32c as module  # type: ignore[import-not-found]
    except ImportError:
        return None
    # crc32c 2.x names it crc32c; 1.x only had crc32 (the same Castagnoli CRC).
    function = getattr(module, "crc32c", None) or getattr(module, "crc32", None)
    if not callable(function):
        return None
    try:
        if function(_CHECK_INPUT) != _CHECK_VALUE or function(_CHECK_INPUT[4:], function(_CHECK_INPUT[:4])) != _CHECK_VALUE:
            return None
    except Exception:  # an incompatible signature: not the module this expects
        return None
    return function


_module_function = _load_module()


def _crc32c_module(data: Any, crc: int = 0) -> int:
    """crc32c through the `crc32c` C extension; same results as crc32c_pure."""
    # cast("B"): one byte per item whatever the source's format (a float16 tensor's view), as the
    # other paths read it; it also refuses a non-contiguous buffer as they do.
    return _module_function(memoryview(data).cast("B"), crc)  # type: ignore[misc]


crc32c_module: Optional[Callable[..., int]] = _crc32c_module if _module_function is not None else None
"""The `crc32c` C extension's implementation, or None where it is not installed (or not usable)."""

_numpy_usable = _np is not None and sys.byteorder == "little"

# Which implementation `crc32c` is: "module", "numpy" or "pure". KVCACHE_CLUSTER_CRC32C names one
# to use instead of the fastest (for benchmarks and tests); one that is not available is an error.
_AVAILABLE = {name: function for name, function in (("module", crc32c_module), ("numpy", crc32c_numpy if _numpy_usable else None), ("pure", crc32c_pure)) if function is not None}
_wanted = os.environ.get("KVCACHE_CLUSTER_CRC32C", "")
if _wanted and _wanted not in _AVAILABLE:
    raise ImportError(f"KVCACHE_CLUSTER_CRC32C={_wanted!r}: this interpreter has the crc32c implementations {sorted(_AVAILABLE)}")
IMPLEMENTATION: str = _wanted or next(iter(_AVAILABLE))

crc32c: Callable[..., int] = _AVAILABLE[IMPLEMENTATION]
"""The fastest available implementation (or the one KVCACHE_CLUSTER_CRC32C names): crc32c(data, crc=0) -> int."""
