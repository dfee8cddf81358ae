"""Proves the engine adapters against a real cluster, each method called the way its engine
calls it (neither engine can be installed here, so the engine-side objects are small stand-ins
with the engines' documented attributes):

- LMCache (RemoteConnector): the connector is built as Connector(url, loop, local_cpu_backend)
  and, as LMCache's external-connector loader does, Connector(loop=, local_cpu_backend=, config=);
  its coroutines are awaited on the loop; put/batched_put take MemoryObjs (byte_array,
  get_shape, get_dtype, ref_count_down) and release each once sent; get/batched_get return
  MemoryObjs allocated from local_cpu_backend.allocate(shape, dtype, fmt), None for a missing key;
  batched_async_contains counts leading hits (pin adds a lease); list names what it stored.
- SGLang (HiCacheStorage): built as Backend(storage_config, kwargs) by the dynamic loader;
  set/batch_set take host tensors, get/batch_get fill target tensors, exists, and batch_exists
  returns how many leading keys exist; tensor-parallel ranks do not see each other's pages.
Both modules import without their engines."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import unittest
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

try:
    import torch
except ImportError:  # python3-torch is optional for the package; .ci/run installs it
    torch = None

from kvcache_cluster import Client
from kvcache_cluster.lmcache import KvcConnector, parse_url
from kvcache_cluster.sglang import KvcHiCacheStorage

from . import cluster


@dataclass
class CacheEngineKey:
    """LMCache's key: fields joined by to_string()."""
    fmt: str
    model_name: str
    world_size: int
    worker_id: int
    chunk_hash: str

    def to_string(self) -> str:
        return f"{self.fmt}@{self.model_name}@{self.world_size}@{self.worker_id}@{self.chunk_hash}"


NEEDS_TORCH = unittest.skipIf(torch is None, "python3-torch is not installed")


@dataclass
class MemoryObj:
    """LMCache's MemoryObj: a tensor, its bytes, and a reference count."""
    tensor: Any
    fmt: Any = None
    released: int = 0

    @property
    def byte_array(self) -> memoryview:
        return memoryview(self.tensor.view(-1).view(torch.uint8).numpy())

    def get_shape(self) -> Any:
        return self.tensor.shape

    def get_dtype(self) -> Any:
        return self.tensor.dtype

    def ref_count_down(self) -> None:
        self.released += 1


@dataclass
class LocalCpuBackend:
    """LMCache's local CPU backend as a connector sees it: allocate(shape, dtype, fmt)."""
    allocated: list = field(default_factory=list)

    def allocate(self, shape: Any, dtype: Any, fmt: Any = None) -> Optional[MemoryObj]:
        obj = MemoryObj(torch.empty(shape, dtype=dtype), fmt)
        self.allocated.append(obj)
        return obj


@dataclass
class LMCacheEngineConfig:
    """The part of LMCache's engine config a connector reads."""
    extra_config: Optional[dict] = None


@dataclass
class HiCacheStorageConfig:
    """SGLang's HiCacheStorageConfig fields the backend reads."""
    tp_rank: int = 0
    tp_size: int = 1
    pp_rank: int = 0
    pp_size: int = 1
    is_mla_model: bool = False
    model_name: Optional[str] = "tiny/model"
    extra_config: Optional[dict] = None


def chunk(seed: int, dtype: Any = None) -> Any:
    dtype = dtype or torch.float16
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((2, 2, 16, 32), generator=generator).to(dtype)  # KV_2LTD: [2, layers, tokens, hidden]


class ImportsWithoutEngines(unittest.TestCase):
    def test_import_in_a_clean_interpreter(self):
        code = ("import sys, kvcache_cluster.lmcache, kvcache_cluster.sglang; "
                "assert 'lmcache' not in sys.modules and 'sglang' not in sys.modules and 'torch' not in sys.modules")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@NEEDS_TORCH
class LMCacheConnector(unittest.TestCase):
    def test_every_method_as_lmcache_calls_it(self):
        asyncio.run(self.scenario())

    async def scenario(self):
        namespace = f"lmcache-{uuid.uuid4().hex[:8]}"
        url = f"kvc://{','.join(cluster.endpoints())}/{namespace}"
        self.assertEqual(parse_url(url)["namespace"], namespace)
        backend = LocalCpuBackend()
        connector = KvcConnector(url, asyncio.get_running_loop(), backend)
        keys = [CacheEngineKey("vllm", "tiny", 1, 0, f"{i:064x}") for i in range(4)]
        objs = [MemoryObj(chunk(i)) for i in range(4)]
        self.assertTrue(connector.support_batched_put() and connector.support_batched_get() and connector.support_batched_async_contains())

        self.assertFalse(await connector.exists(keys[0]))
        await connector.put(keys[0], objs[0])
        self.assertEqual(objs[0].released, 1, "put released the MemoryObj once sent")
        self.assertTrue(cluster.wait_applied(connector.client, namespace, [connector.page_key(keys[0])], 1))
        self.assertTrue(await connector.exists(keys[0]))
        self.assertTrue(connector.exists_sync(keys[0]))
        got = await connector.get(keys[0])
        self.assertTrue(torch.equal(got.tensor, objs[0].tensor))
        self.assertIs(got, backend.allocated[-1], "the page was received into the allocated MemoryObj")
        self.assertIsNone(await connector.get(keys[3]))

        await connector.batched_put(keys[1:3], objs[1:3])
        self.assertEqual([o.released for o in objs[1:3]], [1, 1])
        self.assertTrue(cluster.wait_applied(connector.client, namespace, [connector.page_key(k) for k in keys], 3))
        self.assertEqual(await connector.batched_async_contains("lookup-1", keys, pin=True), 3)
        self.assertEqual(await connector.batched_async_contains("lookup-2", keys[3:] + keys), 0)
        fetched = await connector.batched_get([keys[0], keys[3], keys[2]])
        self.assertTrue(torch.equal(fetched[0].tensor, objs[0].tensor))
        self.assertIsNone(fetched[1])
        self.assertTrue(torch.equal(fetched[2].tensor, objs[2].tensor))
        self.assertEqual(sorted(await connector.list()), sorted(k.to_string() for k in keys[:3]))
        self.assertEqual(await connector.ping(), 0)

        # Another worker with the same keys but bytes that differ (GPU kernels are not bit-exact):
        # the first writer's page stays, and the put is not an error.
        # Built the way LMCache's external-connector loader builds it: keywords and its config.
        config = LMCacheEngineConfig(extra_config={"kvc_endpoints": ",".join(cluster.endpoints()), "kvc_namespace": namespace})
        other = KvcConnector(loop=asyncio.get_running_loop(), local_cpu_backend=LocalCpuBackend(), config=config)
        self.assertEqual(other.namespace, namespace)
        await other.put(keys[0], MemoryObj(chunk(99)))
        self.assertTrue(torch.equal((await other.get(keys[0])).tensor, objs[0].tensor))
        await other.close()
        await connector.close()


@NEEDS_TORCH
class SGLangStorage(unittest.TestCase):
    def test_every_method_as_sglang_calls_it(self):
        namespace = f"sglang-{uuid.uuid4().hex[:8]}"
        config = HiCacheStorageConfig(extra_config={"endpoints": ",".join(cluster.endpoints()), "namespace": namespace, "page_size": 16})
        storage = KvcHiCacheStorage(config, {})
        keys = [f"{i:064x}" for i in range(4)]
        values = [chunk(i) for i in range(4)]

        self.assertFalse(storage.exists(keys[0]))
        self.assertIsNone(storage.get(keys[0], torch.empty_like(values[0])))
        self.assertTrue(storage.set(keys[0], values[0]))
        self.assertTrue(cluster.wait_applied(storage.client, namespace, [storage.page_key(keys[0])], 1))
        self.assertTrue(storage.exists(keys[0]))
        self.assertTrue(storage.batch_set(keys[1:3], values[1:3]))
        self.assertTrue(cluster.wait_applied(storage.client, namespace, [storage.page_key(k) for k in keys], 3))
        self.assertTrue(storage.exists(keys[2]))
        self.assertEqual(storage.batch_exists(keys[3:] + keys), 0)

        target = torch.empty_like(values[1])
        self.assertIs(storage.get(keys[1], target), target)
        self.assertTrue(torch.equal(target, values[1]))
        self.assertTrue(torch.equal(storage.get(keys[2]), values[2]), "without a target a new tensor comes back")
        targets = [torch.empty_like(v) for v in values]
        got = storage.batch_get(keys, targets)
        self.assertEqual([g is t for g, t in zip(got, targets)], [True, True, True, False])
        self.assertIsNone(got[3])
        self.assertTrue(all(torch.equal(targets[i], values[i]) for i in range(3)))
        with self.assertLogs("kvcache_cluster.sglang", "WARNING"):
            self.assertEqual(storage.batch_get(keys[:1], [torch.empty(3, dtype=torch.float16)]), [None], "a target of the wrong size is a miss")
        with self.assertRaises(TypeError):
            storage.set(keys[3], [1, 2, 3])

        other_rank = KvcHiCacheStorage(HiCacheStorageConfig(tp_rank=1, tp_size=2, extra_config=config.extra_config), {})
        self.assertEqual(other_rank.batch_exists(keys), 0, "another tensor-parallel rank has its own pages")
        other_rank.close()
        storage.close()

    def test_unreachable_cluster_is_a_miss_not_a_crash(self):
        storage = KvcHiCacheStorage(None, {}, client=Client(["127.0.0.1:1"], retries=0, deadline_ms=300))
        with self.assertLogs("kvcache_cluster.sglang", "WARNING") as logs:
            self.assertEqual(storage.batch_exists(["00" * 32]), 0)
            self.assertFalse(storage.set("00" * 32, chunk(0)))
            self.assertEqual(storage.batch_get(["00" * 32]), [None])
        self.assertEqual(len(logs.records), 3, "each failure is logged once")
        storage.client.close()


if __name__ == "__main__":
    unittest.main()
