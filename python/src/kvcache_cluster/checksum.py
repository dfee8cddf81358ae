"""crc32c (Castagnoli), the checksum every page carries on the wire (docs/CLIENT.md).

A page's checksum is computed once where it enters the cluster (put_pages) and verified where it
is received (get_pages), so this runs over every payload byte the client moves. Python has no
crc32c of its own (zlib.crc32 is the IEEE polynomial), so there are two paths with identical
results, tested against each other:

- with numpy, a data-parallel form: the buffer is cut into `lanes` equal stripes whose CRCs are
  computed together, one byte column per numpy step, then folded pairwise with "shift by n zero
  bytes" operators (CRC is linear over GF(2): crc(A ‖ B) = shift_len(B)(crc(A)) xor crc(B) for
  the unconditioned register). Hundreds of MB/s on one core, without a compiler.
- without numpy, the classic byte-at-a-time table (a few MB/s; correct, for small inputs).
"""
from __future__ import annotations

from typing import Any, Callable, List, Tuple

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

# Below this many bytes the table loop beats numpy's per-call overhead.
_NUMPY_MIN_BYTES = 4096
# Lane length in bytes: each numpy step handles one byte column of every lane at once, so a page
# of N bytes takes _LANE_BYTES steps over N / _LANE_BYTES lanes, then log2(lanes) folding steps.
_LANE_BYTES = 32

if _np is not None:
    _NP_TABLE = _np.array(_TABLE, dtype=_np.uint32)
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
    # One transposing copy makes every byte column contiguous: a strided column read per step
    # costs twice the whole computation.
    columns = _np.ascontiguousarray(_np.frombuffer(view[:body], dtype=_np.uint8).reshape(lanes, _LANE_BYTES).T)
    registers = _np.zeros(lanes, dtype=_np.uint32)
    # The initial register (crc ^ mask) belongs to lane 0 only; the others start from zero, which
    # is what makes them foldable with the zero-byte shift operators.
    registers[0] = (crc ^ _MASK) & _MASK
    table = _NP_TABLE
    for column in columns:
        index = registers ^ column
        index &= 0xFF
        registers >>= 8
        registers ^= table[index]
    level = 0
    while len(registers) > 1:
        registers = _apply_shift(_shift_level(level), registers[0::2]) ^ registers[1::2]
        level += 1
    c = int(registers[0])
    table_py = _TABLE
    for b in view[body:]:
        c = table_py[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _MASK


crc32c: Callable[..., int] = crc32c_numpy if _np is not None else crc32c_pure
"""The fastest available implementation: crc32c(data, crc=0) -> int."""
