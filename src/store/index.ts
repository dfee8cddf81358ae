// The public surface of the page store: the replicated state machine on LevelDB.

export { PageStore } from './page-store.js';
export type { ApplyItem, PageStoreOptions, StoreStats } from './page-store.js';
export type { ApplyRefusalCode, ApplyResult } from './apply-batch.js';
export { SNAPSHOT_CHUNK_BYTES, SnapshotStreamError } from './snapshot-stream.js';
export type { SnapshotChunk } from './snapshot-stream.js';
