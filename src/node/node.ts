// One cluster member: drives the Raft core over a durable WAL and the LevelDB page store.
//
// The loop, in the fixed order that makes acknowledgements safe (CONVENTIONS, after etcd):
//   1. step what arrived (ticks, peer messages, proposals, reads) into the core;
//   2. take a Ready; persist its hard state and entries in the WAL with one fdatasync;
//   3. only then send its messages (votes and acks leave after they are durable); a leader's
//      appends and heartbeats are the exception: they leave before step 2 (splitEarlyMessages);
//   4. apply committed entries to the store in one atomic batch; answer proposals and reads;
//   5. advance(); compact the WAL when a trigger fires.
// Inputs are queued and stepped only at the top of the loop, so nothing touches the core while a
// Ready is being persisted or applied.
import path from 'node:path';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  RaftError,
  RawNode,
  StateType,
  decodeConfChange,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
} from '../raft/index.js';
import type { Wal } from '../wal/index.js';
import { MemoryTier, PageStore, directIoStatus, type ApplyItem, type ApplyResult, type EntrySource, type ListPosition, type MemoryTierStats, type SharedLookupStats, type PageLease, type SnapshotChunk } from '../store/index.js';
import type { Command } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { CapacityKeeper } from './capacity.js';
import { CompactionPolicy } from './compaction-policy.js';
import { describeTier, newRawNode, openMemberFiles, openStore, type SharedLookup } from './member-files.js';
import { capacityConfig, type NodeConfig, type NodeStatus } from './node-config.js';
import { ProposalRegistry, ReadRegistry } from './pending-requests.js';
import { SnapshotTransfer } from './snapshot-transfer.js';
import { decodeProposal, encodeProposal, notePayloadChecksums, proposalSeqOf } from './proposal.js';
import { ProposalSpans, type ProposalOutcome } from './proposal-spans.js';
import { notify } from './observer.js';
import { earlyApplyLimit, isHeartbeat, splitCommittedByDurability, splitEarlyMessages } from './ready-messages.js';
import { StallWatch } from './stall-watch.js';
import { StoreGate } from './store-gate.js';
import { WatchRing } from './watch-ring.js';






type InboxItem =
  | { kind: 'message'; message: Message }
  | { kind: 'propose'; seq: number; command: Command }
  | { kind: 'conf-change'; cc: ConfChange }
  | { kind: 'read'; context: Uint8Array }
  | { kind: 'transfer'; to: NodeId }
  | { kind: 'campaign' }
  | { kind: 'snapshot-status'; to: NodeId; ok: boolean };

const ROLE_NAMES = { [StateType.Leader]: 'leader', [StateType.Follower]: 'follower', [StateType.Candidate]: 'candidate', [StateType.PreCandidate]: 'pre-candidate' } as const;

export class ClusterNode {
  readonly id: NodeId;
  readonly #config: NodeConfig;
  /** Large payloads stay where their entry lies in the WAL (NodeConfig.payloadsInWal). */
  readonly #payloadsInWal: boolean;
  readonly #compaction: CompactionPolicy;
  readonly #log: (line: string) => void;
  #wal: Wal;
  #store: PageStore;
  /** Outlives the store across snapshot installs (cleared then); closed when the member stops. */
  readonly #tier: MemoryTier;
  /** The same-host lookup index (or why there is none); it outlives the store across a snapshot install. */
  readonly #sharedLookup: SharedLookup;
  /** Recent cache events for Watch streams; outlives the store, reset when an install replaces it. */
  readonly #watchRing: WatchRing;
  #rn: RawNode;
  #inbox: InboxItem[] = [];
  #ticks = 0;
  /** True while the loop awaits #handleReady: ticks then keep heartbeats going (#heartbeatWhileBusy). */
  #handlingReady = false;
  /**
   * While a Ready is persisted: the highest index whose committed entry may be applied before the
   * next Ready (#commitWhileBusy), beside the WAL's durable last index; undefined when none may.
   */
  #earlyApplyLimit: number | undefined;
  /** The applies of the Ready being handled, then of what #commitWhileBusy took, in log order. */
  #applyChain: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined = undefined;
  #stopped = false;
  /** Files closed (by stop or crash); #stopped alone may come from a fatal error. */
  #closed = false;
  #loopDone: Promise<void> = Promise.resolve();
  /** The leader as of the last Ready (for the observer's leader changes). */
  #seenLeader: NodeId = NONE;
  /** The term and vote on disk (what the WAL opened with, then each saved Ready's). */
  #durableTermVote: { term: number; vote: NodeId };
  #ticker: NodeJS.Timeout | undefined = undefined;
  /** Counts and logs ticks that come late (stall-watch.ts). */
  readonly #stalls: StallWatch;
  readonly #proposals = new ProposalRegistry();
  /** Spans of this member's proposals; undefined unless the config has a tracer. */
  readonly #spans: ProposalSpans | undefined;
  readonly #reads: ReadRegistry;
  /** Reads and applies share the store; a snapshot install replaces it alone (store-gate.ts). */
  readonly #gate = new StoreGate();
  #fatal: Error | undefined = undefined;
  readonly #snapshots: SnapshotTransfer;
  readonly #capacity: CapacityKeeper;
  /** Lookup counters per namespace (member-local, for ListNamespaces). */
  readonly #lookupStats = new Map<string, { keys: number; hits: number }>();
  #capacityTimer: NodeJS.Timeout | undefined = undefined;

  private constructor(config: NodeConfig, wal: Wal, store: PageStore, tier: MemoryTier, lookup: SharedLookup, ring: WatchRing, rn: RawNode) {
    this.id = config.id;
    this.#config = config;
    this.#payloadsInWal = config.payloadsInWal ?? process.env.KVC_WAL_PAYLOADS !== '0';
    this.#wal = wal;
    this.#store = store;
    this.#tier = tier;
    this.#sharedLookup = lookup;
    this.#watchRing = ring;
    this.#rn = rn;
    const hard = rn.status().hardState;
    this.#durableTermVote = { term: hard.term, vote: hard.vote };
    this.#log = config.logger ?? (() => {});
    this.#stalls = new StallWatch({
      id: config.id,
      stallMs: ((config.tickMs ?? LIMITS.raft.tickMs) * (config.electionTick ?? LIMITS.raft.electionTick)) / 2,
      role: () => ROLE_NAMES[this.#rn.status().softState.state],
      observer: config.observer,
      log: this.#log,
    });
    this.#compaction = new CompactionPolicy({
      walBytes: config.compaction?.walBytes ?? LIMITS.compaction.triggerWalBytes,
      entries: config.compaction?.entries ?? LIMITS.compaction.triggerEntries,
      intervalMs: config.compaction?.intervalMs ?? LIMITS.compaction.triggerIntervalMs,
      keepEntries: config.compaction?.keepEntries ?? LIMITS.compaction.keepEntries,
      keepBytes: config.compaction?.keepBytes ?? LIMITS.compaction.keepBytes,
    });
    this.#reads = new ReadRegistry(config.id);
    this.#spans = config.tracer === undefined ? undefined : new ProposalSpans(config.tracer);
    this.#snapshots = new SnapshotTransfer({
      id: this.id,
      store: () => this.#store,
      wal: () => this.#wal,
      confState: () => this.#rn.status().config,
      transport: config.transport,
      checksums: config.snapshotChecksums,
      reportSent: (to, ok) => this.#enqueue({ kind: 'snapshot-status', to, ok }),
      replaceStore: (install) => this.#replaceStore(install),
      log: this.#log,
      observer: config.observer,
    });
    this.#capacity = new CapacityKeeper(
      {
        id: this.id,
        store: () => this.#store,
        isLeader: () => this.isLeader(),
        leader: () => this.leader(),
        propose: (command) => this.#propose(command),
        sendAccessReport: (to, report) => this.#config.transport.sendAccessReport(this.id, to, report),
        log: this.#log,
      },
      capacityConfig(config),
    );
  }

  /** Opens (or creates) the member's WAL and store (member-files.ts), and starts ticking and serving. */
  static async start(config: NodeConfig): Promise<ClusterNode> {
    const ring = new WatchRing(0, {
      eventsMax: config.watchRing?.eventsMax ?? LIMITS.watch.ringEventsMax,
      bytesMax: config.watchRing?.bytesMax ?? LIMITS.watch.ringBytesMax,
      lagEventsMax: config.watchRing?.lagEventsMax ?? LIMITS.watch.lagEventsMax,
      watchersMax: config.watchRing?.watchersMax ?? LIMITS.watch.watchersPerMemberMax,
      messageEventsMax: config.watchRing?.messageEventsMax ?? LIMITS.watch.eventsPerMessageMax,
    });
    const { wal, store, tier, lookup } = await openMemberFiles(config, ring);
    config.logger?.(`member ${config.id}: ${describeTier(tier.stats())}`);
    const rn = newRawNode(config, wal);
    const node = new ClusterNode(config, wal, store, tier, lookup, ring, rn);
    config.transport.register(config.id, {
      onMessage: (message) => {
        if (message.type === MessageType.App) notePayloadChecksums(message.entries);
        node.#enqueue({ kind: 'message', message });
      },
      onSnapshot: (message, chunks) => node.#receiveSnapshot(message, chunks),
      onAccessReport: (from, report) => {
        if (!node.#stopped) node.#capacity.onAccessReport(from, report);
      },
    });
    node.#capacityTimer = setInterval(() => {
      if (!node.#stopped) node.#capacity.tick();
    }, LIMITS.eviction.checkIntervalMs);
    node.#ticker = setInterval(() => node.#tick(), config.tickMs ?? LIMITS.raft.tickMs);
    node.#loopDone = node.#loop();
    node.#campaignIfSoleVoter(rn.status().config);
    return node;
  }

  // ---- public API ----------------------------------------------------------------------------

  /** The page store; reads should go through getPage/lookup/digest, which wait out a snapshot install. */
  get store(): PageStore {
    return this.#store;
  }

  getPage(ns: string, key: Uint8Array): ReturnType<PageStore['getPage']> {
    return this.#gate.shared(() => this.#store.getPage(ns, key));
  }

  /**
   * A lease on a page, through the memory tier (PageStore.readPage); `release()` it when its
   * bytes have been sent. Waits out a snapshot install like every read. `checkHit`: as
   * PageStore.readPage. `repeat`: a second read for the same request, whose access (for eviction's
   * recency) the first one noted, and whose hit or miss the memory tier counted.
   */
  readPage(ns: string, key: Uint8Array, checkHit = true, repeat = false): Promise<PageLease | undefined> {
    if (!repeat) this.#capacity.noteAccess(ns, [key]);
    return this.#gate.shared(() => this.#store.readPage(ns, key, checkHit, !repeat));
  }

  /** The pages whose blob payload fails its crc32c (PageStore.scrubBlobs); waits out a snapshot install. */
  scrubBlobs(): ReturnType<PageStore['scrubBlobs']> {
    return this.#gate.shared(() => this.#store.scrubBlobs());
  }

  /** Replaces a damaged payload with a peer's copy (PageStore.repairPayload). */
  repairPayload(ns: string, key: Uint8Array, data: Uint8Array): ReturnType<PageStore['repairPayload']> {
    return this.#gate.shared(() => this.#store.repairPayload(ns, key, data));
  }

  /** The memory tier's figures (arena size and use, hits, misses, pinning). */
  memoryTierStats(): MemoryTierStats {
    return this.#tier.stats();
  }

  /** Whether large payloads stay where their entry lies in the WAL (the value log), and why not. */
  valueLogStatus(): { enabled: boolean; note: string } {
    if (!this.#payloadsInWal) {
      const why = this.#config.payloadsInWal === false ? 'the member config turns it off (payloadsInWal)' : 'KVC_WAL_PAYLOADS=0';
      return { enabled: false, note: `off: ${why}; page payloads are written to blob files as well as the WAL` };
    }
    const refused = this.#store.blobStats().walLinksRefused;
    return { enabled: refused === '', note: refused };
  }

  /** The same-host lookup index's figures (undefined: none), and why there is none. */
  sharedLookupStats(): { stats: SharedLookupStats | undefined; note: string } {
    const index = this.#closed ? undefined : this.#sharedLookup.index;
    return { stats: index?.stats(), note: this.#sharedLookup.note || (index?.failure ?? '') };
  }

  /**
   * The longest stored prefix of `keys`, from the store's in-memory index (no LevelDB read, no
   * wait behind applies). The matched pages count as accessed for eviction, and `leaseMs` > 0
   * protects them from eviction that long (forwarded to the leader at once from a follower).
   */
  lookup(ns: string, keys: Uint8Array[], leaseMs = 0): number {
    const pages = this.#store.matchedPages(ns, keys);
    const matched = pages.length;
    this.#capacity.noteMatched(pages, keys, leaseMs);
    let stats = this.#lookupStats.get(ns);
    if (stats === undefined && this.#lookupStats.size < LIMITS.node.lookupStatsNamespacesMax) this.#lookupStats.set(ns, (stats = { keys: 0, hits: 0 }));
    if (stats !== undefined) {
      stats.keys += keys.length;
      stats.hits += matched;
    }
    return matched;
  }

  /** This member's Lookup counters for `ns` since it started: keys asked, keys matched. */
  lookupStats(ns: string): { keys: number; hits: number } {
    return { ...(this.#lookupStats.get(ns) ?? { keys: 0, hits: 0 }) };
  }

  lookupStatsNamespaces(): string[] {
    return [...this.#lookupStats.keys()];
  }

  /** The store's removal record (ListRemovals); waits out a snapshot install like every read. */
  removals(fromIndex: number, limit: number): ReturnType<PageStore['removals']> {
    return this.#gate.shared(() => this.#store.removals(fromIndex, limit));
  }

  digest(): Promise<string> {
    return this.#gate.shared(() => this.#store.digest());
  }

  /** The page-set digest (what ListPages + Watch rebuild) and the applied index it describes. */
  pagesDigest(): ReturnType<PageStore['pagesDigest']> {
    return this.#gate.shared(() => this.#store.pagesDigest());
  }

  /** Stored pages in key order with the applied index they show (PageStore.listPages). */
  listPages(ns: string | undefined, after: ListPosition | undefined, limit: number): ReturnType<PageStore['listPages']> {
    return this.#gate.shared(() => this.#store.listPages(ns, after, limit));
  }

  /** Recent cache events by log index, for Watch streams (watch-ring.ts). */
  get watchRing(): WatchRing {
    return this.#watchRing;
  }

  get wal(): Wal {
    return this.#wal;
  }

  /** False once the member stopped (cleanly, by a crash, or on a fatal error). */
  isLeader(): boolean {
    return !this.#stopped && this.#rn.status().softState.state === StateType.Leader;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  leader(): NodeId {
    return this.#rn.status().softState.leader;
  }

  /**
   * Replicates `command`; resolves with its result once it is committed and applied here. A put
   * that would pass the byte budget or its namespace's quota gets the evictions that make room
   * proposed ahead of it (CapacityKeeper); it is refused (KVC_QUOTA_EXHAUSTED, saying what held
   * pages back) only when nothing more is evictable.
   */
  propose(command: Command, timeoutMs = this.#config.proposalTimeoutMs ?? LIMITS.node.proposalTimeoutMs): Promise<ApplyResult> {
    if (command.op !== 'put' || this.#stopped || !this.isLeader()) return this.#propose(command, timeoutMs);
    const reservation = this.#capacity.beforePut(command.pages.map((page) => page.meta));
    for (const ahead of reservation.ahead) this.#capacity.track(ahead, this.#propose(ahead, timeoutMs));
    return this.#propose(command, timeoutMs)
      .then((result) => (result.ok || result.code !== 'KVC_QUOTA_EXHAUSTED' ? result : { ...result, message: CapacityKeeper.refusalMessage(result.message, reservation.heldBack) }))
      .finally(() => reservation.release());
  }

  #propose(command: Command, timeoutMs = this.#config.proposalTimeoutMs ?? LIMITS.node.proposalTimeoutMs): Promise<ApplyResult> {
    if (this.#stopped) return Promise.reject(this.#stoppedError());
    if (!this.isLeader()) return Promise.reject(this.#notLeaderError());
    const observer = this.#config.observer;
    const spans = this.#spans;
    const proposal = this.#proposals.add(timeoutMs, this.#enqueueProposal(command));
    if (observer === undefined && spans === undefined) return proposal;
    const seq = this.#proposals.lastSeq;
    const started = performance.now();
    const done = (outcome: ProposalOutcome, code?: string): void => {
      notify(observer, (o) => o.proposalDone?.((performance.now() - started) / 1000, outcome));
      spans?.end(seq, outcome, code);
    };
    return proposal.then(
      (result) => {
        done('applied', result.ok ? undefined : result.code);
        return result;
      },
      (error: unknown) => {
        const code = error instanceof KvcError ? error.code : 'KVC_INTERNAL';
        done(code === 'KVC_PROPOSAL_DROPPED' ? 'dropped' : 'failed', code);
        throw error;
      },
    );
  }

  /**
   * The callback that hands a proposal to the loop. Made here, not in #propose, so that the
   * closures #propose keeps until the proposal is applied do not share a context holding the
   * command, whose payload would then outlive young-generation GCs.
   */
  #enqueueProposal(command: Command): (seq: number) => void {
    return (seq) => {
      this.#spans?.start(seq, command);
      this.#enqueue({ kind: 'propose', seq, command });
    };
  }

  /** Resolves once this member has applied everything committed when the read was asked (ReadIndex). */
  linearizableRead(timeoutMs = this.#config.proposalTimeoutMs ?? LIMITS.node.proposalTimeoutMs): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stoppedError());
    return this.#reads.add(timeoutMs, (context) => this.#enqueue({ kind: 'read', context }));
  }

  addMember(id: NodeId, address: string, learner = false): void {
    this.#proposeConfChange({ type: learner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter, nodeId: id, context: new TextEncoder().encode(address) });
  }

  removeMember(id: NodeId): void {
    this.#proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array(0) });
  }

  transferLeader(to: NodeId): void {
    this.#enqueue({ kind: 'transfer', to });
  }

  status(): NodeStatus {
    const st = this.#rn.status();
    const walStats = this.#wal.stats();
    const storeStats = this.#store.stats();
    return {
      id: this.id,
      role: ROLE_NAMES[st.softState.state],
      leader: st.softState.leader,
      term: st.hardState.term,
      commitIndex: st.hardState.commit,
      appliedIndex: this.#store.appliedIndex(),
      voters: st.config.voters,
      learners: st.config.learners,
      pages: storeStats.pages,
      bytes: storeStats.bytes,
      walFirstIndex: walStats.firstIndex,
      walLastIndex: walStats.lastIndex,
      raftLastIndex: st.lastIndex,
      peerMatch: Object.fromEntries([...st.progress].filter(([id]) => id !== this.id).map(([id, pr]) => [id, pr.match])),
      walSegments: walStats.segments,
      walCachedBytes: walStats.cachedBytes,
      snapshotsSent: this.#snapshots.sent,
      snapshotsInstalled: this.#snapshots.installed,
      evictedPages: storeStats.evictedPages,
      evictedBytes: storeStats.evictedBytes,
      expiredPages: storeStats.expiredPages,
      capacity: { ...this.#capacity.counters },
      directIo: directIoStatus(),
    };
  }

  /**
   * The configuration this member has applied (voters and learners; both empty while it knows
   * none, e.g. a joiner before the leader's first messages). Cheaper than status().
   */
  configuration(): ConfState {
    return this.#rn.status().config;
  }

  /** Compacts the WAL now (an operator's `kvc snapshot`). */
  async compactNow(): Promise<void> {
    await this.#compact();
  }

  /** Graceful stop: finishes the current step, closes WAL and store. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#stopped) this.#halt(new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} is stopping` }));
    await this.#loopDone;
    await this.#gate.idle();
    // Everything applied made durable, blob mark included: the next start has nothing to check.
    await this.#gate.shared(() => this.#store.flush()).catch((err: unknown) => this.#log(`member ${this.id}: store flush at stop failed: ${String(err)}`));
    // A member stopped by a fatal WAL error cannot close its WAL cleanly; its store still closes.
    await this.#wal.close().catch((err: unknown) => this.#log(`member ${this.id}: WAL close failed: ${String(err)}`));
    await this.#store.close();
    // Its memory goes back once the last GetPages stream still sending from it releases its lease.
    this.#tier.close();
    this.#sharedLookup.index?.close();
  }

  /**
   * Test hook for crash tests: abandon this member at once, as if the process died. Nothing
   * more is written by it; files are closed (LevelDB keeps its lock otherwise), but nothing is
   * flushed that was not already durable.
   */
  async crash(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#stopped) this.#halt(new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} crashed` }));
    await this.#loopDone.catch(() => {});
    await this.#gate.idle().catch(() => {});
    await this.#wal.close().catch(() => {});
    await this.#store.close().catch(() => {});
    this.#tier.close();
    this.#sharedLookup.index?.close();
  }

  /** The error that stopped this member, if one did (e.g. an injected disk fault). */
  get fatalError(): Error | undefined {
    return this.#fatal;
  }

  // ---- the loop ------------------------------------------------------------------------------

  #tick(): void {
    this.#stalls.tick();
    this.#releaseReplicatedEntries();
    this.#ticks++;
    if (this.#handlingReady) this.#heartbeatWhileBusy();
    else this.#notify();
  }

  /**
   * Entries every member has and this one applied are read from memory by no one: the WAL drops
   * their copies (a member after a burst of puts held up to LIMITS.wal.entryCacheBytes of them
   * for nothing). A follower lagging behind keeps the leader's copies from its match on.
   */
  #releaseReplicatedEntries(): void {
    if (this.#stopped) return;
    this.#wal.releaseCachedThrough(Math.min(this.#store.appliedIndex(), this.#rn.lowestPeerMatch() ?? Infinity));
  }

  #enqueue(item: InboxItem): void {
    if (this.#stopped) return;
    const limit = this.#earlyApplyLimit;
    if (limit !== undefined && item.kind === 'message' && item.message.type === MessageType.AppResp) {
      this.#commitWhileBusy(item.message, limit);
      return;
    }
    this.#inbox.push(item);
    this.#notify();
  }

  /**
   * A follower's answer to an append, arriving while this member persists a Ready: stepped at once
   * (as a network reordering would have it; Raft allows stepping between Ready and Advance), and
   * what it commits that this member's WAL holds durably is applied now, not after the fdatasync in
   * progress and the next Ready (RawNode.takeCommittedEntries). On a leader under steady puts, a
   * follower's acknowledgement of batch k arrives while batch k+1 is being saved; its puts were
   * answered only once that save ended.
   */
  #commitWhileBusy(m: Message, limit: number): void {
    try {
      // This member's own copy counts toward a quorum only as far as it is on disk.
      const durable = Math.min(limit, this.#wal.lastIndex());
      if (!this.#taken('message', () => this.#rn.stepCountingDurable(m, durable))) return;
      const entries = this.#rn.takeCommittedEntries(durable);
      if (entries.length === 0) return;
      const applying = this.#applyChain.then(() => this.#apply(entries));
      // Awaited by #handleReady before it advances; a failure stops the member there.
      applying.catch(() => undefined);
      this.#applyChain = applying;
    } catch (err) {
      this.#stopOnFatal(err);
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #loop(): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#inbox.length === 0 && this.#ticks === 0 && !this.#rn.hasReady()) {
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        this.#drainInbox();
        if (!this.#rn.hasReady()) continue;
        this.#handlingReady = true;
        try {
          await this.#handleReady();
        } finally {
          this.#handlingReady = false;
        }
      }
    } catch (err) {
      this.#stopOnFatal(err);
    }
  }

  /**
   * A failed write (disk full, injected fault) must stop the member: continuing after an unknown
   * partial write could acknowledge what is not durable.
   */
  #stopOnFatal(err: unknown): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = err instanceof Error ? err : new Error(String(err));
    this.#log(`member ${this.id} stopped on a fatal error: ${this.#fatal.message}`);
    this.#halt(new KvcError('KVC_INTERNAL', { detail: `member ${this.id} stopped: ${this.#fatal.message}`, cause: err }));
  }

  /**
   * Keeps heartbeats flowing while the loop persists and applies a Ready: an fdatasync of a large
   * batch on a busy disk can take a second, and a member silent that long either loses its
   * followers to an election (a leader) or, with check-quorum, counts against its leader's quorum
   * (a follower). As etcd's node loop does between Ready and Advance, the ticks are stepped and the
   * heartbeats received answered; the heartbeats and responses that result leave at once when
   * their term is already durable (they carry no entries, and a heartbeat's commit never passes
   * the follower's own match). Everything else queued waits for the next Ready.
   */
  #heartbeatWhileBusy(): void {
    if (this.#stopped) return;
    try {
      const ticks = this.#ticks;
      this.#ticks = 0;
      for (let i = 0; i < ticks; i++) this.#rn.tick();
      const rest: InboxItem[] = [];
      for (const item of this.#inbox) {
        if (item.kind === 'message' && isHeartbeat(item.message)) this.#stepItem(item);
        else rest.push(item);
      }
      this.#inbox = rest;
      const durableTerm = this.#durableTermVote.term;
      const beats = this.#rn.takeMessages((m) => isHeartbeat(m) && m.term === durableTerm);
      if (beats.length > 0) this.#config.transport.send(beats);
    } catch (err) {
      this.#stopOnFatal(err);
    }
  }

  #drainInbox(): void {
    const ticks = this.#ticks;
    this.#ticks = 0;
    for (let i = 0; i < ticks; i++) this.#rn.tick();
    const items = this.#inbox;
    this.#inbox = [];
    const proposals: { seq: number; data: Uint8Array }[] = [];
    // Proposals past the byte budget of one Ready wait, in order, ahead of what arrives next.
    const bytesMax = this.#config.readyProposalBytesMax ?? LIMITS.node.readyProposalBytesMax;
    let bytes = 0;
    const later: InboxItem[] = [];
    for (const item of items) {
      if (item.kind !== 'propose') this.#stepItem(item);
      else if (bytes >= bytesMax) later.push(item);
      else {
        const data = encodeProposal(this.id, item.seq, item.command);
        bytes += data.byteLength;
        proposals.push({ seq: item.seq, data });
      }
    }
    if (later.length > 0) this.#inbox = later.concat(this.#inbox);
    const batchMax = this.#config.proposalBatchMax ?? LIMITS.node.proposalBatchMax;
    for (let i = 0; i < proposals.length; i += batchMax) this.#proposeBatch(proposals.slice(i, i + batchMax));
  }

  #stepItem(item: Exclude<InboxItem, { kind: 'propose' }>): void {
    this.#taken(item.kind, () => {
      switch (item.kind) {
        case 'message':
          if (this.#mustNotVote(item.message)) return;
          this.#rn.step(item.message);
          return;
        case 'conf-change':
          this.#rn.proposeConfChange(item.cc);
          return;
        case 'read':
          this.#rn.readIndex(item.context);
          return;
        case 'transfer':
          this.#rn.transferLeader(item.to);
          return;
        case 'campaign':
          this.#rn.campaign();
          return;
        case 'snapshot-status':
          this.#rn.reportSnapshot(item.to, item.ok);
          return;
      }
    });
  }

  /**
   * Runs `step` (one call into the core); false when the core refused it. Operating errors of the
   * core (a dropped proposal, a message from a removed peer) are expected and logged; anything
   * else is a bug and propagates.
   */
  #taken(kind: string, step: () => void): boolean {
    try {
      step();
      return true;
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
      this.#log(`member ${this.id}: ${kind} not taken: ${err.message}`);
      return false;
    }
  }

  /**
   * A member that knows no configuration yet (a joiner, or one whose data directory was wiped)
   * may have forgotten a vote it cast in the current term; it casts none until it has caught up
   * far enough to know the members, so it can never vote twice in one term.
   */
  #mustNotVote(m: Message): boolean {
    if (m.type !== MessageType.Vote && m.type !== MessageType.PreVote) return false;
    return this.#rn.status().config.voters.length === 0;
  }

  #proposeBatch(batch: { seq: number; data: Uint8Array }[]): void {
    try {
      this.#rn.proposeBatch(batch.map((p) => p.data));
      if (this.#config.unsafeAckBeforeCommit === true) for (const p of batch) this.#proposals.settle(p.seq, { ok: true });
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
      for (const p of batch) this.#proposals.settle(p.seq, undefined, new KvcError('KVC_PROPOSAL_DROPPED', { detail: err.message, cause: err }));
    }
  }

  async #handleReady(): Promise<void> {
    const rd = this.#rn.ready();
    // Appends and heartbeats leave before this Ready is persisted, so the followers write while
    // the leader does (Raft thesis §10.2.1); everything else waits for the fdatasync below.
    const { early, late } = splitEarlyMessages(rd, this.#durableTermVote);
    if (early.length > 0) this.#config.transport.send(early);
    const saveStart = performance.now();
    // Committed entries this member already holds durably are applied while the WAL saves this
    // Ready, not after: the save (an fdatasync) was most of a leader's Ready, and every put waited
    // for both in turn. The rest, entries that become durable only with this save (a follower
    // told to commit what it just received, or what overwrites its tail), are applied after it,
    // so the store never gets ahead of its own WAL.
    const { durable, rest } = splitCommittedByDurability(rd, this.#wal.lastIndex());
    let saveSeconds = 0;
    const saving = this.#wal.save({
      ...(rd.hardState ? { hardState: rd.hardState } : {}),
      entries: rd.entries,
      ...(rd.snapshot ? { snapshot: rd.snapshot } : {}),
      // Only new entries, a snapshot, or a new term or vote must be durable before the messages
      // leave; a Ready that only moves the commit index is written without an fdatasync.
      sync: rd.mustSync,
    }).then(() => {
      saveSeconds = (performance.now() - saveStart) / 1000;
    });
    const applying = this.#apply(durable);
    this.#applyChain = applying;
    // From here until the save ends, followers' acknowledgements are stepped as they come and what
    // they commit is applied at once, after `durable` (#commitWhileBusy).
    this.#earlyApplyLimit = earlyApplyLimit(rd, rest);
    // Either failing stops the member, once both have ended.
    const [saved] = await Promise.allSettled([saving, applying]);
    this.#earlyApplyLimit = undefined;
    const [applied] = await Promise.allSettled([this.#applyChain]);
    if (saved.status === 'rejected') throw saved.reason;
    if (applied.status === 'rejected') throw applied.reason;
    if (rd.hardState !== undefined) this.#durableTermVote = { term: rd.hardState.term, vote: rd.hardState.vote };
    if (this.#spans !== undefined && !this.#spans.idle) this.#traceEntries(this.#spans, 'appended', rd.entries);
    if (rd.entries.length > 0 || rd.hardState !== undefined) {
      notify(this.#config.observer, (o) => o.walSaved?.(saveSeconds, rd.entries.reduce((sum, e) => sum + e.data.byteLength, 0), rd.mustSync));
    }
    if (rd.softState !== undefined && rd.softState.leader !== this.#seenLeader) {
      const leader = (this.#seenLeader = rd.softState.leader);
      notify(this.#config.observer, (o) => o.leaderChanged?.(leader));
    }
    if (rd.softState && rd.softState.state !== StateType.Leader) this.#failPendingOnLeadershipLoss();
    // After this Ready is handled the core accepts proposals as leader.
    if (rd.softState?.state === StateType.Leader) queueMicrotask(() => this.#capacity.becameLeader());
    this.#sendMessages(late);
    await this.#apply(rest);
    this.#reads.noteReadStates(rd.readStates);
    this.#rn.advance();
    this.#reads.serve(this.#store.appliedIndex());
    if (this.#compaction.due(this.#wal.stats())) await this.#compact();
  }

  #sendMessages(messages: Message[]): void {
    const plain: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.Snap) this.#snapshots.send(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.#config.transport.send(plain);
  }

  /** Installs the leader's store image, then steps its MsgSnap so the core moves past it. */
  async #receiveSnapshot(message: Message, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    this.#assertServing();
    await this.#snapshots.receive(chunks);
    this.#enqueue({ kind: 'message', message });
  }

  /** Closes the store, runs `install` with nothing else using it, and reopens it on every outcome. */
  async #replaceStore(install: (dir: string, minAppliedIndex: number) => Promise<void>): Promise<void> {
    await this.#gate.exclusive(async () => {
      // A member stopped or crashed meanwhile (stop() and crash() wait for the gate, then close
      // the store): an install that got the gate after them would reopen LevelDB behind their
      // back, and the next start of the member would find its lock held.
      if (this.#closed) throw this.#stoppedError();
      const minAppliedIndex = this.#store.appliedIndex();
      await this.#store.close();
      try {
        await install(path.join(this.#config.dataDir, 'store'), minAppliedIndex);
      } finally {
        // The cached pages described the old state (an installed image may lack some of them).
        // Dropped on every outcome: a failed install is rare, and a cold tier is only slower.
        this.#tier.clear();
        if (!this.#closed) {
          this.#store = await openStore(this.#config, this.#tier, (events, index) => this.#watchRing.append(events, index), this.#sharedLookup.index);
          // An installed image skipped the entries between the two indexes: their events are
          // unknown, so watchers from before it must relist (KVC_WATCH_COMPACTED).
          if (this.#store.appliedIndex() !== minAppliedIndex) this.#watchRing.reset(this.#store.appliedIndex());
        }
      }
    });
  }

  async #apply(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    if (entries.some((e) => e.type === EntryType.ConfChange)) {
      // After the whole batch: a bootstrap applies AddVoter 1, 2, 3 in turn, and member 1 is not
      // alone just because it is first.
      queueMicrotask(() => this.#campaignIfSoleVoter(this.#rn.status().config));
    }
    const applied = this.#store.appliedIndex();
    const items: ApplyItem[] = [];
    const owners: (number | undefined)[] = [];
    for (const e of entries) {
      this.#compaction.noteEntry(e);
      if (e.type === EntryType.ConfChange) this.#applyConfChange(e);
      // The store already holds entries up to its applied index (replay after restart, or a
      // snapshot image newer than the Raft snapshot): applying them again is skipped.
      if (e.index <= applied) continue;
      if (e.type === EntryType.ConfChange || e.data.byteLength === 0) {
        items.push({ index: e.index, command: null });
        owners.push(undefined);
        continue;
      }
      const proposal = decodeProposal(e.data);
      items.push({ index: e.index, command: proposal.command, source: this.#sourceOf(e) });
      owners.push(proposal.proposer === this.id ? proposal.seq : undefined);
    }
    if (items.length === 0) return;
    const spans = this.#spans !== undefined && !this.#spans.idle ? this.#spans : undefined;
    if (spans !== undefined) this.#traceEntries(spans, 'committed', entries);
    const results = await this.#gate.shared(() => this.#store.apply(items));
    results.forEach((result, i) => {
      const seq = owners[i];
      if (seq === undefined) return;
      spans?.event(seq, 'applied', { 'raft.index': items[i]!.index });
      this.#proposals.settle(seq, result);
    });
    // At once, not at the next tick: a payload kept up to a tick longer outlived young-generation
    // GCs, and each one freed later took a full GC (docs/BENCHMARKS.md, peers).
    this.#releaseReplicatedEntries();
  }

  /**
   * Where entry `e`'s data lies in the WAL, for the store to keep its large payloads there (value
   * log). Only an entry the WAL made durable is applied (splitCommittedByDurability), so the
   * bytes there are on disk; a store command's entries are never overwritten once committed.
   */
  #sourceOf(e: Entry): EntrySource | undefined {
    if (!this.#payloadsInWal) return undefined;
    const at = this.#wal.entryDataAt(e.index);
    return at === undefined ? undefined : { data: e.data, at };
  }

  /** Marks the step `name` on the spans of this member's proposals among `entries` (tracing only). */
  #traceEntries(spans: ProposalSpans, name: 'appended' | 'committed', entries: Entry[]): void {
    for (const e of entries) {
      const seq = e.type === EntryType.Normal ? proposalSeqOf(e.data, this.id) : undefined;
      if (seq !== undefined) spans.event(seq, name, { 'raft.index': e.index, 'raft.term': e.term });
    }
  }

  /** A one-member cluster needs no election timeout: nobody else could be leader. */
  #campaignIfSoleVoter(cs: ConfState): void {
    if (cs.voters.length === 1 && cs.voters[0] === this.id && this.leader() === NONE) this.#enqueue({ kind: 'campaign' });
  }

  #applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.data);
    const cs = this.#rn.applyConfChange(cc);
    this.#log(`member ${this.id} applied conf change ${ConfChangeType[cc.type]} ${cc.nodeId} at ${e.index}: voters [${cs.voters}] learners [${cs.learners}]`);
    this.#config.onConfChange?.(cc, cs);
  }

  #failPendingOnLeadershipLoss(): void {
    // The entries may still commit under the next leader; the outcome is unknown to us. Puts are
    // idempotent, so the client's retry is safe.
    this.#proposals.failAll(() => new KvcError('KVC_NOT_LEADER', { detail: `leadership lost; outcome unknown, retry (leader is ${this.leader() || 'unknown'})` }));
  }

  async #compact(): Promise<void> {
    this.#compaction.started();
    const applied = Math.min(this.#store.appliedIndex(), this.#rn.status().applied);
    if (applied <= this.#wal.snapshot().metadata.index) return;
    // Make the store durable up to its applied index first: WAL entries below the snapshot are
    // then no longer needed for recovery.
    if (this.#config.fsync ?? true) await this.#gate.shared(() => this.#store.flush());
    this.#wal.createSnapshot(applied, this.#rn.status().config, new Uint8Array(0));
    const compactTo = Math.max(this.#wal.firstIndex(), this.#compaction.tailStart(applied));
    await this.#wal.compact(compactTo);
    this.#compaction.finished(this.#wal.stats().bytes);
    this.#log(`member ${this.id} compacted the WAL: snapshot at ${applied}, log from ${compactTo}`);
  }

  #notLeaderError(): KvcError {
    const leader = this.leader();
    if (leader === NONE) return new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} knows no leader yet` });
    return new KvcError('KVC_NOT_LEADER', { detail: `leader is member ${leader}` });
  }

  #proposeConfChange(cc: ConfChange): void {
    this.#assertServing();
    if (!this.isLeader()) throw this.#notLeaderError();
    this.#enqueue({ kind: 'conf-change', cc });
  }

  #assertServing(): void {
    if (this.#stopped) throw this.#stoppedError();
  }

  #stoppedError(): KvcError {
    return new KvcError('KVC_NO_LEADER', { detail: `member ${this.id} is stopped` });
  }

  #halt(error: Error): void {
    this.#stopped = true;
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    if (this.#capacityTimer !== undefined) clearInterval(this.#capacityTimer);
    this.#config.transport.unregister(this.id);
    this.#notify();
    this.#proposals.failAll(() => error);
    this.#reads.failAll(error);
  }
}
