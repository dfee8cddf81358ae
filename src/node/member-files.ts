// Opening a member's files: its WAL, memory tier and page store under the data dir, with what a
// crash or a damaged disk left behind recovered first, and the Raft core over the WAL. The member
// (node.ts) starts from what these return; a snapshot install reopens the store through
// openStore. Kept apart from the member so its class holds the loop and its API, not recovery.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfChangeType, EntryType, NONE, RawNode, encodeConfChange, type NodeId } from '../raft/index.js';
import { Wal } from '../wal/index.js';
import { MemoryTier, PageStore, SharedLookupIndex, StoreDamagedError, openMemoryTier, type AppliedListener, type MemoryTierStats } from '../store/index.js';
import { LIMITS } from '../limits.js';
import type { NodeConfig } from './node-config.js';
import { finishWalSwap, rebuildDamagedStore, storeMissingUnderLog } from './store-recovery.js';
import { repairUnsyncedFromWal } from './wal-payload-repair.js';
import type { WatchRing } from './watch-ring.js';

export interface MemberFiles {
  wal: Wal;
  store: PageStore;
  tier: MemoryTier;
  lookup: SharedLookup;
}

/** The member's same-host lookup index, or why it keeps none although its arena is shared. */
export interface SharedLookup {
  index: SharedLookupIndex | undefined;
  note: string;
}

/**
 * Opens (or creates) the WAL, the memory tier and the store of `config.dataDir`: finishes a WAL
 * swap a crash interrupted, rebuilds a damaged or missing store as an empty follower's
 * (store-recovery.ts), rewrites payloads a power loss took from the WAL (wal-payload-repair.ts),
 * starts `ring` at the applied index the store recovered to, and writes a brand-new cluster's
 * initial configuration. Whatever it opened is closed again when it fails.
 */
export async function openMemberFiles(config: NodeConfig, ring: WatchRing): Promise<MemberFiles> {
  const fsync = config.fsync ?? true;
  const openWal = (dir: string): Promise<Wal> =>
    Wal.open({
      dir,
      fsync,
      ...(config.walSegmentBytes ? { segmentBytes: config.walSegmentBytes } : {}),
      ...(config.walRepair ? { repair: true } : {}),
      ...(config.walFiles ? { files: config.walFiles } : {}),
      ...(config.logger ? { logger: config.logger } : {}),
    });
  await finishWalSwap(config.dataDir);
  let wal = await openWal(path.join(config.dataDir, 'wal'));
  let tier: MemoryTier | undefined;
  let store: PageStore | undefined;
  let lookup: SharedLookup = { index: undefined, note: '' };
  try {
    tier = openMemoryTier(config.memoryTier ?? { arenaBytes: LIMITS.memoryTier.smallArenaBytes }, config.logger);
    lookup = openSharedLookup(config);
    const onApplied: AppliedListener = (events, index) => ring.append(events, index);
    try {
      if (storeMissingUnderLog(config.dataDir, wal)) throw new StoreDamagedError('the store is missing while the WAL holds entries or a snapshot');
      store = await openStore(config, tier, onApplied, lookup.index);
    } catch (error) {
      if (!(error instanceof StoreDamagedError)) throw error;
      // Damaged files or records: rejoin as an empty follower (store-recovery.ts; a disk loss).
      wal = await rebuildDamagedStore({
        id: config.id,
        dataDir: config.dataDir,
        wal,
        damage: error,
        openWal,
        initialVoters: config.initialVoters,
        log: config.logger ?? console.error,
      });
      store = await openStore(config, tier, onApplied, lookup.index);
    }
    await repairUnsyncedFromWal({ id: config.id, wal, store, log: config.logger ?? console.error });
    // The ring is memory only: its window starts at what the store recovered to.
    ring.reset(store.appliedIndex());
    await bootstrapIfEmpty(wal, config.initialVoters);
  } catch (error) {
    await store?.close().catch(() => undefined);
    tier?.close();
    lookup.index?.close();
    await wal.close().catch(() => undefined);
    throw error;
  }
  return { wal, store, tier, lookup };
}

/**
 * The same-host lookup index, beside the shared arena (the same directory and name stem): kept
 * when the arena is shared, since both serve clients on this host. A file that cannot be made
 * (/dev/shm full, no addon) leaves the member without one, and Status says why: lookups then go
 * over gRPC as before.
 */
function openSharedLookup(config: NodeConfig): SharedLookup {
  const shared = config.memoryTier?.sharedMemory;
  if (shared === undefined) return { index: undefined, note: '' };
  try {
    return { index: SharedLookupIndex.create({ dir: shared.dir, name: shared.name, ...(config.logger ? { log: config.logger } : {}) }), note: '' };
  } catch (error) {
    const note = `no shared lookup index in ${shared.dir}: ${(error as Error).message}`;
    config.logger?.(`member ${config.id}: ${note}`);
    return { index: undefined, note };
  }
}

/**
 * The WAL makes a put durable; the store applies behind it without syncing each batch and is
 * flushed (one synced write) before the WAL drops entries it would need to replay (the member's
 * compaction).
 */
export function openStore(config: NodeConfig, tier: MemoryTier, onApplied: AppliedListener, sharedLookup: SharedLookupIndex | undefined): Promise<PageStore> {
  return PageStore.open({
    dir: path.join(config.dataDir, 'store'),
    sync: false,
    // The WAL makes a put durable; the blob files are synced by flush() before the WAL drops
    // entries, and what a power loss takes before that is rewritten from the WAL at start.
    blobSync: false,
    tier,
    onApplied,
    ...(sharedLookup ? { sharedLookup } : {}),
    ...(config.snapshotChecksums ? { checksums: config.snapshotChecksums } : {}),
  });
}

export function newRawNode(config: NodeConfig, wal: Wal): RawNode {
  // Restart from the WAL's snapshot: entries after it are handed out again, so membership
  // changes in them reach the core; the store skips what it already holds (appliedIndex).
  return new RawNode({
    id: config.id,
    storage: wal,
    applied: wal.snapshot().metadata.index,
    electionTick: config.electionTick ?? LIMITS.raft.electionTick,
    heartbeatTick: config.heartbeatTick ?? LIMITS.raft.heartbeatTick,
    maxSizePerMsgBytes: LIMITS.raft.maxSizePerMsgBytes,
    maxInflightMsgs: LIMITS.raft.maxInflightMsgs,
    maxInflightBytes: LIMITS.raft.maxInflightBytes,
    maxUncommittedEntriesBytes: LIMITS.raft.maxUncommittedEntriesBytes,
    maxCommittedSizePerReadyBytes: LIMITS.raft.maxCommittedSizePerReadyBytes,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: 'safe',
    ...(config.logger ? { logger: config.logger } : {}),
  });
}

/** One log line on the memory tier as started: size, placement, pinning. */
export function describeTier(st: MemoryTierStats): string {
  if (!st.enabled) return 'memory tier off (every read goes to LevelDB)';
  const mib = (st.arenaBytes / (1024 * 1024)).toFixed(0);
  const nodes = st.numaNodes.map((n) => (n === null ? '?' : String(n))).join(',');
  return `memory tier: ${mib} MiB arena on NUMA node ${nodes}, ${st.mlocked ? 'mlocked' : 'not mlocked'}${st.note === '' ? '' : ` (${st.note})`}`;
}

/**
 * A brand-new member of a new cluster writes the initial configuration into its log, as etcd
 * does: one committed AddVoter entry per initial voter at term 1. Every initial member writes the
 * same entries, and a member that joins later learns the configuration by replaying them.
 */
async function bootstrapIfEmpty(wal: Wal, initialVoters: NodeId[]): Promise<void> {
  const { hardState, confState } = wal.initialState();
  const empty = wal.lastIndex() === 0 && hardState.term === 0 && confState.voters.length === 0;
  if (!empty || initialVoters.length === 0) return;
  assert.ok(initialVoters.every((id) => Number.isInteger(id) && id > 0), 'initial voters must be positive integers');
  const voters = [...new Set(initialVoters)].sort((a, b) => a - b);
  const entries = voters.map((nodeId, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: ConfChangeType.AddVoter, nodeId, context: new Uint8Array(0) }),
  }));
  await wal.save({ hardState: { term: 1, vote: NONE, commit: entries.length }, entries });
}
