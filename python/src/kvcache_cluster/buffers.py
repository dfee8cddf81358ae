"""Byte views of the caller's buffers without copying them: bytes-like objects, numpy arrays and
torch tensors (CPU, contiguous). numpy and torch are optional and only looked at when a value is
one of theirs, so the package imports without them.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

from ._wire import DTYPE_ITEM_BYTES

DTYPES = tuple(DTYPE_ITEM_BYTES)

# Element types named by numpy/torch, mapped to the wire's dtypes.
_NUMPY_DTYPES = {"float16": "fp16", "float32": "fp32", "uint8": "u8"}
_TORCH_DTYPES = {"torch.float16": "fp16", "torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.uint8": "u8"}


def _is_torch_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _is_numpy_array(value: Any) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def dtype_of(value: Any) -> Optional[str]:
    """The wire dtype of a numpy array or torch tensor, or None for plain bytes-like objects."""
    if _is_torch_tensor(value):
        return _TORCH_DTYPES.get(str(value.dtype))
    if _is_numpy_array(value):
        return _NUMPY_DTYPES.get(str(value.dtype))
    return None


def normalize_dtype(dtype: Any, name: str = "dtype") -> str:
    """'fp16' | 'fp32' | 'bf16' | 'u8' from that string or a numpy/torch dtype."""
    if isinstance(dtype, str) and dtype in DTYPE_ITEM_BYTES:
        return dtype
    text = str(dtype)
    mapped = _TORCH_DTYPES.get(text) or _NUMPY_DTYPES.get(text)
    if mapped is None:
        if not isinstance(dtype, str) and not hasattr(dtype, "itemsize") and "torch." not in text:
            raise TypeError(f"{name} must be one of {', '.join(DTYPES)} (or a numpy/torch dtype), got {type(dtype).__name__}")
        raise ValueError(f"{name} must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return mapped


def readable_bytes(value: Any, name: str = "data") -> memoryview:
    """A read-only byte view of `value`, sharing its memory."""
    if _is_torch_tensor(value):
        return _torch_bytes(value, name)
    if _is_numpy_array(value):
        if not value.flags.c_contiguous:
            raise ValueError(f"{name}: a numpy array must be C-contiguous")
        return memoryview(value.reshape(-1).view("uint8"))
    try:
        view = memoryview(value)
    except TypeError:
        raise TypeError(f"{name} must be a bytes-like object, a numpy array or a torch tensor, got {type(value).__name__}") from None
    if not view.c_contiguous:
        raise ValueError(f"{name} must be contiguous")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def writable_bytes(value: Any, name: str = "out") -> memoryview:
    """A writable byte view of `value`, sharing its memory (no copy)."""
    if _is_torch_tensor(value):
        if value.requires_grad:
            raise ValueError(f"{name}: a torch tensor that requires grad cannot be written into")
        return _torch_bytes(value, name)
    if _is_numpy_array(value):
        if not value.flags.writeable:
            raise ValueError(f"{name}: the numpy array is read-only")
    view = readable_bytes(value, name)
    if view.readonly:
        raise TypeError(f"{name} must be writable (bytes is not; use a bytearray, numpy array or torch tensor)")
    return view


def _torch_bytes(tensor: Any, name: str) -> memoryview:
    if tensor.device.type != "cpu":
        # A GPU tensor would need a staging copy; the caller decides where that happens.
        raise ValueError(f"{name}: a torch tensor must be on the CPU, got {tensor.device}")
    if not tensor.is_contiguous():
        raise ValueError(f"{name}: a torch tensor must be contiguous")
    import torch

    # Viewing as uint8 first works for every dtype, bfloat16 included (numpy has none).
    flat = tensor.detach().reshape(-1).view(torch.uint8)
    return memoryview(flat.numpy())
