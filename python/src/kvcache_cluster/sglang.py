"""KvcHiCacheStorage: a kvcache cluster as SGLang's HiCache storage backend (the L3 tier under
its GPU and host KV caches).

It implements SGLang's HiCacheStorage interface (sglang.srt.mem_cache.hicache_storage): get,
batch_get, set, batch_set, exists and batch_exists, with the engine's calling conventions:

- keys are SGLang's page hash strings (hex SHA-256 chained over each page's token ids);
- get(key, target_location) fills the host tensor it is given and returns it (None on a miss);
  without a target it returns a new CPU tensor of the stored dtype and shape;
- set(key, value) stores a CPU tensor and returns True on success; batch_set(keys, values)
  returns True when every page was stored;
- batch_exists(keys) returns how many leading keys exist, answered by one Lookup.

SGLang's dynamic backend loader constructs it as KvcHiCacheStorage(storage_config, kwargs);
settings come from kwargs, then storage_config.extra_config
(--hicache-storage-backend-extra-config), then $KVC_ENDPOINTS: "endpoints" (host:port,...),
"namespace" (default "sglang/<model_name>"), "token", "deadline_ms". Each tensor-parallel rank
holds its own slice of a page, so the rank and size are part of the page key (not for MLA
models, whose KV is the same on every rank), as SGLang's file backend does with its file names.

Operating errors (KvcError: cluster unreachable, quota exhausted, ...) are logged and reported as
a miss or False, which is how HiCache expects a storage tier to fail; wrong arguments still raise.
A page another worker stored with different bytes (KVC_EXISTS_DIFFERENT) counts as stored.

Importing this module does not import SGLang: when SGLang is installed, KvcHiCacheStorage
derives from its HiCacheStorage (the loader checks that); otherwise from object.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional

from ._engine import engine_page_key, make_client, safe_namespace, torch_dtype
from .buffers import dtype_of
from .client import Client
from .errors import KvcError

try:  # pragma: no cover - SGLang is not installed where the suite runs
    from sglang.srt.mem_cache.hicache_storage import HiCacheStorage as _Base
except Exception:  # noqa: BLE001 - any failure to import SGLang means "not installed"
    _Base = object

logger = logging.getLogger(__name__)

KEY_TAG = b"kvc-sglang-v1"
_STORED = ("", "KVC_EXISTS_DIFFERENT")


class KvcHiCacheStorage(_Base):  # type: ignore[misc, valid-type]
    def __init__(self, storage_config: Any = None, kwargs: Optional[Mapping[str, Any]] = None, *,
                 client: Optional[Client] = None, **options: Any):
        settings: Dict[str, Any] = dict(getattr(storage_config, "extra_config", None) or {})
        settings.update(kwargs or {})
        settings.update(options)
        self._owns_client = client is None
        self.client = make_client(settings, client)
        model = getattr(storage_config, "model_name", None) or "default"
        self.namespace = safe_namespace(settings.get("namespace") or f"sglang/{model}")
        self.scope = _scope(storage_config)
        self.tokens_per_page = int(settings.get("page_size", 0))

    def page_key(self, key: str) -> bytes:
        return engine_page_key(KEY_TAG, self.scope, key)

    # -- HiCacheStorage ----------------------------------------------------------------------

    def get(self, key: str, target_location: Any = None, target_sizes: Any = None) -> Any:
        return self.batch_get([key], None if target_location is None else [target_location])[0]

    def batch_get(self, keys: List[str], target_locations: Any = None, target_sizes: Any = None) -> List[Any]:
        """One tensor or None per key, in order; with target_locations each page is received
        straight into its tensor."""
        if target_locations is not None and len(target_locations) != len(keys):
            raise ValueError(f"{len(keys)} keys for {len(target_locations)} target locations")
        page_keys = [self.page_key(k) for k in keys]
        results: List[Any] = [None] * len(keys)
        start = 0
        try:
            while start < len(keys):
                receiver = _Receiver(None if target_locations is None else list(target_locations[start:]))
                for _ in self.client.get_pages(self.namespace, page_keys[start:], out=receiver, allow_partial=True):
                    index = start + receiver.delivered  # read before take() advances it
                    results[index] = receiver.take()
                start += receiver.delivered + 1
        except KvcError as error:
            logger.warning("kvcache batch_get failed after %d of %d pages: %s", start, len(keys), error)
        except ValueError as error:  # a target of the wrong size: a miss for that page, as the file backend does
            logger.warning("kvcache batch_get: %s", error)
        return results

    def set(self, key: str, value: Any = None, target_location: Any = None, target_sizes: Any = None) -> bool:
        return self.batch_set([key], [value])

    def batch_set(self, keys: List[str], values: Any = None, target_locations: Any = None, target_sizes: Any = None) -> bool:
        if values is None or len(values) != len(keys):
            raise ValueError(f"batch_set needs one value per key ({len(keys)} keys)")
        pages = [self._page(k, v) for k, v in zip(keys, values)]
        try:
            results = self.client.put_pages(pages)
        except KvcError as error:
            logger.warning("kvcache batch_set of %d pages failed: %s", len(keys), error)
            return False
        failed = [r for r in results if r.code not in _STORED]
        if failed:
            logger.warning("kvcache batch_set: %d of %d pages not stored (%s)", len(failed), len(results), failed[0].code)
        return not failed

    def exists(self, key: str) -> bool:
        return self.batch_exists([key]) == 1

    def batch_exists(self, keys: List[str], extra_info: Any = None) -> int:
        try:
            return self.client.lookup(self.namespace, [self.page_key(k) for k in keys])
        except KvcError as error:
            logger.warning("kvcache batch_exists failed: %s", error)
            return 0

    def clear(self) -> None:
        """Nothing to do: pages leave the cluster by its eviction and TTLs, not by one engine."""

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _page(self, key: str, value: Any) -> Dict[str, Any]:
        dtype = dtype_of(value)
        if dtype is None:
            raise TypeError(f"value must be a torch tensor (or numpy array) of fp16/bf16/fp32/uint8, got {type(value).__name__}")
        if hasattr(value, "is_contiguous") and not value.is_contiguous():
            value = value.contiguous()
        return {"meta": {"namespace": self.namespace, "key": self.page_key(key), "dtype": dtype,
                         "shape": tuple(value.shape) or (1,), "tokens": self.tokens_per_page}, "data": value}


class _Receiver:
    """A get_pages `out` callable: page `delivered` (the first one not yet handed out; a retried
    stream asks for the same one again) goes into its caller-given tensor, or into a new CPU
    tensor of the page's dtype and shape, made once per page."""

    def __init__(self, targets: Optional[List[Any]]):
        self._targets = targets
        self.delivered = 0
        self._made: Dict[int, Any] = {}

    def __call__(self, meta: Any) -> Any:
        index = self.delivered
        if self._targets is not None:
            return self._targets[index]
        tensor = self._made.get(index)
        if tensor is None:
            import torch

            tensor = torch.empty(tuple(meta.shape), dtype=torch_dtype(meta.dtype))
            self._made = {index: tensor}
        return tensor

    def take(self) -> Any:
        """The tensor of the page just delivered; advances to the next page."""
        index = self.delivered
        self.delivered += 1
        return self._targets[index] if self._targets is not None else self._made.pop(index)


def _scope(storage_config: Any) -> str:
    if storage_config is None or getattr(storage_config, "is_mla_model", False):
        return ""
    tp_rank = getattr(storage_config, "tp_rank", 0)
    tp_size = getattr(storage_config, "tp_size", 1)
    pp_rank = getattr(storage_config, "pp_rank", 0)
    pp_size = getattr(storage_config, "pp_size", 1)
    return f"tp{tp_rank}/{tp_size}:pp{pp_rank}/{pp_size}"
