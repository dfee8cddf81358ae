// The public surface of the page store: the replicated state machine on LevelDB.

export { StoreDamagedError } from './level.js';
export { PageStore, REMOVAL_RECORD_ENTRIES_MAX, REMOVALS_PER_CALL_MAX } from './page-store.js';
export type { ApplyItem, ListedPage, ListPosition, NamespaceInfo, PageStoreOptions, SnapshotReader, StoreStats, UnsyncedDamage } from './page-store.js';
export { cacheEventBytes } from './cache-events.js';
export type { AppliedListener, CacheEvent } from './cache-events.js';
export { PageIndex, pageId, latin1, bytesOfLatin1, nextUseSeq } from './page-index.js';
export type { IndexedPage } from './page-index.js';
export { planEviction, describeHeldBack } from './eviction-planner.js';
export type { HeldBack, Plan } from './eviction-planner.js';
export {
  DEFAULT_SETTINGS,
  DEFAULT_NS_SETTINGS,
  TTL_MS_MAX,
  settingProblem,
  applySettingChanges,
  applyNsSettingChanges,
} from './settings.js';
export type { ClusterSettings, NamespaceSettings } from './settings.js';
export type { RemovalCounters, RemovalReason, RemovalRecord } from './records.js';
export type { ApplyRefusalCode, ApplyResult, EntrySource } from './apply-batch.js';
export { MemoryTier } from './memory-tier.js';
export type { ArenaMemory, ArenaRegion, MemoryTierOptions, MemoryTierStats, PageLease, SharedArena, SlotLocation } from './memory-tier.js';
export { SLAB_BYTES_DEFAULT } from './slab-arena.js';
export {
  openMemoryTier,
  pinnedArenaMemory,
  sharedArenaPath,
  sharedHeader,
} from './pinned-memory.js';
export type { MemoryTierConfig, PinnedArenaOptions, SharedMemoryConfig } from './pinned-memory.js';
export { SharedLeases } from './shared-leases.js';
export { SharedLookupIndex, SHARED_LOOKUP_SLOTS_INITIAL } from './shared-lookup-index.js';
export type { SharedLookupOptions, SharedLookupStats } from './shared-lookup-index.js';
export type { SharedLeaseOptions, SharedLeaseStats } from './shared-leases.js';
export { SNAPSHOT_CHUNK_BYTES, SnapshotStreamError } from './snapshot-stream.js';
export type { ChunkChecksums, SnapshotChunk } from './snapshot-stream.js';
// The blob files and the WAL share src/io's process-wide direct I/O state; the node reports it.
export { directIoStatus, type AppendMode } from '../io/index.js';
