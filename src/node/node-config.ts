// What a member is started with (NodeConfig) and what it reports (NodeStatus), apart from the
// member itself (node.ts) so that the code that opens its files (member-files.ts) and the code
// that reports on it can name them without importing the member.
import type { Tracer } from '@opentelemetry/api';
import type { ConfChange, ConfState, NodeId } from '../raft/index.js';
import type { FileLayer } from '../wal/index.js';
import type { AppendMode, ChunkChecksums, MemoryTierConfig } from '../store/index.js';
import { SETTING_KEYS } from '../codec/index.js';
import type { CapacityConfig, CapacityCounters } from './capacity.js';
import type { CompactionOptions } from './compaction-policy.js';
import type { NodeObserver } from './observer.js';
import type { Transport } from './transport.js';
import type { WatchRingOptions } from './watch-ring.js';

export interface NodeConfig {
  id: NodeId;
  /** Holds `wal/` and `store/`. */
  dataDir: string;
  /** Voters of a brand-new cluster; used only when the data dir is empty. A joining member passes []. */
  initialVoters: NodeId[];
  transport: Transport;
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
  /** fdatasync the WAL and sync LevelDB writes (default true; tests may turn it off). */
  fsync?: boolean;
  /**
   * Capacity settings from the member's config file. They are replicated state (DESIGN §6): the
   * first leader proposes them when the cluster has none yet; afterwards `kvc config set`
   * changes them, and a member whose file disagrees logs it once and follows the cluster.
   */
  budgetBytes?: number;
  highWatermark?: number;
  lowWatermark?: number;
  evictionGraceMs?: number;
  defaultTtlMs?: number;
  /**
   * The memory tier above LevelDB (pinned arena; arenaBytes 0 disables it). Default: a small
   * arena (LIMITS.memoryTier.smallArenaBytes), so a process that runs many members (tests) stays
   * light; `kvc start` passes the config's value (LIMITS.memoryTier.arenaBytes unless set).
   */
  memoryTier?: MemoryTierConfig;
  /** Where snapshot chunk checksums are computed (the member's work pool); default: inline. */
  snapshotChecksums?: ChunkChecksums;
  compaction?: Partial<CompactionOptions>;
  /** WAL file layer (tests inject faults through it). */
  walFiles?: FileLayer;
  /** WAL segment size (default LIMITS.wal.segmentBytes). */
  walSegmentBytes?: number;
  /** Truncate the WAL at damage found while opening instead of refusing to start (docs/WAL.md). */
  walRepair?: boolean;
  /**
   * Value log: the store references a large page payload where its put's entry lies in the WAL
   * (the segment hard-linked into the store's blob folder) instead of writing it again (default
   * on; `KVC_WAL_PAYLOADS=0` turns it off for the process, docs/ARCHITECTURE.md "Blob files").
   */
  payloadsInWal?: boolean;
  proposalTimeoutMs?: number;
  /** Called after each applied membership change (the transport learns addresses from it). */
  onConfChange?: (cc: ConfChange, cs: ConfState) => void;
  /** Most proposals folded into one Raft append. */
  proposalBatchMax?: number;
  /** Most bytes of new proposals taken into one Ready (default LIMITS.node.readyProposalBytesMax). */
  readyProposalBytesMax?: number;
  /**
   * TEST-ONLY fault switch (env KVC_TEST_UNSAFE_ACK=1 on `kvc start`): answer a proposal as
   * soon as the leader accepted it into its log, before it is durable or committed. It exists so
   * the chaos harness can prove that it catches a member that loses acknowledged writes. Never
   * set it on a real cluster.
   */
  unsafeAckBeforeCommit?: boolean;
  logger?: (line: string) => void;
  /** Told of WAL saves, proposals, leader changes and snapshots (metrics). */
  observer?: NodeObserver;
  /** Traces this member's proposals (proposal-spans.ts); unset: no spans, nothing looked up. */
  tracer?: Tracer;
  /** Bounds of the watch ring and its readers (default LIMITS.watch; tests pass small ones). */
  watchRing?: Partial<WatchRingOptions>;
}

export interface NodeStatus {
  id: NodeId;
  role: 'leader' | 'follower' | 'candidate' | 'pre-candidate';
  leader: NodeId;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  voters: NodeId[];
  learners: NodeId[];
  pages: number;
  bytes: number;
  walFirstIndex: number;
  walLastIndex: number;
  /** The last index of this member's Raft log, entries not written to the WAL yet included. */
  raftLastIndex: number;
  /** On the leader, each other member's match index as it knows it (their acknowledged appends); empty elsewhere. */
  peerMatch: Record<NodeId, number>;
  walSegments: number;
  /** Payload bytes of WAL entries held in memory (the entry cache). */
  walCachedBytes: number;
  /** Store images this member streamed to followers / installed from a leader since it started. */
  snapshotsSent: number;
  snapshotsInstalled: number;
  /** Replicated removal counters of the store. */
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
  capacity: CapacityCounters;
  /**
   * Whether this process reads blob payloads past the page cache (src/io), and why not; how it
   * appends to WAL segments and blob files (AppendMode), and why not as KVC_APPEND_IO asked.
   */
  directIo: { enabled: boolean; reason: string; appends: AppendMode; appendsReason: string };
}

/** The capacity settings the member's config names (the others stay at the cluster's defaults). */
export function capacityConfig(config: NodeConfig): CapacityConfig {
  const configured: CapacityConfig = {};
  for (const key of SETTING_KEYS) {
    const value = config[key];
    if (value !== undefined) configured[key] = value;
  }
  return configured;
}
