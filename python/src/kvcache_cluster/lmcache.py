"""KvcConnector: a kvcache cluster as an LMCache remote storage backend.

It implements LMCache's RemoteConnector interface (lmcache.v1.storage_backend.connector
.base_connector): the coroutines exists, get, put, list, close, batched_get, batched_put and
batched_async_contains, plus exists_sync and the support_* probes. LMCache constructs connectors
as Connector(url, loop, local_cpu_backend) and awaits their methods on its event loop; every
cluster call here is a blocking Client call run on a small thread pool, so the loop never blocks.

- Keys: a CacheEngineKey (anything with to_string(), or a str) maps to the page key
  SHA16("kvc-lmcache-v1" ‖ scope ‖ key string) (_engine.py), deterministic across processes.
  LMCache's chunk keys already name the whole prefix (its chunk hashes are chained), so a Lookup
  of consecutive chunk keys is the "how many leading chunks exist" question
  batched_async_contains asks; pin=True adds a lookup lease so the hits are not evicted before
  LMCache fetches them.
- Payload: a MemoryObj's bytes (byte_array) under its tensor dtype and shape; get allocates the
  MemoryObj from local_cpu_backend with the stored shape and dtype and receives the page straight
  into it (no staging copy). Tokens per page are shape[-2] (LMCache's KV_2LTD is [2, L, T, D]).
- put follows the interface's contract "decrease the ref count after send finishes": the
  MemoryObj's ref_count_down() is called once the put returned or failed.
- A page stored by another worker with different bytes (KVC_EXISTS_DIFFERENT: GPU kernels are not
  bit-reproducible) counts as present: the first writer's page serves the same prefix.
- list() returns the keys this connector stored (or found) in this process that the cluster
  still holds: the cluster indexes pages by hashed key and cannot name LMCache's strings.

Importing this module does not import LMCache: when LMCache is installed, KvcConnector derives
from its RemoteConnector (so LMCache's checks accept it); otherwise from object.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, TypeVar
from urllib.parse import urlparse

from ._engine import engine_page_key, make_client, safe_namespace, torch_dtype
from .buffers import dtype_of
from .client import Client
from .errors import KvcError

try:  # pragma: no cover - LMCache is not installed where the suite runs
    from lmcache.v1.storage_backend.connector.base_connector import RemoteConnector as _Base
except Exception:  # noqa: BLE001 - any failure to import LMCache means "not installed"
    _Base = object

logger = logging.getLogger(__name__)
T = TypeVar("T")

KEY_TAG = b"kvc-lmcache-v1"
URL_SCHEME = "kvc"
DEFAULT_NAMESPACE = "lmcache"
# Threads running blocking cluster calls for the event loop; LMCache issues a handful at a time.
WORKER_THREADS = 8
# How long batched_async_contains(pin=True) protects the hits (LIMITS.eviction.leaseMsMax is 60 s).
DEFAULT_LEASE_MS = 30_000
# Most keys list() remembers (bounds memory in a long-running engine).
REMEMBERED_KEYS_MAX = 1_000_000


def parse_url(url: str) -> Dict[str, Any]:
    """kvc://host:port[,host:port...][/namespace] -> {"endpoints": [...], "namespace": ...}."""
    parsed = urlparse(url)
    if parsed.scheme != URL_SCHEME or not parsed.netloc:
        raise ValueError(f"expected {URL_SCHEME}://host:port[,host:port...][/namespace], got {url!r}")
    namespace = parsed.path.lstrip("/") or DEFAULT_NAMESPACE
    return {"endpoints": [e for e in parsed.netloc.split(",") if e], "namespace": namespace}


class KvcConnector(_Base):  # type: ignore[misc, valid-type]
    """KvcConnector(url, loop=None, local_cpu_backend=None, *, config=None, client=None,
    namespace=None, scope="", memory_format=None, lease_ms=30000).

    Settings, first found wins: `url` (kvc://host:port,.../namespace); LMCache's `config`
    extra_config keys "kvc_endpoints" and "kvc_namespace" (LMCache's external-connector loader,
    remote_url external://host:0/kvcache_cluster.lmcache/?connector_name=KvcConnector, constructs
    the connector with loop, local_cpu_backend and config only); then $KVC_ENDPOINTS."""

    def __init__(self, url: Optional[str] = None, loop: Optional[asyncio.AbstractEventLoop] = None,
                 local_cpu_backend: Any = None, *, config: Any = None, client: Optional[Client] = None,
                 namespace: Optional[str] = None, scope: str = "", memory_format: Any = None,
                 lease_ms: int = DEFAULT_LEASE_MS):
        if url is not None:
            settings = parse_url(url)
        else:
            extra = getattr(config, "extra_config", None) or {}
            settings = {"endpoints": extra.get("kvc_endpoints"), "namespace": extra.get("kvc_namespace")}
        self._owns_client = client is None
        self.client = make_client(settings, client)
        self.namespace = safe_namespace(namespace or settings.get("namespace") or DEFAULT_NAMESPACE)
        self.loop = loop
        self.local_cpu_backend = local_cpu_backend
        self.memory_format = memory_format if memory_format is not None else _default_memory_format()
        self.scope = scope
        self.lease_ms = lease_ms
        self._executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="kvc-lmcache")
        self._known: Dict[str, bytes] = {}
        self._known_lock = threading.Lock()

    def page_key(self, key: Any) -> bytes:
        name = key.to_string() if hasattr(key, "to_string") else key
        return engine_page_key(KEY_TAG, self.scope, name)

    # -- RemoteConnector ---------------------------------------------------------------------

    async def exists(self, key: Any) -> bool:
        return await self._run(self.exists_sync, key)

    def exists_sync(self, key: Any) -> bool:
        return self.client.lookup(self.namespace, [self.page_key(key)]) == 1

    async def get(self, key: Any) -> Any:
        """The MemoryObj of `key` (allocated from local_cpu_backend), or None if absent."""
        return await self._run(self._get_sync, key)

    async def put(self, key: Any, memory_obj: Any) -> None:
        await self._run(self._put_sync, [key], [memory_obj])

    async def list(self) -> List[str]:
        return await self._run(self._list_sync)

    async def close(self) -> None:
        # Waiting for the running calls happens off the event loop, which must not block.
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
        if self._owns_client:
            self.client.close()

    def support_batched_get(self) -> bool:
        return True

    async def batched_get(self, keys: List[Any]) -> List[Any]:
        """One MemoryObj or None per key, in order, fetched in one GetPages stream per run."""
        return await self._run(self._batched_get_sync, keys)

    def support_batched_put(self) -> bool:
        return True

    async def batched_put(self, keys: List[Any], memory_objs: List[Any]) -> None:
        await self._run(self._put_sync, keys, memory_objs)

    def support_batched_async_contains(self) -> bool:
        return True

    async def batched_async_contains(self, lookup_id: str, keys: List[Any], pin: bool = False) -> int:
        """How many leading keys exist (one Lookup); with pin, a lease keeps them for lease_ms."""
        lease = self.lease_ms if pin else 0
        page_keys = [self.page_key(k) for k in keys]
        return await self._run(lambda: self.client.lookup(self.namespace, page_keys, lease_ms=lease))

    def support_ping(self) -> bool:
        return True

    async def ping(self) -> int:
        """0 when a member answers Status, 1 otherwise."""
        try:
            await self._run(self.client.status)
            return 0
        except KvcError:
            return 1

    # -- blocking halves ---------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _allocator(self) -> Callable[[Any], Any]:
        """A get_pages `out` callable: allocates each page's MemoryObj once (a retried stream
        reuses it) and receives the page into its bytes."""
        allocated: Dict[bytes, Any] = {}

        def allocate(meta: Any) -> Any:
            memory_obj = allocated.get(meta.key)
            if memory_obj is None:
                if self.local_cpu_backend is None:
                    raise ValueError("KvcConnector needs a local_cpu_backend to allocate what it gets")
                import torch

                memory_obj = self.local_cpu_backend.allocate(torch.Size(meta.shape), torch_dtype(meta.dtype), self.memory_format)
                if memory_obj is None:
                    raise MemoryError(f"local_cpu_backend could not allocate {meta.bytes} bytes")
                allocated[meta.key] = memory_obj
            return _payload(memory_obj)

        allocate.allocated = allocated  # type: ignore[attr-defined]
        return allocate

    def _get_sync(self, key: Any) -> Any:
        return self._batched_get_sync([key])[0]

    def _batched_get_sync(self, keys: List[Any]) -> List[Any]:
        page_keys = [self.page_key(k) for k in keys]
        allocate = self._allocator()
        results: List[Any] = [None] * len(keys)
        try:
            # allow_partial: a missing key ends the stream; the keys after it are tried again so
            # that every key gets its own answer.
            start = 0
            while start < len(page_keys):
                got = 0
                for meta, _ in self.client.get_pages(self.namespace, page_keys[start:], out=allocate, allow_partial=True):
                    results[start + got] = allocate.allocated[meta.key]  # type: ignore[attr-defined]
                    got += 1
                start += got + 1
        except BaseException:
            for memory_obj in allocate.allocated.values():  # type: ignore[attr-defined]
                _release(memory_obj)
            raise
        for name, page_key, result in zip(keys, page_keys, results):
            if result is not None:
                self._remember(name, page_key)
        return results

    def _put_sync(self, keys: List[Any], memory_objs: List[Any]) -> None:
        if len(keys) != len(memory_objs):
            raise ValueError(f"{len(keys)} keys for {len(memory_objs)} memory objects")
        try:
            pages = [self._page(k, m) for k, m in zip(keys, memory_objs)]
            results = self.client.put_pages(pages)
        finally:
            for memory_obj in memory_objs:
                _release(memory_obj)
        failed = [r for r in results if r.code not in ("", "KVC_EXISTS_DIFFERENT")]
        for key, page, result in zip(keys, pages, results):
            if result.code in ("", "KVC_EXISTS_DIFFERENT"):
                self._remember(key, page["meta"]["key"])
        if failed:
            raise KvcError(failed[0].code, f"{len(failed)} of {len(results)} pages were not stored: {failed[0].message}")

    def _page(self, key: Any, memory_obj: Any) -> Dict[str, Any]:
        data = _payload(memory_obj)
        tensor = getattr(memory_obj, "tensor", None)
        shape = tuple(memory_obj.get_shape()) if hasattr(memory_obj, "get_shape") else tuple(tensor.shape)
        dtype = memory_obj.get_dtype() if hasattr(memory_obj, "get_dtype") else tensor.dtype
        name = dtype_of(tensor) if tensor is not None else None
        name = name or {"torch.float16": "fp16", "torch.bfloat16": "bf16", "torch.float32": "fp32", "torch.uint8": "u8"}.get(str(dtype))
        if name is None:
            raise ValueError(f"KvcConnector stores fp16, bf16, fp32 and uint8 tensors, not {dtype}")
        tokens = int(shape[-2]) if len(shape) >= 2 else 0
        return {"meta": {"namespace": self.namespace, "key": self.page_key(key), "dtype": name,
                         "shape": shape, "tokens": tokens}, "data": data}

    def _remember(self, key: Any, page_key: bytes) -> None:
        name = key.to_string() if hasattr(key, "to_string") else str(key)
        with self._known_lock:
            if len(self._known) < REMEMBERED_KEYS_MAX:
                self._known[name] = page_key

    def _list_sync(self) -> List[str]:
        with self._known_lock:
            known = list(self._known.items())
        present = []
        # One Lookup per key: Lookup answers prefixes, and these keys are not one chain.
        for name, page_key in known:
            if self.client.lookup(self.namespace, [page_key]) == 1:
                present.append(name)
        return present


def _payload(memory_obj: Any) -> Any:
    """The bytes of a MemoryObj: its byte_array, else its tensor."""
    data = getattr(memory_obj, "byte_array", None)
    return data if data is not None else memory_obj.tensor


def _release(memory_obj: Any) -> None:
    release = getattr(memory_obj, "ref_count_down", None)
    if release is not None:
        release()


def _default_memory_format() -> Any:
    try:  # pragma: no cover - LMCache is not installed where the suite runs
        from lmcache.v1.memory_management import MemoryFormat

        return MemoryFormat.KV_2LTD
    except Exception:  # noqa: BLE001
        return None
