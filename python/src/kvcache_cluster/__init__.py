"""kvcache_cluster: the Python client of a kvcache cluster (docs/PYTHON.md).

    from kvcache_cluster import Client, hash_blocks
    keys = hash_blocks(prompt_tokens, 16, "tenant-a/llama-3-8b", salt=b"secret")
    with Client(["127.0.0.1:7401", "127.0.0.1:7402"]) as client:
        hit = client.lookup("tenant-a/llama-3-8b", keys)
        for meta, data in client.get_pages("tenant-a/llama-3-8b", keys[:hit], out=kv_buffer):
            ...

The engine adapters are kvcache_cluster.lmcache.KvcConnector and
kvcache_cluster.sglang.KvcHiCacheStorage; they import without their engines installed.
"""
from .client import (
    DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, DEFAULT_DEADLINE_MS, DEFAULT_RETRIES,
    PUT_STREAM_BYTES_MAX, Client,
)
from .checksum import crc32c
from .errors import KvcError
from .hashing import BLOCK_KEY_BYTES, BLOCK_TOKENS_MAX, hash_blocks
from .pages import PageInput, PageMeta, PutResult
from .watch import ListedPage, PageListing, WatchEvent, page_set_digest

__all__ = [
    "BLOCK_KEY_BYTES", "BLOCK_TOKENS_MAX", "Client", "DEFAULT_BACKOFF_BASE_MS", "DEFAULT_BACKOFF_MAX_MS",
    "DEFAULT_DEADLINE_MS", "DEFAULT_RETRIES", "KvcError", "PUT_STREAM_BYTES_MAX", "PageInput", "PageMeta",
    "ListedPage", "PageListing", "PutResult", "WatchEvent", "crc32c", "hash_blocks", "page_set_digest",
]
__version__ = "0.1.0"
