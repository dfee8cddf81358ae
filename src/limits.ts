// Every limit of the system in one place (CONVENTIONS: "Put a limit on everything"). Each value
// is a named default that an operator may override through `resolveLimits`; the relations that
// make the values work together are asserted when this module loads and whenever overrides are
// applied, so an inconsistent configuration fails at startup instead of under load.
//
// Names carry their unit last (`Bytes`, `Ms`, `Tick`, `Msgs`). The `raft` section uses the field
// names of `RaftConfig` so that a node can spread it into its Raft configuration.

import assert from 'node:assert/strict';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/**
 * Bytes reserved around a payload for its envelope: page metadata in a Raft entry, message
 * fields and protobuf framing in a gRPC message, the record header in a WAL segment.
 */
const ENVELOPE_HEADROOM_BYTES = 64 * KIB;

/** Largest page payload (a 256-token chunk of a Llama-3-8B-sized model in fp16). */
const PAGE_BYTES_MAX = 32 * MIB;

export interface RaftLimits {
  /** Wall-clock length of one Raft tick. */
  tickMs: number;
  /** Ticks without a leader before a follower campaigns (randomized in [e, 2e)). */
  electionTick: number;
  /** Ticks between a leader's heartbeats. */
  heartbeatTick: number;
  /** Most bytes of entries in one append message; a larger single entry is still sent alone. */
  maxSizePerMsgBytes: number;
  /** Most append messages in flight to one follower. */
  maxInflightMsgs: number;
  /** Most bytes of entries in flight to one follower. */
  maxInflightBytes: number;
  /** The leader drops proposals once its uncommitted tail holds this many bytes. */
  maxUncommittedEntriesBytes: number;
  /** Most bytes of committed entries handed to the state machine in one Ready. */
  maxCommittedSizePerReadyBytes: number;
  /** Largest single Raft entry: one page plus its metadata. */
  entryBytesMax: number;
}

export interface PageLimits {
  /** Largest page payload accepted by a put. */
  bytesMax: number;
  /** Shortest page key (keys are opaque chained hashes). */
  keyBytesMin: number;
  /** Longest page key. */
  keyBytesMax: number;
  /** Size of the chunks pages are streamed in (get, put, snapshot streams). */
  chunkBytes: number;
  /** Most keys in one Lookup, GetPages, PutPages, DeletePages or PinPages request. */
  keysPerRequestMax: number;
}

export interface RpcLimits {
  /** Largest gRPC message on the client-facing services (Cache, Admin). */
  clientMessageBytesMax: number;
  /** Largest gRPC message between peers: an append carrying the largest entry must fit. */
  peerMessageBytesMax: number;
  /** HTTP/2 flow-control window; the 64 KiB default throttles large pages (DESIGN §11). */
  flowControlWindowBytes: number;
}

export interface NamespaceLimits {
  /** Longest namespace name. */
  lengthMax: number;
}

export interface WalLimits {
  /** Size at which a WAL segment is closed and a new one started. */
  segmentBytes: number;
  /** Payload bytes of the most recent entries the WAL keeps in memory (docs/WAL.md); older ones are read from disk. */
  entryCacheBytes: number;
}

export interface CompactionLimits {
  /** Compact once the WAL holds this many bytes... */
  triggerWalBytes: number;
  /** ...or this many entries were applied since the last compaction... */
  triggerEntries: number;
  /** ...or this much time has passed since the last compaction. */
  triggerIntervalMs: number;
  /** Entries a compaction keeps below the applied index for slow followers (config `compaction.keepEntries` overrides)... */
  keepEntries: number;
  /** ...and at most this many bytes of their payloads (with 32 MiB pages an entry count alone would keep GiBs). */
  keepBytes: number;
}

/** A member's Raft driver (src/node). */
export interface NodeLimits {
  /** How long a proposal or a linearizable read may wait to be applied before it fails (config `proposalTimeoutMs` overrides). */
  proposalTimeoutMs: number;
  /** Most proposals handed to Raft in one propose call (one entry each); more that arrived in one turn go in several. */
  proposalBatchMax: number;
  /**
   * Most bytes of new proposals a member (in practice the leader, where puts arrive) takes into
   * one Ready, always at least one proposal; the rest wait, in order, for the next. Puts that arrive
   * together (one client's uploads end together on one HTTP/2 connection) then commit and are
   * answered in smaller groups, so the next group's upload overlaps this one's write instead of
   * every phase waiting for the whole wave (docs/BENCHMARKS.md, "Puts move in waves").
   */
  readyProposalBytesMax: number;
  /** Namespaces whose lookups a member counts for its status; lookups in more namespaces are not counted. */
  lookupStatsNamespacesMax: number;
}

/** Payload repair: a member fetching a damaged page's bytes from its peers (src/member/payload-repair.ts). */
export interface RepairLimits {
  /** Rounds over the damaged pages before the repair gives up (and says so in the log). */
  roundsMax: number;
  /** Pause between two rounds. */
  retryMs: number;
  /** Damaged pages waiting for repair; reports beyond it are dropped (the next read reports again). */
  pendingMax: number;
  /** Deadline of one peer's answer for one page. */
  fetchDeadlineMs: number;
}

/** The worker pool that prepares large puts and checksums (src/workers). */
export interface PoolLimits {
  /**
   * Jobs on fewer bytes than this run inline: posting to a thread and back costs more than the
   * work. (Without the addon the TypeScript crc32c takes about 2.4 ms per MiB here, a conversion
   * more; a round trip to a worker about 1 ms on 2 busy cores.)
   */
  offloadBytesMin: number;
  /** A worker with nothing to do exits after this long; the next job starts one again. */
  idleTimeoutMs: number;
  /** Jobs waiting for a thread; past it, jobs run inline. Each put stream bounds its own bytes in flight. */
  queueJobsMax: number;
  /** The most threads a pool may have (a configuration error past it). */
  threadsMax: number;
}

export interface EvictionLimits {
  /**
   * Default fraction of the byte budget at which the leader starts proposing evictions (the
   * replicated setting `highWatermark` starts here; `kvc config set` changes it).
   */
  highWatermarkRatio: number;
  /** Default fraction of the byte budget evictions bring the store back down to (`lowWatermark`). */
  lowWatermarkRatio: number;
  /** How often the leader checks the watermarks and quotas (and followers flush access reports). */
  checkIntervalMs: number;
  /** How often the leader looks for pages whose TTL ran out. */
  expiryScanIntervalMs: number;
  /** Most pages one eviction or expiry plan removes; the rest waits for the next check. */
  planKeysMax: number;
  /** Most payload bytes one eviction plan removes. */
  planBytesMax: number;
  /** Most keys in one `evict` or `expire` command (a plan becomes several commands). */
  commandKeysMax: number;
  /** Longest lookup lease (LookupRequest.lease_ms). */
  leaseMsMax: number;
  /** Longest pin (PinPagesRequest.ttl_ms). */
  pinTtlMsMax: number;
  /** How often a follower sends its access record to the leader (at least once a second). */
  accessReportIntervalMs: number;
  /** Most page accesses a follower holds for its next report; more are dropped (and counted). */
  accessReportKeysMax: number;
  /** Removal records the store keeps (ListRemovals); older ones are trimmed on every replica alike. */
  removalRecordEntries: number;
  /** Most removals one ListRemovals call returns (the server's cap; the client pages by it). */
  removalsPerCallMax: number;
}

export interface StoreLimits {
  /**
   * Payloads at or above this size go to blob files instead of LevelDB, so LSM compactions never
   * rewrite them; smaller ones stay inline where a separate file read would cost more than it saves.
   */
  blobThresholdBytes: number;
  /** A blob file stops taking appends once it holds this many bytes (one batch may pass it). */
  blobFileBytes: number;
  /** GC rewrites a full blob file once less than this fraction of its bytes is still referenced. */
  blobGcLiveRatio: number;
  /** Most payload bytes GC copies per second, so it never takes the disk from puts for long. */
  blobGcBytesPerSecond: number;
  /** How often the store looks for a blob file worth collecting. */
  blobGcIntervalMs: number;
  /** LevelDB's block cache for metadata blocks (lookups); payload reads and full scans bypass it. */
  levelCacheBytes: number;
  /** LevelDB's memtable: an inline page of up to blobThresholdBytes must not flush it every few puts. */
  levelWriteBufferBytes: number;
  /** LevelDB's table file size. */
  levelMaxFileBytes: number;
  /** LevelDB's block size: its default suits the small metadata records. */
  levelBlockBytes: number;
  /** Table files LevelDB keeps open. */
  levelMaxOpenFiles: number;
}

/** The same-host shared-memory read path (src/store/shared-leases.ts, docs/CLIENT.md). */
export interface SharedMemoryLimits {
  /** Leases held at once on one member; past it, pages are streamed instead. */
  leasesMax: number;
  /** Leases one client id may hold at once on one member (KVC_TOO_MANY_LEASES past it). */
  leasesPerClientMax: number;
  /** A lease ends this long after it was granted unless released first. */
  leaseMs: number;
  /** Bytes of a client id (GetPagesRequest.client_id, ReleasePagesRequest.client_id). */
  clientIdBytesMax: number;
}

/** The memory tier's arena (src/store/memory-tier.ts): its size when nothing sets one. */
export interface MemoryTierLimits {
  /** The arena of a member run from a config (`kvc start`, `kvc dev`) without `memory.arenaBytes`. */
  arenaBytes: number;
  /**
   * The arena of members run many to a machine: a member started in code without a memory tier
   * (startMember, ClusterNode: tests, benchmarks, the fuzzer's cluster) and the chaos harness's.
   */
  smallArenaBytes: number;
}

/** The Watch feed of cache events (src/node/watch-ring.ts, src/rpc/watch-service.ts, docs/CLIENT.md). */
export interface WatchLimits {
  /** Events a member keeps for watchers to resume from; older ones answer KVC_WATCH_COMPACTED. */
  ringEventsMax: number;
  /** Bytes (estimated: keys, namespace, fixed overhead) of the events a member keeps. */
  ringBytesMax: number;
  /** A watcher this many events behind the member's newest is cut off (KVC_WATCH_TOO_SLOW). */
  lagEventsMax: number;
  /** Watch streams open at once on one member (KVC_TOO_MANY_WATCHERS past it). */
  watchersPerMemberMax: number;
  /** Most events in one WatchResponse message (a log entry's events are never split). */
  eventsPerMessageMax: number;
  /** A caught-up watcher receives a progress event (the applied index) this often. */
  progressIntervalMs: number;
  /** A caught-up watcher woken by new events waits this long for more before it sends them (one message). */
  coalesceMs: number;
  /** How long a Watch from an index the member has not applied yet waits before KVC_WATCH_FUTURE_INDEX. */
  futureIndexWaitMs: number;
  /** Most pages one ListPages answer returns (the client pages with page_token). */
  listPagesPerCallMax: number;
}

/** Direct appends of WAL segments and blob files (src/io). */
export interface IoLimits {
  /** Alignment of a direct write's memory, offset and length: the largest logical block size in use. */
  directBlockBytes: number;
  /** Writes and reads go through aligned scratch memory in pieces of at most this many bytes. */
  directScratchBytes: number;
  /** Scratch buffers in the process: more reads at once go through the page cache; writes may take more (not kept). */
  directScratchBuffersMax: number;
}

/** glibc malloc in every kvc process (src/native: tuneAllocator at start, trimAllocator in members). */
export interface AllocatorLimits {
  /** Buffers below this come from the heap instead of a fresh mmap each (glibc's largest: HEAP_MAX_SIZE / 2). */
  mmapThresholdBytes: number;
  /** Free heap at the top kept for the next buffers instead of handed back at once. */
  trimThresholdBytes: number;
  /** Added to every heap growth. */
  topPadBytes: number;
  /** How often a member looks whether to hand every free heap page back to the kernel (malloc_trim, also those in the middle of the heap): it does when it applied nothing since its last look. */
  trimIntervalMs: number;
  /** A member's V8 old-generation growing factor, as V8's --heap-growing-percent: the limit is (1 + this / 100) × the live heap (src/member/heap-tuning.ts). */
  v8HeapGrowingPercent: number;
  /** A member with that tuning looks this often whether it is idle (src/member/heap-tuning.ts)... */
  idleGcIntervalMs: number;
  /** ...idle: its event loop was busy at most this percentage of the interval... */
  idleGcBusyPercentMax: number;
  /** ...and if its JS heap and ArrayBuffers grew by this much, it runs a full GC and trims. */
  idleGcGrowthBytes: number;
}

export interface Limits {
  raft: RaftLimits;
  page: PageLimits;
  rpc: RpcLimits;
  namespace: NamespaceLimits;
  wal: WalLimits;
  compaction: CompactionLimits;
  eviction: EvictionLimits;
  store: StoreLimits;
  sharedMemory: SharedMemoryLimits;
  memoryTier: MemoryTierLimits;
  watch: WatchLimits;
  allocator: AllocatorLimits;
  io: IoLimits;
  node: NodeLimits;
  repair: RepairLimits;
  pool: PoolLimits;
}

/** Operator overrides: any field of any section. */
export type LimitOverrides = { [Section in keyof Limits]?: Partial<Limits[Section]> };

type DeepReadonly<T> = { readonly [K in keyof T]: DeepReadonly<T[K]> };

/** The limits as the rest of the system sees them: frozen. */
export type ReadonlyLimits = DeepReadonly<Limits>;

/** Relations between limits that must hold; a violation throws an AssertionError. */
export function assertLimitRelations(limits: ReadonlyLimits): void {
  assertPositiveIntegers(limits);
  assertRaftRelations(limits);
  assertWireRelations(limits);
  const { eviction, store } = limits;
  assert.ok(store.blobGcLiveRatio > 0 && store.blobGcLiveRatio < 1, 'store.blobGcLiveRatio must be in (0, 1)');
  assert.ok(store.blobFileBytes >= limits.page.bytesMax, 'store.blobFileBytes must hold the largest page');
  assert.ok(eviction.lowWatermarkRatio > 0, 'eviction.lowWatermarkRatio must be above 0');
  assert.ok(eviction.lowWatermarkRatio < eviction.highWatermarkRatio, 'eviction low watermark must be below the high one');
  assert.ok(eviction.highWatermarkRatio <= 1, 'eviction.highWatermarkRatio must be at most 1');
  assert.ok(eviction.commandKeysMax <= limits.page.keysPerRequestMax, 'eviction.commandKeysMax must not exceed page.keysPerRequestMax');
  assert.ok(eviction.accessReportIntervalMs <= 1000, 'eviction.accessReportIntervalMs must be at most one second');
  const shm = limits.sharedMemory;
  assert.ok(shm.leasesPerClientMax <= shm.leasesMax, 'sharedMemory.leasesPerClientMax must not exceed leasesMax');
  // A client releases the leases of one GetPages in one ReleasePages.
  assert.ok(shm.leasesPerClientMax <= limits.page.keysPerRequestMax, 'sharedMemory.leasesPerClientMax must not exceed page.keysPerRequestMax');
  assert.ok(limits.memoryTier.smallArenaBytes <= limits.memoryTier.arenaBytes, 'memoryTier.smallArenaBytes must not exceed memoryTier.arenaBytes');
  // A slow watcher must be cut (and resume) before the ring drops what it has not read yet.
  assert.ok(limits.watch.lagEventsMax < limits.watch.ringEventsMax, 'watch.lagEventsMax must be below watch.ringEventsMax');
  // Scratch memory is whole WebAssembly pages (64 KiB) of whole blocks.
  const { io } = limits;
  assert.ok(io.directBlockBytes >= 512 && (io.directBlockBytes & (io.directBlockBytes - 1)) === 0, 'io.directBlockBytes must be a power of two of at least 512');
  assert.ok(io.directScratchBytes % 65_536 === 0 && io.directScratchBytes % io.directBlockBytes === 0, 'io.directScratchBytes must be a multiple of 64 KiB and of io.directBlockBytes');
}

function assertPositiveIntegers(limits: ReadonlyLimits): void {
  for (const [sectionName, section] of Object.entries(limits)) {
    for (const [name, value] of Object.entries(section as Record<string, number>)) {
      if (name.endsWith('Ratio')) continue; // Fractions, checked separately.
      assert.ok(Number.isSafeInteger(value) && value > 0, `${sectionName}.${name} must be a positive integer, got ${value}`);
    }
  }
}

function assertRaftRelations(limits: ReadonlyLimits): void {
  const { raft, page } = limits;
  assert.ok(raft.heartbeatTick < raft.electionTick, 'raft.heartbeatTick must be below raft.electionTick');
  assert.ok(raft.maxSizePerMsgBytes <= raft.maxInflightBytes, 'raft.maxSizePerMsgBytes must not exceed maxInflightBytes');
  // An entry carries one page and its metadata, so the largest page must fit in the largest entry.
  assert.ok(raft.entryBytesMax >= page.bytesMax, 'raft.entryBytesMax must hold page.bytesMax');
  // Otherwise a single largest-size proposal could never be accepted by the leader.
  assert.ok(
    raft.maxUncommittedEntriesBytes >= raft.entryBytesMax,
    'raft.maxUncommittedEntriesBytes must hold at least one largest entry',
  );
  assert.ok(
    raft.maxCommittedSizePerReadyBytes >= raft.maxSizePerMsgBytes,
    'raft.maxCommittedSizePerReadyBytes must not be below maxSizePerMsgBytes',
  );
}

function assertWireRelations(limits: ReadonlyLimits): void {
  const { raft, page, rpc, wal, compaction } = limits;
  assert.ok(page.keyBytesMin <= page.keyBytesMax, 'page.keyBytesMin must not exceed page.keyBytesMax');
  assert.ok(page.chunkBytes <= page.bytesMax, 'page.chunkBytes must not exceed page.bytesMax');
  assert.ok(
    rpc.clientMessageBytesMax >= page.chunkBytes + ENVELOPE_HEADROOM_BYTES,
    'rpc.clientMessageBytesMax must hold one page chunk and its envelope',
  );
  assert.ok(
    rpc.clientMessageBytesMax >= page.keysPerRequestMax * page.keyBytesMax + ENVELOPE_HEADROOM_BYTES,
    'rpc.clientMessageBytesMax must hold a request with keysPerRequestMax longest keys',
  );
  const largestAppendBytes = Math.max(raft.entryBytesMax, raft.maxSizePerMsgBytes);
  assert.ok(
    rpc.peerMessageBytesMax >= largestAppendBytes + ENVELOPE_HEADROOM_BYTES,
    'rpc.peerMessageBytesMax must hold the largest append message',
  );
  assert.ok(
    wal.segmentBytes >= raft.entryBytesMax + ENVELOPE_HEADROOM_BYTES,
    'wal.segmentBytes must hold one largest entry record',
  );
  // Compaction deletes whole segments, so triggering below one segment would reclaim nothing.
  assert.ok(compaction.triggerWalBytes >= wal.segmentBytes, 'compaction.triggerWalBytes must be at least one segment');
}

function deepFreeze(limits: Limits): Readonly<Limits> {
  for (const section of Object.values(limits)) Object.freeze(section);
  return Object.freeze(limits);
}

/** Namespace characters (DESIGN §2); the length is bounded by LIMITS.namespace.lengthMax. */
const NAMESPACE_PATTERN = /^[A-Za-z0-9._:/-]+$/;

/** A namespace the members accept: 1 to LIMITS.namespace.lengthMax characters of NAMESPACE_PATTERN. */
export function isValidNamespace(ns: string): boolean {
  return ns.length <= LIMITS.namespace.lengthMax && NAMESPACE_PATTERN.test(ns);
}

/** A page key length the members accept: LIMITS.page.keyBytesMin to keyBytesMax bytes. */
export function isValidKeyBytes(bytes: number): boolean {
  return bytes >= LIMITS.page.keyBytesMin && bytes <= LIMITS.page.keyBytesMax;
}

/** The defaults, checked and frozen. */
export const LIMITS: ReadonlyLimits = deepFreeze({
  raft: {
    // Elections start 0.5-1 s after the last heartbeat (a new leader in ~0.6 s median after a
    // leader dies; docs/BENCHMARKS.md, failover) with heartbeats every 50 ms: ten missed in a row
    // before anyone campaigns, and a busy disk does not silence them (node.ts #heartbeatWhileBusy).
    tickMs: 50,
    electionTick: 10,
    heartbeatTick: 1,
    maxSizePerMsgBytes: 1 * MIB,
    maxInflightMsgs: 256,
    maxInflightBytes: 64 * MIB,
    maxUncommittedEntriesBytes: 1 * GIB,
    maxCommittedSizePerReadyBytes: 64 * MIB,
    entryBytesMax: PAGE_BYTES_MAX + ENVELOPE_HEADROOM_BYTES,
  },
  page: {
    bytesMax: PAGE_BYTES_MAX,
    keyBytesMin: 8,
    keyBytesMax: 64,
    chunkBytes: 1 * MIB,
    // A 128k-token prompt in 16-token blocks.
    keysPerRequestMax: 8192,
  },
  rpc: {
    clientMessageBytesMax: 4 * MIB,
    peerMessageBytesMax: PAGE_BYTES_MAX + 2 * MIB,
    flowControlWindowBytes: 16 * MIB,
  },
  namespace: { lengthMax: 128 },
  wal: {
    segmentBytes: 64 * MIB,
    // What a leader may have in flight to one follower (raft.maxInflightBytes) and about what one
    // Ready applies (raft.maxCommittedSizePerReadyBytes): entries just appended are sent and applied
    // from memory while followers keep up. Two 32 MiB pages fill it (docs/BENCHMARKS.md).
    entryCacheBytes: 64 * MIB,
  },
  compaction: { triggerWalBytes: 64 * MIB, triggerEntries: 10_000, triggerIntervalMs: 5 * 60 * 1000, keepEntries: 1_000, keepBytes: 64 * MIB },
  eviction: {
    highWatermarkRatio: 0.9,
    lowWatermarkRatio: 0.85,
    checkIntervalMs: 200,
    expiryScanIntervalMs: 1000,
    planKeysMax: 4096,
    planBytesMax: 4 * GIB,
    commandKeysMax: 1024,
    leaseMsMax: 60_000,
    pinTtlMsMax: 60 * 60 * 1000,
    accessReportIntervalMs: 500,
    accessReportKeysMax: 65_536,
    removalRecordEntries: 100_000,
    removalsPerCallMax: 10_000,
  },
  store: {
    blobThresholdBytes: 64 * KIB,
    blobFileBytes: 256 * MIB,
    blobGcLiveRatio: 0.5,
    blobGcBytesPerSecond: 64 * MIB,
    blobGcIntervalMs: 10_000,
    // A member's LevelDB holds page metadata and payloads below blobThresholdBytes; what these
    // cost in memory is counted in docs/BENCHMARKS.md ("kvc start-up and member memory").
    levelCacheBytes: 32 * MIB,
    levelWriteBufferBytes: 64 * MIB,
    levelMaxFileBytes: 32 * MIB,
    levelBlockBytes: 4096,
    levelMaxOpenFiles: 1000,
  },
  sharedMemory: {
    leasesMax: 4096,
    leasesPerClientMax: 1024,
    // Long enough to copy a batch of 32 MiB pages on a loaded host, short enough that a dead
    // client's leases come back soon.
    leaseMs: 10_000,
    clientIdBytesMax: 64,
  },
  memoryTier: {
    // Room for 128 pages of 2 MiB (a few long prompts' worth of hot pages) per member, pinned in
    // RAM; `memory.arenaBytes` sizes it to the machine (0 turns it off).
    arenaBytes: 256 * MIB,
    // Eight 4 MiB slabs: pages still move between the tiers, while a test process starting dozens
    // of members, or five chaos members on one machine, pins little memory.
    smallArenaBytes: 32 * MIB,
  },
  watch: {
    // About 200 bytes each: at most 32 MiB of memory per member, a few minutes of a busy cluster.
    ringEventsMax: 100_000,
    ringBytesMax: 32 * MIB,
    lagEventsMax: 50_000,
    watchersPerMemberMax: 256,
    eventsPerMessageMax: 512,
    progressIntervalMs: 1000,
    coalesceMs: 2,
    futureIndexWaitMs: 2000,
    listPagesPerCallMax: 1000,
  },
  // By default glibc maps every buffer above its (dynamic) mmap threshold afresh and returns it on
  // free, so each new MiB-sized payload buffer page-faults on every 4 KiB page: measured on the
  // 2-vCPU development VM, 7 fresh 1 MiB buffers filled took 4.6 ms, 1.0-1.9 ms with these
  // settings (trim thresholds from 64 MiB to 1 GiB measured alike). Pages are at most 32 MiB, so
  // they all come from the heap. The heap only shrinks from its top, so one live buffer near the
  // top kept every free page below it resident: after `kvc bench --pages 64` a member held
  // 100-200 MiB of free heap. At the first trimIntervalMs in which it applied nothing, the member
  // hands those pages back (a few ms; src/member/allocator-trim.ts), which bounds what the tuning
  // adds to its RSS (docs/BENCHMARKS.md, "kvc start-up and member memory").
  allocator: {
    mmapThresholdBytes: 32 * MIB,
    trimThresholdBytes: 128 * MIB,
    topPadBytes: 16 * MIB,
    trimIntervalMs: 5_000,
    // V8 counts the payload buffers freed since the last full GC against the old generation's
    // allocation limit, and picks that limit (×1.1 to ×4 of the live heap) from its GC timings.
    // A leader's heap is small (~17 MiB) and its limit was ~40 MiB, so every ~7-20 MiB of
    // MiB-sized buffers started a full GC: 25-35 a second's worth of puts at 1 MiB pages, ~45 % of
    // its CPU with the marking threads. At ×4 it runs ~3× fewer (docs/BENCHMARKS.md, peers).
    v8HeapGrowingPercent: 300,
    // What that leaves behind after a burst is freed within a second or two of idle.
    idleGcIntervalMs: 1_000,
    idleGcBusyPercentMax: 10,
    idleGcGrowthBytes: 16 * MIB,
  },
  // 4 KiB: the logical block size of almost every disk (512-byte ones accept it too). Scratch:
  // one piece per page of up to ~4 MiB; a member has a WAL write and a blob append in flight at
  // most, and reads up to the rest (32 MiB in all).
  io: { directBlockBytes: 4096, directScratchBytes: 4 * MIB, directScratchBuffersMax: 8 },
  node: { proposalTimeoutMs: 10_000, proposalBatchMax: 256, readyProposalBytesMax: 4 * MIB, lookupStatsNamespacesMax: 10_000 },
  repair: { roundsMax: 60, retryMs: 1_000, pendingMax: 1_024, fetchDeadlineMs: 5_000 },
  pool: { offloadBytesMin: MIB, idleTimeoutMs: 30_000, queueJobsMax: 256, threadsMax: 64 },
});
assertLimitRelations(LIMITS);

/** The defaults with `overrides` applied, checked and frozen. Throws when a relation breaks. */
export function resolveLimits(overrides: LimitOverrides = {}): ReadonlyLimits {
  const limits: Limits = {
    raft: { ...LIMITS.raft, ...overrides.raft },
    page: { ...LIMITS.page, ...overrides.page },
    rpc: { ...LIMITS.rpc, ...overrides.rpc },
    namespace: { ...LIMITS.namespace, ...overrides.namespace },
    wal: { ...LIMITS.wal, ...overrides.wal },
    compaction: { ...LIMITS.compaction, ...overrides.compaction },
    eviction: { ...LIMITS.eviction, ...overrides.eviction },
    store: { ...LIMITS.store, ...overrides.store },
    sharedMemory: { ...LIMITS.sharedMemory, ...overrides.sharedMemory },
    memoryTier: { ...LIMITS.memoryTier, ...overrides.memoryTier },
    watch: { ...LIMITS.watch, ...overrides.watch },
    allocator: { ...LIMITS.allocator, ...overrides.allocator },
    io: { ...LIMITS.io, ...overrides.io },
    node: { ...LIMITS.node, ...overrides.node },
    repair: { ...LIMITS.repair, ...overrides.repair },
    pool: { ...LIMITS.pool, ...overrides.pool },
  };
  assertLimitRelations(limits);
  return deepFreeze(limits);
}
