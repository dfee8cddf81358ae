// The public surface of the page store: the replicated state machine on LevelDB.

export { PageStore } from './page-store.js';
export type { ApplyItem, PageStoreOptions, StoreStats } from './page-store.js';
export type { ApplyRefusalCode, ApplyResult } from './apply-batch.js';
export { MemoryTier } from './memory-tier.js';
export type { ArenaMemory, ArenaRegion, MemoryTierOptions, MemoryTierStats, PageLease } from './memory-tier.js';
export { SLAB_BYTES_DEFAULT } from './slab-arena.js';
export { openMemoryTier, pinnedArenaMemory } from './pinned-memory.js';
export type { MemoryTierConfig, PinnedArenaOptions } from './pinned-memory.js';
export { SNAPSHOT_CHUNK_BYTES, SnapshotStreamError } from './snapshot-stream.js';
export type { ChunkChecksums, SnapshotChunk } from './snapshot-stream.js';
