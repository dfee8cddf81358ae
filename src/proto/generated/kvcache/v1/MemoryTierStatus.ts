// Original file: proto/kvcache/v1/admin.proto

import type { SharedMemoryStatus as _kvcache_v1_SharedMemoryStatus, SharedMemoryStatus__Output as _kvcache_v1_SharedMemoryStatus__Output } from '../../kvcache/v1/SharedMemoryStatus.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The member's memory tier: hot pages in a pinned arena above LevelDB, local to the member.
 */
export interface MemoryTierStatus {
  /**
   * Bytes of the arena; 0 when the tier is disabled (memory.arenaBytes 0).
   */
  'arenaBytes'?: (number | string | Long);
  /**
   * Bytes of the arena's slots holding cached pages (slot sizes, fragmentation included).
   */
  'usedBytes'?: (number | string | Long);
  /**
   * Every region of the arena is locked in RAM (mlock). False when RLIMIT_MEMLOCK is too low or
   * the addon is not loaded; `note` says why.
   */
  'mlocked'?: (boolean);
  /**
   * The NUMA node each region of the arena is on; -1 when unknown (a region bound to no node on
   * a machine with several).
   */
  'numaNodes'?: (number)[];
  /**
   * Reads served from the arena, and reads of pages it did not hold (served from LevelDB).
   */
  'hits'?: (number | string | Long);
  'misses'?: (number | string | Long);
  /**
   * hits / (hits + misses); 0 before the first read.
   */
  'hitRatio'?: (number | string);
  'cachedPages'?: (number | string | Long);
  /**
   * Payload bytes of the cached pages.
   */
  'cachedBytes'?: (number | string | Long);
  /**
   * Pages evicted from the arena to make room (local LRU; they stay in LevelDB).
   */
  'evictions'?: (number | string | Long);
  /**
   * Misses not cached: the page was too large for the arena, or every slot that could make
   * room was being read.
   */
  'promotionsSkipped'?: (number | string | Long);
  /**
   * Reads (GetPages streams) holding a page of the arena right now.
   */
  'leasesHeld'?: (number);
  /**
   * The largest page the arena can cache.
   */
  'pageBytesMax'?: (number | string | Long);
  'hugePageAligned'?: (boolean);
  /**
   * Registered with CUDA (cudaHostRegister) for direct GPU transfers.
   */
  'cudaRegistered'?: (boolean);
  /**
   * Empty, or why the arena is not pinned or not bound to a node.
   */
  'note'?: (string);
  /**
   * Set when the arena lives in shared-memory files that clients on this host may map (the
   * same-host read path, docs/CLIENT.md); absent when it is private memory or the tier is off.
   */
  'sharedMemory'?: (_kvcache_v1_SharedMemoryStatus | null);
  /**
   * Cached copies found not to match their crc32c when read, and dropped (the page was read
   * from LevelDB instead): damaged memory, or a process that wrote into the shared arena.
   */
  'corruptHits'?: (number | string | Long);
}

/**
 * The member's memory tier: hot pages in a pinned arena above LevelDB, local to the member.
 */
export interface MemoryTierStatus__Output {
  /**
   * Bytes of the arena; 0 when the tier is disabled (memory.arenaBytes 0).
   */
  'arenaBytes': (number);
  /**
   * Bytes of the arena's slots holding cached pages (slot sizes, fragmentation included).
   */
  'usedBytes': (number);
  /**
   * Every region of the arena is locked in RAM (mlock). False when RLIMIT_MEMLOCK is too low or
   * the addon is not loaded; `note` says why.
   */
  'mlocked': (boolean);
  /**
   * The NUMA node each region of the arena is on; -1 when unknown (a region bound to no node on
   * a machine with several).
   */
  'numaNodes': (number)[];
  /**
   * Reads served from the arena, and reads of pages it did not hold (served from LevelDB).
   */
  'hits': (number);
  'misses': (number);
  /**
   * hits / (hits + misses); 0 before the first read.
   */
  'hitRatio': (number);
  'cachedPages': (number);
  /**
   * Payload bytes of the cached pages.
   */
  'cachedBytes': (number);
  /**
   * Pages evicted from the arena to make room (local LRU; they stay in LevelDB).
   */
  'evictions': (number);
  /**
   * Misses not cached: the page was too large for the arena, or every slot that could make
   * room was being read.
   */
  'promotionsSkipped': (number);
  /**
   * Reads (GetPages streams) holding a page of the arena right now.
   */
  'leasesHeld': (number);
  /**
   * The largest page the arena can cache.
   */
  'pageBytesMax': (number);
  'hugePageAligned': (boolean);
  /**
   * Registered with CUDA (cudaHostRegister) for direct GPU transfers.
   */
  'cudaRegistered': (boolean);
  /**
   * Empty, or why the arena is not pinned or not bound to a node.
   */
  'note': (string);
  /**
   * Set when the arena lives in shared-memory files that clients on this host may map (the
   * same-host read path, docs/CLIENT.md); absent when it is private memory or the tier is off.
   */
  'sharedMemory': (_kvcache_v1_SharedMemoryStatus__Output | null);
  /**
   * Cached copies found not to match their crc32c when read, and dropped (the page was read
   * from LevelDB instead): damaged memory, or a process that wrote into the shared arena.
   */
  'corruptHits': (number);
}
