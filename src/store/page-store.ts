// The replicated state machine: KV-cache pages in LevelDB (layout in keys.ts), changed only by
// committed Raft entries through `apply`, each call one atomic LevelDB batch that also records
// the applied index. Because the applied index and the data move together, a node that crashes
// restarts Raft at `appliedIndex()` and never applies an entry twice or skips one.
//
// Reads (`getPage`, `lookup`, `digest`, `snapshotReader`) go straight to LevelDB and see only
// whole batches. `readPage` goes through the memory tier (memory-tier.ts) first: a hit is served
// from the arena, a miss from LevelDB and promoted. The store keeps the tier true to LevelDB: every
// batch that deletes, evicts or drops pages invalidates their cached copies once it is written.
// Per-namespace stats live in memory, loaded at open from the `n` records and updated after each
// batch is durable.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32c } from '../codec/index.js';
import { pageSetDigest } from '../codec/index.js';
import type { Command, PageMeta } from '../codec/index.js';
import type { AppliedListener } from './cache-events.js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { ApplyBatch } from './apply-batch.js';
import type { ApplyResult, EntrySource } from './apply-batch.js';
import {
  APPLIED_INDEX_KEY,
  BLOB_MARK_KEY,
  COUNTERS_KEY,
  FAMILY_BLOB,
  FAMILY_BLOB_MARK,
  FAMILY_META,
  FAMILY_NS_COUNTERS,
  FAMILY_NS_SETTINGS,
  FAMILY_NS_STATS,
  FAMILY_PAYLOAD,
  FAMILY_PIN,
  FAMILY_REMOVALS,
  SETTINGS_KEY,
  familyRange,
  indexFromRemovalKey,
  namespaceRange,
  nsFromRecordKey,
  nsFromStatsKey,
  nsOfPageKey,
  pageKey,
  pageKeyOf,
  removalKey,
  withFamily,
} from './keys.js';
import { BlobFiles, decodeBlobMark, decodeBlobRef, durableUnder, encodeBlobMark, encodeBlobRef } from './blob/index.js';
import type { BlobMark, BlobRef, BlobStats } from './blob/index.js';
import { collectOneFile } from './blob/blob-gc.js';
import { StoreDamagedError, openLevel } from './level.js';
import type { StoreDb } from './level.js';
import { ZERO_COUNTERS, decodeCounters, decodeMeta, decodeNsStats, decodeRemoval, decodeU64, encodeU64 } from './records.js';
import type { NsStats, RemovalCounters, RemovalRecord } from './records.js';
import { PageIndex, type IndexedPage } from './page-index.js';
import type { SharedLookupIndex } from './shared-lookup-index.js';
import { DEFAULT_NS_SETTINGS, DEFAULT_SETTINGS, decodeNsSettings, decodeSettings, sameSettings } from './settings.js';
import type { ClusterSettings, NamespaceSettings } from './settings.js';
import { installSnapshot, recoverSwap } from './snapshot-install.js';
import type { Logger } from './snapshot-install.js';
import { MemoryTier, type PageLease } from './memory-tier.js';
import { ChunkWriter } from './snapshot-stream.js';
import type { ChunkChecksums, SnapshotChunk } from './snapshot-stream.js';

/** Bytes an iterator buffers per native call while streaming the whole store. */
const SCAN_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Removal records kept (ListRemovals); older ones are trimmed, the same way on every replica. */
export const REMOVAL_RECORD_ENTRIES_MAX = LIMITS.eviction.removalRecordEntries;
/** Most removal records one ListRemovals answer returns. */
export const REMOVALS_PER_CALL_MAX = LIMITS.eviction.removalsPerCallMax;

export interface PageStoreOptions {
  dir: string;
  /**
   * The byte budget until a `set-config` command sets one (default DEFAULT_SETTINGS, 4 GiB). It
   * is part of the state machine's rules: every replica must pass the same value. Members use the
   * default; tests pass small ones.
   */
  budgetBytes?: number;
  /**
   * Removal records kept (default LIMITS.eviction.removalRecordEntries). A rule of the state
   * machine like `budgetBytes`: every replica must pass the same value; tests pass small ones.
   */
  removalRecordEntries?: number;
  /** fsync every apply batch (default true). Off only for tests and benchmarks that say so. */
  sync?: boolean;
  /**
   * fdatasync the blob file before the batch that indexes its new payloads (default true), so a
   * ref never points at bytes that are not on disk. `sync: true` implies it. A member turns it
   * off: its WAL makes a put durable, `flush()` (before the WAL drops entries) syncs the blob
   * files and records the BlobMark, and after a power loss the refs past that mark are checked at
   * open (`unsyncedDamage()`) and rewritten from the WAL.
   */
  blobSync?: boolean;
  /** Payloads at or above this go to blob files (default LIMITS.store.blobThresholdBytes). */
  blobThresholdBytes?: number;
  /** Size at which the active blob file rotates (default LIMITS.store.blobFileBytes). */
  blobFileBytes?: number;
  /**
   * Background blob GC: how often it looks (default LIMITS.store.blobGcIntervalMs; 0 = only when
   * `runGc()` is called), the live fraction under which a file is collected and the copy rate.
   */
  blobGc?: { intervalMs?: number; liveRatio?: number; bytesPerSecond?: number };
  logger?: Logger;
  /**
   * The memory tier `readPage` uses (default: none, every read goes to LevelDB). The owner (the
   * member) creates and closes it; it outlives the store across a snapshot install, and the
   * owner clears it then.
   */
  tier?: MemoryTier;
  /** Where snapshot chunk checksums are computed (the member's work pool); default: inline. */
  checksums?: ChunkChecksums;
  /** Told of each applied batch's page-set changes once it is durable (the member's watch ring). */
  onApplied?: AppliedListener;
  /**
   * The same-host lookup index (shared-lookup-index.ts): rebuilt from this store's page index when
   * it opens, then told of every page added or removed, a batch at a time. The owner (the member)
   * creates and closes it; it outlives the store across a snapshot install.
   */
  sharedLookup?: SharedLookupIndex;
}

/** One stored page as ListPages returns it. */
export interface ListedPage {
  ns: string;
  key: Uint8Array;
  parentKey: Uint8Array | undefined;
  bytes: number;
  tokens: number;
}

/** Where a listing goes on: after this page (ListPages' page token carries it). */
export interface ListPosition {
  ns: string;
  key: Uint8Array;
}

/** A store image as a chunk stream that can be released without iterating it (snapshotReader). */
export type SnapshotReader = AsyncIterable<SnapshotChunk> & { close(): Promise<void> };

export interface ApplyItem {
  index: number;
  /** `null` for an entry that is not a store command (empty entry, conf change): only moves appliedIndex. */
  command: Command | null;
  /**
   * The entry the command was decoded from and where its data lies in the member's WAL (durable
   * there): large payloads are then referenced in the WAL segment instead of written again.
   */
  source?: EntrySource | undefined;
}

export interface StoreStats {
  pages: number;
  bytes: number;
  namespaces: Record<string, { pages: number; bytes: number }>;
  /** Removed by eviction and expiry since the store was created (replicated counters). */
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
}

/** One namespace's replicated figures: stats, settings and removal counters. */
export interface NamespaceInfo extends NsStats, NamespaceSettings, RemovalCounters {
  ns: string;
}

/** What the open store loaded besides the pages. */
interface LoadedState {
  appliedIndex: number;
  nsStats: Map<string, NsStats>;
  settings: ClusterSettings;
  nsSettings: Map<string, NamespaceSettings>;
  counters: RemovalCounters;
  nsCounters: Map<string, RemovalCounters>;
  index: PageIndex;
  removals: number;
}

const OK: ApplyResult = Object.freeze({ ok: true });

export class PageStore {
  readonly #db: StoreDb;
  readonly #blobs: BlobFiles;
  readonly #sync: boolean;
  readonly #blobSync: boolean;
  readonly #blobThresholdBytes: number;
  readonly #gcLiveRatio: number;
  readonly #gcBytesPerSecond: number;
  readonly #gcTimer: NodeJS.Timeout | undefined;
  #gcRun: Promise<number> | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  readonly #tier: MemoryTier;
  readonly #checksums: ChunkChecksums | undefined;
  readonly #removalRecordEntries: number;
  readonly #onApplied: AppliedListener | undefined;
  #appliedIndex: number;
  #nsStats: Map<string, NsStats>;
  #settings: ClusterSettings;
  readonly #nsSettings: Map<string, NamespaceSettings>;
  #counters: RemovalCounters;
  readonly #nsCounters: Map<string, RemovalCounters>;
  readonly #index: PageIndex;
  readonly #sharedLookup: SharedLookupIndex | undefined;
  /** Removal records in the database. */
  #removals: number;
  #totalBytes = 0;
  #totalPages = 0;
  /** The tail of the apply queue: calls run one after another, in call order. */
  #applyTail: Promise<unknown> = Promise.resolve();
  /** Pages past the blob mark whose payload failed its check at open (see `unsyncedDamage`). */
  #unsyncedDamage: UnsyncedDamage[] = [];

  private constructor(db: StoreDb, blobs: BlobFiles, o: PageStoreOptions, loaded: LoadedState) {
    this.#db = db;
    this.#blobs = blobs;
    this.#sync = o.sync ?? true;
    this.#blobSync = this.#sync || (o.blobSync ?? true);
    this.#blobThresholdBytes = o.blobThresholdBytes ?? LIMITS.store.blobThresholdBytes;
    this.#gcLiveRatio = o.blobGc?.liveRatio ?? LIMITS.store.blobGcLiveRatio;
    this.#gcBytesPerSecond = o.blobGc?.bytesPerSecond ?? LIMITS.store.blobGcBytesPerSecond;
    const gcIntervalMs = o.blobGc?.intervalMs ?? LIMITS.store.blobGcIntervalMs;
    this.#gcTimer = gcIntervalMs > 0 ? setInterval(() => void this.runGc().catch((e: unknown) => (o.logger ?? (() => undefined))(`store: blob GC failed: ${String(e)}`)), gcIntervalMs).unref() : undefined;
    this.#tier = o.tier ?? MemoryTier.disabled();
    this.#checksums = o.checksums;
    this.#removalRecordEntries = o.removalRecordEntries ?? REMOVAL_RECORD_ENTRIES_MAX;
    this.#onApplied = o.onApplied;
    this.#appliedIndex = loaded.appliedIndex;
    this.#nsStats = loaded.nsStats;
    this.#settings = loaded.settings;
    this.#nsSettings = loaded.nsSettings;
    this.#counters = loaded.counters;
    this.#nsCounters = loaded.nsCounters;
    this.#index = loaded.index;
    this.#sharedLookup = o.sharedLookup;
    if (this.#sharedLookup !== undefined) {
      this.#sharedLookup.rebuild(this.#index.pageIds());
      this.#index.setMirror(this.#sharedLookup);
    }
    this.#removals = loaded.removals;
    for (const stats of loaded.nsStats.values()) {
      this.#totalBytes += stats.bytes;
      this.#totalPages += stats.pages;
    }
    assert.equal(this.#index.pages, this.#totalPages, 'page index and namespace stats disagree on the page count');
  }

  static async open(o: PageStoreOptions): Promise<PageStore> {
    assert.ok(o.budgetBytes === undefined || (Number.isSafeInteger(o.budgetBytes) && o.budgetBytes >= 0), 'budgetBytes must be a non-negative integer');
    const log = o.logger ?? (() => undefined);
    await mkdir(dirname(o.dir), { recursive: true });
    await recoverSwap(o.dir, log);
    const db = await openLevel(o.dir, { createIfMissing: true, errorIfExists: false });
    let blobs: BlobFiles | undefined;
    try {
      const defaults: ClusterSettings = { ...DEFAULT_SETTINGS, ...(o.budgetBytes === undefined ? {} : { budgetBytes: o.budgetBytes }) };
      blobs = await BlobFiles.open(o.dir, { fileBytes: o.blobFileBytes ?? LIMITS.store.blobFileBytes });
      const opened = blobs;
      // Every record but the payloads is read and decoded here: one that does not decode, or
      // records that contradict each other (the page index against the namespace stats), mean
      // the files are damaged, and the whole store is untrusted (StoreDamagedError).
      return await asDamage(async () => {
        const mark = await blobMark(db, opened);
        opened.reserveIdsThrough(mark.fileId);
        // Refs only (20 bytes each), never payloads: this scan stays small. Refs past the mark
        // were appended after the last fdatasync: a power loss may have taken their bytes. So may
        // damage to a WAL segment the store references (value log: the WAL cuts a damaged tail,
        // and every later segment when it repairs): refs past their file's end are suspects too.
        const suspects: { dbKey: Uint8Array; ref: BlobRef }[] = [];
        for await (const [dbKey, value] of db.iterator({ ...familyRange(FAMILY_BLOB), fillCache: false })) {
          const ref = decodeBlobRef(value);
          const trusted = opened.covers(ref) && (opened.walLinked(ref.fileId) || durableUnder(ref, mark));
          if (!trusted) suspects.push({ dbKey, ref });
          opened.addLive(ref, !trusted);
        }
        const store = new PageStore(db, opened, o, await loadState(db, defaults));
        if (suspects.length > 0) {
          store.#unsyncedDamage = await damagedAmong(opened, suspects);
          // What the last run wrote past its mark may be in the page cache only: on disk before
          // the next mark vouches for it.
          await opened.syncFilesFrom(mark.fileId);
        }
        return store;
      });
    } catch (error) {
      try {
        await blobs?.close();
      } finally {
        // LevelDB closes whatever the blob files did, or its lock outlives this failed open.
        await db.close();
      }
      throw error;
    }
  }

  /**
   * Replaces the store at `dir` with the state in `chunks` (a stream from `snapshotReader`). The
   * store at `dir` must be closed first and reopened after. On any failure the old state is left
   * as it was and the error is thrown; see snapshot-install.ts for the crash-safe swap.
   */
  static async installSnapshot(
    dir: string,
    chunks: AsyncIterable<SnapshotChunk>,
    options: { logger?: Logger; minAppliedIndex?: number; checksums?: ChunkChecksums } = {},
  ): Promise<{ installed: boolean; appliedIndex: number }> {
    await mkdir(dirname(dir), { recursive: true });
    return installSnapshot(dir, chunks, options.logger ?? (() => undefined), options.minAppliedIndex ?? -1, options.checksums);
  }

  appliedIndex(): number {
    return this.#appliedIndex;
  }

  /**
   * Applies committed entries in order as ONE atomic LevelDB batch that also records
   * appliedIndex = the last item's index. Items at or below the applied index are skipped and
   * answered ok: after a snapshot install the state already holds them (etcd does the same with
   * its consistent index). Calls are queued and run one at a time in call order.
   */
  apply(items: ApplyItem[]): Promise<ApplyResult[]> {
    const run = this.#applyTail.then(() => this.#applyNow(items));
    this.#applyTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Makes every applied batch durable with one synced write (LevelDB fsyncs its log, which holds
   * all earlier unsynced batches too). A member whose WAL makes puts durable applies without sync
   * and flushes here before the WAL drops the entries the store would otherwise need on restart.
   */
  flush(): Promise<void> {
    const run = this.#applyTail.then(async () => {
      // The blob files first: the mark written with the applied index vouches only for synced bytes.
      const mark = await this.#blobs.sync();
      await this.#db.batch(
        [
          { type: 'put', key: APPLIED_INDEX_KEY, value: encodeU64(this.#appliedIndex) },
          { type: 'put', key: BLOB_MARK_KEY, value: encodeBlobMark(mark) },
        ],
        { sync: true },
      );
    });
    this.#applyTail = run.catch(() => undefined);
    return run;
  }

  /**
   * The pages whose blob payload, appended after the last blob mark, failed its crc32c at open:
   * what a power loss took before the blob file was synced (never after a process crash alone:
   * the page cache keeps what was written). They are not served (every read verifies); the
   * member rewrites them from its WAL, which still holds the entries that put them, with
   * `repairPayload`, and anything left goes to the payload repair from peers.
   */
  unsyncedDamage(): readonly UnsyncedDamage[] {
    return this.#unsyncedDamage;
  }

  async #applyNow(items: ApplyItem[]): Promise<ApplyResult[]> {
    const batch = new ApplyBatch(this.#db, {
      nsStats: this.#nsStats,
      totalBytes: this.#totalBytes,
      settings: this.#settings,
      nsSettings: this.#nsSettings,
      counters: this.#counters,
      nsCounters: this.#nsCounters,
      blobThresholdBytes: this.#blobThresholdBytes,
      holds: (ns, key) => this.#index.get(ns, key) !== undefined,
    });
    const results: ApplyResult[] = [];
    let lastIndex = this.#appliedIndex;
    for (const { index, command, source } of items) {
      assert.ok(Number.isSafeInteger(index) && index > 0, `apply: bad entry index ${index}`);
      if (index <= this.#appliedIndex) {
        results.push(OK);
        continue;
      }
      assert.ok(index > lastIndex, `apply: index ${index} does not follow ${lastIndex}`);
      lastIndex = index;
      results.push(command === null ? OK : await batch.apply(command, index, source));
    }
    if (lastIndex === this.#appliedIndex) return results;
    const excess = this.#removals + batch.removalsAdded() - this.#removalRecordEntries;
    const trimmed = excess > 0 ? await this.#oldestRemovalKeys(excess) : [];
    batch.trimRemovals(trimmed);
    // Payloads first, synced (or already durable in the WAL), then the batch that indexes them: a
    // ref never points at missing bytes.
    const blobWrites = batch.blobWrites();
    const refs = await this.#blobs.place(blobWrites, this.#blobSync);
    blobWrites.forEach((write, i) => batch.setBlobRef(write, refs[i]!));
    const ops = batch.finish(lastIndex);
    // Synced appends (every one is, with blobSync): the mark moves with the refs.
    const last = refs.at(-1);
    if (this.#blobSync && last !== undefined) ops.push({ type: 'put', key: BLOB_MARK_KEY, value: encodeBlobMark({ fileId: last.fileId, size: last.offset + last.length }) });
    try {
      await this.#db.batch(ops, { sync: this.#sync });
    } finally {
      // Once LevelDB no longer holds the removed pages (and also when the write failed and the
      // state is unknown), their cached copies go, and misses that read them before are not
      // promoted. Until then a hit serves what LevelDB still serves.
      this.#invalidateRemoved(items);
    }
    // The batch is durable: now the in-memory view may move.
    this.#appliedIndex = lastIndex;
    this.#adoptBatch(batch, trimmed.length);
    for (const ref of refs) this.#blobs.addLive(ref);
    for (const ref of batch.deadRefs()) this.#blobs.dropLive(ref);
    this.#onApplied?.(batch.events(), lastIndex);
    return results;
  }

  #adoptBatch(batch: ApplyBatch, trimmed: number): void {
    for (const [ns, stats] of batch.touchedStats()) {
      const before = this.#nsStats.get(ns) ?? { pages: 0, bytes: 0 };
      this.#totalBytes += stats.bytes - before.bytes;
      this.#totalPages += stats.pages - before.pages;
      if (stats.pages === 0) this.#nsStats.delete(ns);
      else this.#nsStats.set(ns, stats);
    }
    this.#settings = batch.settings();
    this.#counters = batch.counters();
    for (const [ns, settings] of batch.touchedNsSettings()) {
      if (sameSettings(settings, DEFAULT_NS_SETTINGS)) this.#nsSettings.delete(ns);
      else this.#nsSettings.set(ns, settings);
    }
    for (const [ns, counters] of batch.touchedNsCounters()) this.#nsCounters.set(ns, counters);
    for (const effect of batch.effects()) this.#index.apply(effect);
    this.#sharedLookup?.commit();
    this.#removals += batch.removalsAdded() - trimmed;
  }

  /** The keys of the `count` oldest removal records in the database. */
  async #oldestRemovalKeys(count: number): Promise<Uint8Array[]> {
    const keys: Uint8Array[] = [];
    for await (const key of this.#db.keys({ ...familyRange(FAMILY_REMOVALS), limit: count, fillCache: false })) keys.push(key);
    return keys;
  }

  /** A page and its metadata, checksum verified; `undefined` when absent. Never returns corrupt bytes. */
  async getPage(ns: string, key: Uint8Array): Promise<{ meta: PageMeta; data: Uint8Array } | undefined> {
    const metaKey = pageKey(FAMILY_META, ns, key);
    // One getMany reads both records from one implicit snapshot, so they belong to the same batch.
    // The block cache is bypassed: MiB-sized payloads would flush the metadata blocks lookups need,
    // and hot payloads are the memory tier's job.
    // The pin keeps a blob file that GC retires meanwhile until the ref read here has been read.
    const epoch = this.#blobs.pin();
    let metaValue: Uint8Array | undefined;
    let data: Uint8Array | undefined;
    try {
      const [m, p, b] = await this.#db.getMany([metaKey, withFamily(FAMILY_PAYLOAD, metaKey), withFamily(FAMILY_BLOB, metaKey)], { fillCache: false });
      metaValue = m;
      data = b === undefined ? p : await this.#blobs.read(decodeBlobRef(b));
    } finally {
      this.#blobs.unpin(epoch);
    }
    if (metaValue === undefined) return undefined;
    const meta: PageMeta = { ns, key, ...decodeMeta(metaValue) };
    if (data === undefined || data.byteLength !== meta.bytes || crc32c(data) !== meta.crc32c) {
      const found = data === undefined ? 'no payload record' : `${data.byteLength} bytes`;
      throw new KvcError('KVC_CHECKSUM_MISMATCH', { detail: `page in namespace ${ns} (${found}, ${meta.bytes} expected)` });
    }
    return { meta, data };
  }

  /**
   * A lease on a page, from the memory tier when it holds it, else read from LevelDB (checksum
   * verified), promoted into the tier when it has room, and leased from there. `undefined` when
   * absent. Call `release()` when done with the bytes; until then they do not change. With
   * `checkHit` false a hit is handed out without reading it (MemoryTier.get): for a reader that
   * checks its own copy of the bytes. With `count` false the tier counts neither hit nor miss: the
   * same read made again for one request (a hit handed out unchecked, then needed checked).
   */
  async readPage(ns: string, key: Uint8Array, checkHit = true, count = true): Promise<PageLease | undefined> {
    const hit = this.#tier.get(ns, key, checkHit, count);
    if (hit !== undefined) return hit;
    const ticket = this.#tier.startMiss(ns, key);
    let page: Awaited<ReturnType<PageStore['getPage']>>;
    try {
      page = await this.getPage(ns, key);
    } catch (error) {
      this.#tier.abandonMiss(ticket);
      throw error;
    }
    if (page === undefined) {
      this.#tier.abandonMiss(ticket);
      return undefined;
    }
    return this.#tier.finishMiss(ticket, page.meta, page.data, count);
  }

  /**
   * Reads every payload kept in a blob file and checks it against its crc32c (bit rot, a torn
   * copy): the pages whose payload fails, for `repairPayload` with a good copy from a peer. Such a
   * page is never served meanwhile (every read verifies; a failed one is KVC_CHECKSUM_MISMATCH).
   * Inline payloads live in LevelDB records and are checked on every read the same way.
   */
  async scrubBlobs(): Promise<{ ns: string; key: Uint8Array }[]> {
    const damaged: { ns: string; key: Uint8Array }[] = [];
    // One pin for the whole scan, taken before its iterator: every file a ref of it names stays.
    const epoch = this.#blobs.pin();
    try {
      for await (const [dbKey, value] of this.#db.iterator({ ...familyRange(FAMILY_BLOB), fillCache: false })) {
        if (this.#closing) break;
        const page = await unreadablePage(this.#blobs, dbKey, decodeBlobRef(value));
        if (page !== undefined) damaged.push(page);
      }
    } finally {
      this.#blobs.unpin(epoch);
    }
    return damaged;
  }

  /**
   * Replaces the stored payload of a page whose own copy is damaged with `data`, a copy from a
   * peer: only when the page is still here and `data` has the length and crc32c its metadata
   * records (pages are immutable, so that is the same page). Local and not replicated: the
   * metadata, and with it the digest, do not change. A blob payload is appended anew (synced)
   * and its ref swapped in the apply queue, the way blob GC moves one. False when the page is
   * gone ('gone') or `data` is not its payload ('mismatch').
   */
  async repairPayload(ns: string, key: Uint8Array, data: Uint8Array): Promise<'repaired' | 'gone' | 'mismatch'> {
    const metaKey = pageKey(FAMILY_META, ns, key);
    const blobKey = withFamily(FAMILY_BLOB, metaKey);
    const [metaValue, refValue] = await this.#db.getMany([metaKey, blobKey], { fillCache: false });
    if (metaValue === undefined) return 'gone';
    const meta = decodeMeta(metaValue);
    if (data.byteLength !== meta.bytes || crc32c(data) !== meta.crc32c) return 'mismatch';
    const [to] = refValue === undefined ? [undefined] : await this.#blobs.append([{ data, crc32c: meta.crc32c }], true);
    const repaired = await this.#queued(async () => {
      const [m, b] = await this.#db.getMany([metaKey, blobKey], { fillCache: false });
      if (m === undefined || decodeMeta(m).crc32c !== meta.crc32c) return false; // removed or replaced meanwhile
      if (to === undefined) {
        if (b !== undefined) return false;
        await this.#db.put(withFamily(FAMILY_PAYLOAD, metaKey), data, { sync: true });
        return true;
      }
      if (b === undefined) return false;
      await this.#db.put(blobKey, encodeBlobRef(to), { sync: true });
      this.#blobs.addLive(to);
      this.#blobs.dropLive(decodeBlobRef(b));
      return true;
    });
    if (!repaired) return 'gone';
    this.#tier.invalidate(ns, [key]);
    return 'repaired';
  }

  /** Invalidates the tier's copies of the pages that `items` delete, evict or drop. */
  #invalidateRemoved(items: ApplyItem[]): void {
    for (const { command } of items) {
      if (command === null) continue;
      if (command.op === 'delete' || command.op === 'evict' || command.op === 'expire') this.#tier.invalidate(command.ns, command.keys);
      else if (command.op === 'drop-ns') this.#tier.invalidateNamespace(command.ns);
    }
  }

  /** How many leading `keys` are present in `ns` (the longest cached prefix), from the in-memory index. */
  lookup(ns: string, keys: Uint8Array[]): number {
    return this.#index.matchedPages(ns, keys).length;
  }

  /** The stored pages of the longest stored prefix of `keys` (what `lookup` counts). */
  matchedPages(ns: string, keys: Uint8Array[]): IndexedPage[] {
    return this.#index.matchedPages(ns, keys);
  }

  /**
   * The in-memory index of stored pages (page-index.ts): the leader's eviction and expiry read
   * it, and its member-local access times and leases are written through it. It changes only
   * after a batch is durable and is rebuilt when the store is opened.
   */
  get index(): PageIndex {
    return this.#index;
  }

  /** The replicated capacity settings this store enforces. */
  settings(): ClusterSettings {
    return this.#settings;
  }

  namespaceSettings(ns: string): NamespaceSettings {
    return this.#nsSettings.get(ns) ?? DEFAULT_NS_SETTINGS;
  }

  /**
   * Up to `limit` stored pages of `ns` (every namespace when undefined) in key order, after
   * `after` when given, and the applied index the listing shows. It runs in the apply queue, so
   * no batch lands while it reads: the pages are exactly the state at that index.
   */
  listPages(ns: string | undefined, after: ListPosition | undefined, limit: number): Promise<{ pages: ListedPage[]; appliedIndex: number; more: boolean }> {
    return this.#queued(async () => {
      const range = ns === undefined ? familyRange(FAMILY_META) : namespaceRange(FAMILY_META, ns);
      const bounds = after === undefined ? { gte: range.gte, lt: range.lt } : { gt: pageKey(FAMILY_META, after.ns, after.key), lt: range.lt };
      const pages: ListedPage[] = [];
      let more = false;
      for await (const [dbKey, value] of this.#db.iterator({ ...bounds, limit: limit + 1, fillCache: false })) {
        if (pages.length === limit) {
          more = true;
          break;
        }
        const pageNs = nsOfPageKey(dbKey);
        const meta = decodeMeta(value);
        pages.push({ ns: pageNs, key: pageKeyOf(dbKey, pageNs).slice(), parentKey: meta.parentKey, bytes: meta.bytes, tokens: meta.tokens });
      }
      return { pages, appliedIndex: this.#appliedIndex, more };
    });
  }

  /** The page-set digest (src/bytes/page-set-digest.ts) and the applied index it describes. */
  pagesDigest(): Promise<{ digest: string; appliedIndex: number }> {
    return this.#queued(async () => {
      const pages: ListedPage[] = [];
      for await (const [dbKey, value] of this.#db.iterator({ ...familyRange(FAMILY_META), fillCache: false, highWaterMarkBytes: SCAN_HIGH_WATER_BYTES })) {
        const ns = nsOfPageKey(dbKey);
        const meta = decodeMeta(value);
        pages.push({ ns, key: pageKeyOf(dbKey, ns), parentKey: meta.parentKey, bytes: meta.bytes, tokens: meta.tokens });
      }
      return { digest: pageSetDigest(pages), appliedIndex: this.#appliedIndex };
    });
  }

  /** Stored payload bytes of every namespace (cheaper than stats(), for the put path). */
  totalBytes(): number {
    return this.#totalBytes;
  }

  /** Stored bytes of one namespace. */
  namespaceBytes(ns: string): number {
    return this.#nsStats.get(ns)?.bytes ?? 0;
  }

  /** Every namespace with pages, settings or removal counters, sorted by name. */
  namespaces(): NamespaceInfo[] {
    const names = new Set([...this.#nsStats.keys(), ...this.#nsSettings.keys(), ...this.#nsCounters.keys()]);
    return [...names].sort().map((ns) => ({
      ns,
      ...(this.#nsStats.get(ns) ?? { pages: 0, bytes: 0 }),
      ...this.namespaceSettings(ns),
      ...(this.#nsCounters.get(ns) ?? ZERO_COUNTERS),
    }));
  }

  /**
   * Removal records from log index `fromIndex` on, oldest first, at most `limit`; `more` when
   * others follow. `oldestIndex` is the oldest index the bounded record still holds (0 = empty).
   */
  async removals(fromIndex: number, limit: number): Promise<{ removals: RemovalRecord[]; oldestIndex: number; more: boolean }> {
    const take = Math.max(1, Math.min(limit, REMOVALS_PER_CALL_MAX));
    const removals: RemovalRecord[] = [];
    let oldestIndex = 0;
    for await (const key of this.#db.keys({ ...familyRange(FAMILY_REMOVALS), limit: 1, fillCache: false })) oldestIndex = indexFromRemovalKey(key);
    let more = false;
    const range = { gte: removalKey(Math.max(0, fromIndex), 0), lt: familyRange(FAMILY_REMOVALS).lt };
    for await (const [key, value] of this.#db.iterator({ ...range, limit: take + 1, fillCache: false })) {
      if (removals.length === take) {
        more = true;
        break;
      }
      removals.push(decodeRemoval(indexFromRemovalKey(key), value));
    }
    return { removals, oldestIndex, more };
  }

  /**
   * When each key's pin in `ns` expires (ms since the epoch, as the pin commands computed it from
   * their `nowMs`), `undefined` when the key has no pin. Eviction compares this with its own clock.
   */
  async pinExpiries(ns: string, keys: Uint8Array[]): Promise<(number | undefined)[]> {
    const values = await this.#db.getMany(keys.map((key) => pageKey(FAMILY_PIN, ns, key)));
    return values.map((value) => (value === undefined ? undefined : decodeU64(value)));
  }

  stats(): StoreStats {
    const namespaces: Record<string, { pages: number; bytes: number }> = {};
    for (const [ns, stats] of [...this.#nsStats].sort(([a], [b]) => (a < b ? -1 : 1))) namespaces[ns] = { ...stats };
    return { pages: this.#totalPages, bytes: this.#totalBytes, namespaces, ...this.#counters };
  }

  /**
   * sha256 over every key and value in key order (appliedIndex included), each length-prefixed,
   * except payloads: 'b' values are member-local locations (GC moves them), and whether a payload
   * is inline ('p') or in a blob file depends on when and how the member stored it. A page's
   * payload identity is in its 'm' record (bytes and crc32c), which every read verifies against.
   */
  async digest(): Promise<string> {
    const hash = createHash('sha256');
    const lengths = new DataView(new ArrayBuffer(8));
    const iterator = this.#db.iterator({ fillCache: false, highWaterMarkBytes: SCAN_HIGH_WATER_BYTES });
    for await (const [key, value] of iterator) {
      if (key[0] === FAMILY_BLOB || key[0] === FAMILY_PAYLOAD || key[0] === FAMILY_BLOB_MARK) continue;
      lengths.setUint32(0, key.byteLength);
      lengths.setUint32(4, value.byteLength);
      hash.update(new Uint8Array(lengths.buffer));
      hash.update(key);
      hash.update(value);
    }
    return hash.digest('hex');
  }

  /**
   * The whole store as a chunk stream. The LevelDB iterator is created now, and with it the
   * implicit snapshot it reads, so the stream is one consistent state even while applies go on;
   * its applied index is in the final chunk (the node must use that one, not `appliedIndex()`
   * read at another moment). The reader holds that iterator and the blob files its refs point to
   * until it is iterated to the end, broken out of, or `close()`d — call `close()` when done with
   * it in any case (a transfer that failed before its first chunk never iterates it); it is
   * idempotent.
   */
  snapshotReader(): SnapshotReader {
    const iterator = this.#db.iterator({ fillCache: false, highWaterMarkBytes: SCAN_HIGH_WATER_BYTES });
    // Pinned with the iterator: the blob files its refs point to stay until the stream ends.
    const blobs = this.#blobs;
    const epoch = blobs.pin();
    const checksums = this.#checksums;
    let released: Promise<void> | undefined;
    const release = (): Promise<void> => {
      released ??= (async () => {
        blobs.unpin(epoch);
        await iterator.close();
      })();
      return released;
    };
    let started = false;
    const chunks = (async function* streamChunks(): AsyncGenerator<SnapshotChunk> {
      started = true;
      const writer = new ChunkWriter(checksums);
      let appliedIndex = 0;
      try {
        for await (const [key, value] of iterator) {
          if (key.byteLength === 1 && key[0] === APPLIED_INDEX_KEY[0]) appliedIndex = decodeU64(value);
          // Where this member's blob files were last synced means nothing to the receiver.
          if (key[0] === FAMILY_BLOB_MARK) continue;
          // Refs are member-local: the payload travels, as a 'p' record the receiver re-files.
          if (key[0] === FAMILY_BLOB) yield* await writer.addAsync({ key: withFamily(FAMILY_PAYLOAD, key), value: await blobs.read(decodeBlobRef(value)) });
          else yield* await writer.addAsync({ key, value });
        }
      } finally {
        await release();
      }
      yield await writer.finishAsync(appliedIndex);
    })();
    return Object.assign(chunks, {
      // A generator never started runs no `finally` when returned: release directly then.
      close: async (): Promise<void> => {
        if (started) await chunks.return(undefined);
        await release();
      },
    });
  }

  /** Blob file figures for status: bytes on disk, garbage among them, files, GC runs. */
  blobStats(): BlobStats {
    return this.#blobs.stats();
  }

  /**
   * Collects blob files whose live fraction is below the GC threshold, one after another; returns
   * how many it collected. Payloads are copied outside the apply queue (rate-bounded); only the
   * ref rewrite is queued, so puts wait for one small batch at most. Runs once at a time.
   */
  runGc(): Promise<number> {
    this.#gcRun ??= this.#collectAll().finally(() => (this.#gcRun = undefined));
    return this.#gcRun;
  }

  async #collectAll(): Promise<number> {
    let collected = 0;
    while (!this.#closing) {
      const done = await collectOneFile({
        db: this.#db,
        blobs: this.#blobs,
        liveRatio: this.#gcLiveRatio,
        bytesPerSecond: this.#gcBytesPerSecond,
        queued: (fn) => this.#queued(fn),
        stopped: () => this.#closing,
      });
      if (!done) break;
      collected++;
    }
    return collected;
  }

  /** Runs `fn` in the apply queue, ordered with applies. */
  #queued<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#applyTail.then(fn);
    this.#applyTail = run.catch(() => undefined);
    return run;
  }

  /** Closes the blob files and LevelDB; a second call waits for the first (a member's stop after an install it cut short). */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    if (this.#gcTimer !== undefined) clearInterval(this.#gcTimer);
    await this.#gcRun?.catch(() => undefined);
    await this.#applyTail;
    try {
      await this.#blobs.close();
    } finally {
      // Whatever the blob files did: LevelDB closes, so its lock and background work end here.
      await this.#db.close();
    }
  }
}

/** A page whose blob payload, past the blob mark, failed its check at open. */
export interface UnsyncedDamage {
  ns: string;
  key: Uint8Array;
  /** The payload's crc32c (its metadata's): the copy that repairs it must match. */
  crc32c: number;
}

/**
 * The store's blob mark. A store without one (created just now, installed from a snapshot, or
 * written before marks, when every append was synced) is synced up to its files' ends: that is
 * recorded before any append, so that every later one is past it until the first flush.
 */
async function blobMark(db: StoreDb, blobs: BlobFiles): Promise<BlobMark> {
  const [value] = await db.getMany([BLOB_MARK_KEY]);
  if (value !== undefined) return decodeBlobMark(value);
  const mark = blobs.endMark();
  await db.put(BLOB_MARK_KEY, encodeBlobMark(mark), { sync: true });
  return mark;
}

/** The suspects whose payload does not read back whole with its crc32c. */
async function damagedAmong(blobs: BlobFiles, suspects: { dbKey: Uint8Array; ref: BlobRef }[]): Promise<UnsyncedDamage[]> {
  const damaged: UnsyncedDamage[] = [];
  for (const { dbKey, ref } of suspects) {
    const page = await unreadablePage(blobs, dbKey, ref);
    if (page !== undefined) damaged.push({ ...page, crc32c: ref.crc32c });
  }
  return damaged;
}

/** The page of blob record `dbKey` when its payload at `ref` does not read back whole with its crc32c; undefined when it does. */
async function unreadablePage(blobs: BlobFiles, dbKey: Uint8Array, ref: BlobRef): Promise<{ ns: string; key: Uint8Array } | undefined> {
  try {
    await blobs.read(ref);
    return undefined;
  } catch (error) {
    if (!(error instanceof KvcError) || error.code !== 'KVC_CHECKSUM_MISMATCH') throw error;
    const ns = nsOfPageKey(dbKey);
    return { ns, key: pageKeyOf(dbKey, ns) };
  }
}

/** Reads what the store keeps in memory: stats, settings, counters, the page index, the removal count. */
/** Runs `load`; any failure of it is the store's damage (the cause kept). */
async function asDamage<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof StoreDamagedError) throw error;
    throw new StoreDamagedError(`the store's records do not load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

async function loadState(db: StoreDb, defaults: ClusterSettings): Promise<LoadedState> {
  const applied = await db.get(APPLIED_INDEX_KEY);
  const settings = await db.get(SETTINGS_KEY);
  const counters = await db.get(COUNTERS_KEY);
  const nsStats = new Map<string, NsStats>();
  for await (const [key, value] of db.iterator({ ...familyRange(FAMILY_NS_STATS), fillCache: false })) nsStats.set(nsFromStatsKey(key), decodeNsStats(value));
  const nsSettings = new Map<string, NamespaceSettings>();
  for await (const [key, value] of db.iterator({ ...familyRange(FAMILY_NS_SETTINGS), fillCache: false })) {
    nsSettings.set(nsFromRecordKey(key, FAMILY_NS_SETTINGS), decodeNsSettings(value));
  }
  const nsCounters = new Map<string, RemovalCounters>();
  for await (const [key, value] of db.iterator({ ...familyRange(FAMILY_NS_COUNTERS), fillCache: false })) {
    nsCounters.set(nsFromRecordKey(key, FAMILY_NS_COUNTERS), decodeCounters(value));
  }
  const index = new PageIndex();
  for await (const [key, value] of db.iterator({ ...familyRange(FAMILY_META), fillCache: false, highWaterMarkBytes: SCAN_HIGH_WATER_BYTES })) {
    const ns = nsOfPageKey(key);
    index.apply({ kind: 'put', ns, key: pageKeyOf(key, ns), meta: decodeMeta(value) });
  }
  for await (const [key, value] of db.iterator({ ...familyRange(FAMILY_PIN), fillCache: false })) {
    const ns = nsOfPageKey(key);
    index.apply({ kind: 'pin', ns, key: pageKeyOf(key, ns), expiresAtMs: decodeU64(value) });
  }
  let removals = 0;
  for await (const key of db.keys({ ...familyRange(FAMILY_REMOVALS), fillCache: false })) if (key.byteLength > 0) removals++;
  return {
    appliedIndex: applied === undefined ? 0 : decodeU64(applied),
    nsStats,
    settings: settings === undefined ? defaults : decodeSettings(settings),
    nsSettings,
    counters: counters === undefined ? { ...ZERO_COUNTERS } : decodeCounters(counters),
    nsCounters,
    index,
    removals,
  };
}
