// The `raft` benchmark: three RawNodes in one process over MemoryStorage, messages handed from
// one node to the next in memory, proposals in batches. It measures the consensus core alone
// (no disk, no network, no serialization): committed entries per second and payload MB/s for
// several entry sizes. A batch counts once the leader has applied it, and the loop proposes the
// next batch only when every node has settled, so this is the lock-step rate of one pipeline.
import * as raft from '../../src/raft/index.js';
import type { Message, NodeId, RaftConfig, Ready } from '../../src/raft/index.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

const NODE_IDS: NodeId[] = [1, 2, 3];
const LEADER_ID: NodeId = 1;
const KIB = 1024;
const MIB = 1024 * KIB;
/** Bytes proposed per batch (at least one entry): about one append message's worth. */
const BATCH_BYTES = MIB;
/** Most entries in one batch (small entries). */
const BATCH_ENTRIES_MAX = 1024;
/**
 * Cases measured: entry size, and entries per proposal (batches of about BATCH_BYTES when absent).
 * 4 KiB is there to compare with an etcd-raft port measured on this machine (~138k entries/s),
 * batched and one entry per proposal (each settled before the next: the slowest pattern).
 */
const CASES: { entryBytes: number; entriesPerBatch?: number }[] = [
  { entryBytes: 64 },
  { entryBytes: 4 * KIB },
  { entryBytes: 4 * KIB, entriesPerBatch: 1 },
  { entryBytes: 64 * KIB },
  { entryBytes: MIB },
];
/** Seconds measured per case unless --seconds says otherwise; with the warm-ups the suite stays well under a minute. */
const SECONDS_PER_CASE_DEFAULT = 3;
/** Warm-up before each measurement (JIT, caches). */
const WARMUP_SECONDS = 0.5;
/** Compact the logs after this many applied entries, so memory stays flat. */
const COMPACT_EVERY_ENTRIES = 8192;
/** Rounds of Ready handling before the cluster must have settled (a bug otherwise). */
const SETTLE_ROUNDS_MAX = 1000;
const MILLISECONDS_PER_SECOND = 1000;

type RawNode = InstanceType<typeof raft.RawNode>;
type Storage = InstanceType<typeof raft.MemoryStorage>;

interface BenchNode {
  id: NodeId;
  storage: Storage;
  rn: RawNode;
  applied: number;
  appliedEntries: number;
}

function makeConfig(id: NodeId, storage: Storage): RaftConfig {
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    maxSizePerMsgBytes: MIB,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    randomInt: () => 0,
  };
}

class BenchCluster {
  readonly nodes = new Map<NodeId, BenchNode>();
  #inbox: Message[] = [];

  constructor() {
    for (const id of NODE_IDS) {
      const storage = raft.MemoryStorage.create({ voters: NODE_IDS, learners: [] });
      this.nodes.set(id, { id, storage, rn: new raft.RawNode(makeConfig(id, storage)), applied: 0, appliedEntries: 0 });
    }
    this.leader.rn.campaign();
    this.settle();
    if (this.leader.rn.raft.state !== raft.StateType.Leader) throw new Error('node 1 did not become leader');
  }

  get leader(): BenchNode {
    return this.nodes.get(LEADER_ID)!;
  }

  /** The driver loop: persist, send, apply, advance, until no node has work and no message is queued. */
  settle(): void {
    for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
      let busy = false;
      for (const node of this.nodes.values()) {
        if (!node.rn.hasReady()) continue;
        busy = true;
        this.#handle(node, node.rn.ready());
      }
      const inbox = this.#inbox;
      this.#inbox = [];
      for (const m of inbox) this.nodes.get(m.to)!.rn.step(m);
      if (!busy && inbox.length === 0) return;
    }
    throw new Error(`cluster did not settle in ${SETTLE_ROUNDS_MAX} rounds`);
  }

  #handle(node: BenchNode, rd: Ready): void {
    if (rd.snapshot !== undefined) node.storage.applySnapshot(rd.snapshot);
    node.storage.append(rd.entries);
    if (rd.hardState !== undefined) node.storage.setHardState(rd.hardState);
    for (const m of rd.messages) this.#inbox.push(m);
    for (const e of rd.committedEntries) {
      node.applied = e.index;
      node.appliedEntries++;
    }
    node.rn.advance();
    if (node.applied - node.storage.firstIndex() > COMPACT_EVERY_ENTRIES) {
      node.storage.createSnapshot(node.applied, { voters: NODE_IDS, learners: [] }, new Uint8Array(0));
      node.storage.compact(node.applied);
    }
  }
}

interface CaseResult {
  entryBytes: number;
  entriesPerBatch: number;
  entries: number;
  seconds: number;
  entriesPerSec: number;
  MBps: number;
  batchLatencyMsP50: number;
}

function defaultBatchEntries(entryBytes: number): number {
  return Math.max(1, Math.min(BATCH_ENTRIES_MAX, Math.floor(BATCH_BYTES / entryBytes)));
}

/** Proposes batches of `perBatch` entries of `entryBytes` for `seconds`, returning what the leader applied. */
function measure(cluster: BenchCluster, entryBytes: number, perBatch: number, seconds: number): CaseResult {
  // The core never copies payloads: one buffer per batch slot is what a zero-copy driver hands it.
  const payloads = Array.from({ length: perBatch }, (_, i) => new Uint8Array(entryBytes).fill(i & 0xff));
  const leader = cluster.leader;
  const appliedBefore = leader.appliedEntries;
  const latencies: number[] = [];
  const startedAt = performance.now();
  const deadline = startedAt + seconds * MILLISECONDS_PER_SECOND;
  for (let now = startedAt; now < deadline; ) {
    leader.rn.proposeBatch(payloads);
    cluster.settle();
    const after = performance.now();
    latencies.push(after - now);
    now = after;
  }
  const elapsed = (performance.now() - startedAt) / MILLISECONDS_PER_SECOND;
  const entries = leader.appliedEntries - appliedBefore;
  latencies.sort((a, b) => a - b);
  return {
    entryBytes,
    entriesPerBatch: perBatch,
    entries,
    seconds: Math.round(elapsed * 1000) / 1000,
    entriesPerSec: Math.round(entries / elapsed),
    MBps: Math.round(((entries * entryBytes) / MIB / elapsed) * 10) / 10,
    batchLatencyMsP50: Math.round(latencies[Math.floor(latencies.length / 2)]! * 1000) / 1000,
  };
}

function formatBytes(bytes: number): string {
  if (bytes >= MIB) return `${bytes / MIB} MiB`;
  if (bytes >= KIB) return `${bytes / KIB} KiB`;
  return `${bytes} B`;
}

function table(results: CaseResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${formatBytes(r.entryBytes)} | ${r.entriesPerBatch} | ${r.entriesPerSec.toLocaleString('en-US')} | ${r.MBps} | ${r.batchLatencyMsP50} | ${r.entries.toLocaleString('en-US')} | ${r.seconds} |`,
  );
  return [
    '| entry | entries/batch | entries/s | MB/s | batch p50 ms | entries | s |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export const raftSuite: BenchSuite = {
  name: 'raft',
  description: '3 in-process RawNodes over MemoryStorage: committed entries/s and MB/s by entry size',
  run(options: BenchOptions): SuiteReport {
    const results: CaseResult[] = [];
    for (const { entryBytes, entriesPerBatch } of CASES) {
      const perBatch = entriesPerBatch ?? defaultBatchEntries(entryBytes);
      const cluster = new BenchCluster();
      measure(cluster, entryBytes, perBatch, WARMUP_SECONDS);
      results.push(measure(cluster, entryBytes, perBatch, options.secondsPerCase ?? SECONDS_PER_CASE_DEFAULT));
    }
    return {
      suite: 'raft',
      results: results.map((r) => ({ ...r })),
      table: table(results),
      notes: [
        'One process, 3 voters, MemoryStorage, no serialization: the consensus core and the driver loop only.',
        `Batches of about ${formatBytes(BATCH_BYTES)} (at most ${BATCH_ENTRIES_MAX} entries) unless the row says 1; the next batch is proposed once all nodes settled.`,
        'MB/s counts payload bytes committed; payloads are never copied by the core, so large entries cost per entry, not per byte.',
      ],
    };
  },
};
