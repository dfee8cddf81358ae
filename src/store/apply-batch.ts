// The semantics of the store commands, applied to one batch of committed entries. An ApplyBatch
// reads the database as it was before the batch plus its own pending writes, so each command
// sees the effects of the earlier ones, and at the end hands back the whole batch as LevelDB
// operations for one atomic write. It never touches the clock or any other replica-local state:
// times come in the commands, so every replica writes the same bytes for the same commands.

import assert from 'node:assert/strict';
import { crc32c, hex, knownCrc32c } from '../codec/index.js';
import type { Command, PageMeta } from '../codec/index.js';
import { KvcError } from '../errors.js';
import {
  APPLIED_INDEX_KEY,
  COUNTERS_KEY,
  FAMILY_BLOB,
  FAMILY_META,
  FAMILY_NS_COUNTERS,
  FAMILY_NS_SETTINGS,
  FAMILY_PAYLOAD,
  FAMILY_PIN,
  SETTINGS_KEY,
  keyId,
  namespaceRange,
  nsRecordKey,
  nsStatsKey,
  pageKey,
  removalKey,
  withFamily,
} from './keys.js';
import type { IndexEffect } from './page-index.js';
import type { CacheEvent } from './cache-events.js';
import { decodeBlobRef, encodeBlobRef } from './blob/index.js';
import type { BlobRef, WalSpan } from './blob/index.js';
import type { StoreDb } from './level.js';
import { PendingWrites } from './pending-writes.js';
import type { BatchOp } from './pending-writes.js';
import { ZERO_COUNTERS, decodeMeta, decodeU64, encodeCounters, encodeMeta, encodeNsStats, encodeRemoval, encodeU64 } from './records.js';
import type { NsStats, RemovalCounters, RemovalReason, StoredMeta } from './records.js';
import {
  DEFAULT_NS_SETTINGS,
  applyNsSettingChanges,
  applySettingChanges,
  encodeNsSettings,
  encodeSettings,
  sameSettings,
  type ClusterSettings,
  type NamespaceSettings,
} from './settings.js';

/** The codes a command can be refused with; a refusal changes nothing of that command. */
export type ApplyRefusalCode = 'KVC_EXISTS_DIFFERENT' | 'KVC_QUOTA_EXHAUSTED' | 'KVC_CHECKSUM_MISMATCH' | 'KVC_SHAPE_MISMATCH' | 'KVC_INVALID_CONFIG';

export type ApplyResult = { ok: true } | { ok: false; code: ApplyRefusalCode; message: string };

const OK: ApplyResult = Object.freeze({ ok: true });

function refuse(code: ApplyRefusalCode, detail: string): ApplyResult {
  return { ok: false, code, message: new KvcError(code, { detail }).message };
}

type PutPage = { meta: PageMeta; data: Uint8Array };

/** The committed state a batch starts from (the store's in-memory view of it). */
export interface BatchBase {
  nsStats: ReadonlyMap<string, NsStats>;
  totalBytes: number;
  settings: ClusterSettings;
  nsSettings: ReadonlyMap<string, NamespaceSettings>;
  counters: RemovalCounters;
  nsCounters: ReadonlyMap<string, RemovalCounters>;
  /** Payloads at or above this size go to blob files (a 'b' ref); smaller ones stay inline ('p'). */
  blobThresholdBytes: number;
  /**
   * Whether the committed state holds page `key` of `ns` (the store's page index, which moves only
   * with durable batches). A put of a page it does not hold needs no metadata read.
   */
  holds(ns: string, key: Uint8Array): boolean;
}

/** A payload bound for a blob file: its 'b' key holds `data` in the pending writes until its ref is known. */
export interface BlobWrite {
  key: Uint8Array;
  data: Uint8Array;
  crc32c: number;
  /** Where the bytes already lie in the WAL (value log): referenced there instead of appended. */
  inWal: WalSpan | undefined;
}

/**
 * The entry a command was decoded from, and where that entry's data lies in the WAL: a page
 * payload that is a view into `data` lies at the same distance from `at.offset` on disk.
 */
export interface EntrySource {
  data: Uint8Array;
  at: WalSpan;
}

export class ApplyBatch {
  readonly #db: StoreDb;
  readonly #writes = new PendingWrites();
  readonly #base: BatchBase;
  /** Stats of the namespaces this batch changed, as they will be after it. */
  readonly #touchedStats = new Map<string, NsStats>();
  readonly #touchedNsSettings = new Map<string, NamespaceSettings>();
  readonly #touchedNsCounters = new Map<string, RemovalCounters>();
  /** What the in-memory page index must do once the batch is durable, in order. */
  readonly #effects: IndexEffect[] = [];
  /** What the batch changed in the page set, in log order (the Watch feed). */
  readonly #events: CacheEvent[] = [];
  #settings: ClusterSettings;
  #settingsChanged = false;
  #counters: RemovalCounters;
  #totalBytes: number;
  /** The entry being applied, and how many removal records it wrote so far. */
  #index = 0;
  #removalSeq = 0;
  #removalsAdded = 0;
  /** The WAL location of the entry being applied, when the caller knows it. */
  #source: EntrySource | undefined;
  /** Payloads to append to a blob file, by 'b' key id; those deleted later in the batch are skipped. */
  readonly #blobWrites = new Map<string, BlobWrite>();
  /** Committed refs this batch deletes: their bytes become garbage once it is durable. */
  readonly #deadRefs: BlobRef[] = [];

  constructor(db: StoreDb, base: BatchBase) {
    this.#db = db;
    this.#base = base;
    this.#totalBytes = base.totalBytes;
    this.#settings = base.settings;
    this.#counters = base.counters;
  }

  async apply(command: Command, index: number, source?: EntrySource): Promise<ApplyResult> {
    this.#index = index;
    this.#source = source;
    this.#removalSeq = 0;
    switch (command.op) {
      case 'put':
        return this.#put(command.pages);
      case 'delete':
        await this.#remove(command.ns, command.keys, 'deleted');
        return OK;
      case 'evict':
        // Which pages to evict (unpinned leaves, least recently used) is the leader's choice when
        // it proposes the command; applying it removes them like a delete and counts them.
        await this.#remove(command.ns, command.keys, 'evicted');
        return OK;
      case 'expire':
        await this.#remove(command.ns, command.keys, 'expired');
        return OK;
      case 'drop-ns':
        await this.#dropNamespace(command.ns);
        return OK;
      case 'pin':
        await this.#pin(command.ns, command.keys, command.nowMs + command.ttlMs);
        return OK;
      case 'unpin':
        for (const key of command.keys) {
          this.#writes.del(pageKey(FAMILY_PIN, command.ns, key));
          this.#effects.push({ kind: 'unpin', ns: command.ns, key });
        }
        return OK;
      case 'set-config': {
        const next = applySettingChanges(this.#settings, command.changes);
        if (typeof next === 'string') return refuse('KVC_INVALID_CONFIG', next);
        this.#settings = next;
        this.#settingsChanged = true;
        return OK;
      }
      case 'set-ns-config': {
        const next = applyNsSettingChanges(this.nsSettings(command.ns), command.changes);
        if (typeof next === 'string') return refuse('KVC_INVALID_CONFIG', next);
        this.#touchedNsSettings.set(command.ns, next);
        return OK;
      }
      case 'noop':
        return OK;
      default: {
        const unknown: never = command;
        return assert.fail(`unknown store command ${JSON.stringify((unknown as { op: unknown }).op)}`);
      }
    }
  }

  /** The settings as they are at this point of the batch. */
  settings(): ClusterSettings {
    return this.#settings;
  }

  nsSettings(ns: string): NamespaceSettings {
    return this.#touchedNsSettings.get(ns) ?? this.#base.nsSettings.get(ns) ?? DEFAULT_NS_SETTINGS;
  }

  counters(): RemovalCounters {
    return this.#counters;
  }

  touchedNsSettings(): ReadonlyMap<string, NamespaceSettings> {
    return this.#touchedNsSettings;
  }

  touchedNsCounters(): ReadonlyMap<string, RemovalCounters> {
    return this.#touchedNsCounters;
  }

  effects(): readonly IndexEffect[] {
    return this.#effects;
  }

  events(): readonly CacheEvent[] {
    return this.#events;
  }

  /** Removal records this batch wrote. */
  removalsAdded(): number {
    return this.#removalsAdded;
  }

  /** Deletes these removal records (the oldest ones the database holds: the record is bounded). */
  trimRemovals(keys: Uint8Array[]): void {
    for (const key of keys) this.#writes.del(key);
  }

  /** The blob payloads the batch still writes (not deleted by a later command of it). */
  blobWrites(): BlobWrite[] {
    return [...this.#blobWrites.values()].filter((w) => this.#writes.get(w.key) === w.data);
  }

  /** Replaces a blob write's pending payload with its ref, once the payload is in a blob file. */
  setBlobRef(write: BlobWrite, ref: BlobRef): void {
    assert.ok(this.#writes.get(write.key) === write.data, 'a blob ref for a payload the batch no longer writes');
    this.#writes.put(write.key, encodeBlobRef(ref));
  }

  /** Committed blob refs this batch deletes. */
  deadRefs(): readonly BlobRef[] {
    return this.#deadRefs;
  }

  /** The batch's LevelDB operations, ending with the namespace stats and `appliedIndex`. */
  finish(appliedIndex: number): BatchOp[] {
    for (const [ns, stats] of this.#touchedStats) {
      // An empty namespace leaves no record, so replicas that reached it by different routes agree.
      if (stats.pages === 0) this.#writes.del(nsStatsKey(ns));
      else this.#writes.put(nsStatsKey(ns), encodeNsStats(stats));
    }
    // Defaults leave no record either, for the same reason.
    for (const [ns, settings] of this.#touchedNsSettings) {
      if (sameSettings(settings, DEFAULT_NS_SETTINGS)) this.#writes.del(nsRecordKey(FAMILY_NS_SETTINGS, ns));
      else this.#writes.put(nsRecordKey(FAMILY_NS_SETTINGS, ns), encodeNsSettings(settings));
    }
    for (const [ns, counters] of this.#touchedNsCounters) this.#writes.put(nsRecordKey(FAMILY_NS_COUNTERS, ns), encodeCounters(counters));
    if (this.#counters !== this.#base.counters) this.#writes.put(COUNTERS_KEY, encodeCounters(this.#counters));
    if (this.#settingsChanged) this.#writes.put(SETTINGS_KEY, encodeSettings(this.#settings));
    this.#writes.put(APPLIED_INDEX_KEY, encodeU64(appliedIndex));
    return this.#writes.ops();
  }

  /** The namespaces changed by this batch and their stats after it (pages 0 = gone). */
  touchedStats(): ReadonlyMap<string, NsStats> {
    return this.#touchedStats;
  }

  /**
   * A put command is all-or-nothing: every page is checked first (payload size and checksum,
   * an existing key with another checksum, the byte budget), and if any page fails the whole
   * command is refused and nothing of it is written. A client retries a refused put as a unit,
   * and a half-stored prompt prefix would only confuse `lookup`.
   */
  async #put(pages: PutPage[]): Promise<ApplyResult> {
    for (const { meta, data } of pages) {
      if (data.byteLength !== meta.bytes) {
        return refuse('KVC_SHAPE_MISMATCH', `page ${hex(meta.key)} has ${data.byteLength} bytes, meta says ${meta.bytes}`);
      }
      // Checked once on this member already where it was received (src/bytes known-crc32c.ts), if large.
      if ((knownCrc32c(data) ?? crc32c(data)) !== meta.crc32c) {
        return refuse('KVC_CHECKSUM_MISMATCH', `page ${hex(meta.key)} in namespace ${meta.ns}`);
      }
    }
    const metaKeys = pages.map(({ meta }) => pageKey(FAMILY_META, meta.ns, meta.key));
    const stored = await this.#readMetas(metaKeys, (i) => this.#base.holds(pages[i]!.meta.ns, pages[i]!.meta.key));
    // Pages accepted so far in this command, so that a key repeated inside one put is checked too.
    const accepted = new Map<string, PageMeta>();
    const fresh: number[] = [];
    let addedBytes = 0;
    for (let i = 0; i < pages.length; i++) {
      const { meta } = pages[i]!;
      const id = keyId(metaKeys[i]!);
      const existing = accepted.get(id) ?? stored[i];
      if (existing !== undefined) {
        if (existing.crc32c !== meta.crc32c) {
          return refuse('KVC_EXISTS_DIFFERENT', `page ${hex(meta.key)} in namespace ${meta.ns}`);
        }
        continue; // The same page again: idempotent, nothing to write.
      }
      accepted.set(id, meta);
      fresh.push(i);
      addedBytes += meta.bytes;
    }
    const budget = this.#settings.budgetBytes;
    if (this.#totalBytes + addedBytes > budget) {
      return refuse('KVC_QUOTA_EXHAUSTED', `${this.#totalBytes} bytes stored + ${addedBytes} new > budget ${budget}`);
    }
    const overQuota = this.#quotaProblem(pages, fresh);
    if (overQuota !== undefined) return refuse('KVC_QUOTA_EXHAUSTED', overQuota);
    for (const i of fresh) this.#writePage(metaKeys[i]!, pages[i]!);
    return OK;
  }

  /** The first namespace the new pages would take past its quota, described; undefined when none. */
  #quotaProblem(pages: PutPage[], fresh: number[]): string | undefined {
    const added = new Map<string, number>();
    for (const i of fresh) added.set(pages[i]!.meta.ns, (added.get(pages[i]!.meta.ns) ?? 0) + pages[i]!.meta.bytes);
    for (const [ns, bytes] of added) {
      const quota = this.nsSettings(ns).quotaBytes;
      const stored = this.#statsOf(ns).bytes;
      if (quota > 0 && stored + bytes > quota) return `namespace ${ns}: ${stored} bytes stored + ${bytes} new > quota ${quota}`;
    }
    return undefined;
  }

  #writePage(metaKey: Uint8Array, { meta, data }: PutPage): void {
    this.#writes.putMeta(metaKey, encodeMeta(meta), meta);
    if (data.byteLength >= this.#base.blobThresholdBytes) {
      // The 'b' key holds the payload itself until the store has appended it and knows its ref.
      const key = withFamily(FAMILY_BLOB, metaKey);
      this.#writes.put(key, data);
      this.#blobWrites.set(keyId(key), { key, data, crc32c: meta.crc32c, inWal: this.#walSpanOf(data) });
    } else {
      this.#writes.put(withFamily(FAMILY_PAYLOAD, metaKey), data);
    }
    this.#changeStats(meta.ns, 1, meta.bytes);
    this.#effects.push({ kind: 'put', ns: meta.ns, key: meta.key, meta });
    // Copies: the keys are views into the entry's bytes (the whole page), which the watch ring
    // must not keep alive.
    this.#events.push({ type: 'stored', index: this.#index, ns: meta.ns, key: meta.key.slice(), parentKey: meta.parentKey?.slice(), bytes: meta.bytes, tokens: meta.tokens, crc32c: meta.crc32c });
  }

  /** Where `data` lies in the WAL, when it is a view into the entry being applied and the caller said where that lies. */
  #walSpanOf(data: Uint8Array): WalSpan | undefined {
    const source = this.#source;
    if (source === undefined || data.buffer !== source.data.buffer) return undefined;
    const start = data.byteOffset - source.data.byteOffset;
    if (start < 0 || start + data.byteLength > source.data.byteLength) return undefined;
    return { path: source.at.path, offset: source.at.offset + start };
  }

  /** One record of the bounded removal log (ListRemovals, the chaos checker's evidence). */
  #recordRemoval(reason: RemovalReason, ns: string, key: Uint8Array | undefined): void {
    this.#writes.put(removalKey(this.#index, this.#removalSeq++), encodeRemoval(reason, ns, key));
    this.#removalsAdded++;
  }

  #countRemoval(ns: string, reason: RemovalReason, bytes: number): void {
    if (reason !== 'evicted' && reason !== 'expired') return;
    const add = (c: RemovalCounters): RemovalCounters =>
      reason === 'evicted'
        ? { ...c, evictedPages: c.evictedPages + 1, evictedBytes: c.evictedBytes + bytes }
        : { ...c, expiredPages: c.expiredPages + 1 };
    this.#counters = add(this.#counters);
    this.#touchedNsCounters.set(ns, add(this.#touchedNsCounters.get(ns) ?? this.#base.nsCounters.get(ns) ?? ZERO_COUNTERS));
  }

  /** Deletes pages; missing keys are fine. Pins stay: they may protect a page being reloaded. */
  async #remove(ns: string, keys: Uint8Array[], reason: Exclude<RemovalReason, 'namespace-dropped'>): Promise<void> {
    const metaKeys = keys.map((key) => pageKey(FAMILY_META, ns, key));
    const stored = await this.#readMetas(metaKeys);
    const blobKeys = metaKeys.map((metaKey) => withFamily(FAMILY_BLOB, metaKey));
    const refs = await this.#db.getMany(blobKeys);
    const removed = new Set<string>();
    for (let i = 0; i < metaKeys.length; i++) {
      const id = keyId(metaKeys[i]!);
      const meta = stored[i];
      if (meta === undefined || removed.has(id)) continue;
      removed.add(id);
      this.#writes.del(metaKeys[i]!);
      this.#writes.del(withFamily(FAMILY_PAYLOAD, metaKeys[i]!));
      this.#deleteBlobKey(blobKeys[i]!, refs[i]);
      this.#changeStats(ns, -1, -meta.bytes);
      this.#recordRemoval(reason, ns, keys[i]!);
      this.#countRemoval(ns, reason, meta.bytes);
      this.#effects.push({ kind: 'remove', ns, key: keys[i]! });
      this.#events.push({ type: 'removed', index: this.#index, ns, key: keys[i]!.slice(), reason });
    }
  }

  /** Removes every page and pin of `ns`, scanning metadata and pin keys only (never payloads). */
  async #dropNamespace(ns: string): Promise<void> {
    const metas = namespaceRange(FAMILY_META, ns);
    for (const metaKey of await this.#liveKeysInRange(metas.gte, metas.lt)) {
      this.#writes.del(metaKey);
      this.#writes.del(withFamily(FAMILY_PAYLOAD, metaKey));
    }
    // Blob refs are small: reading them to count their bytes as garbage costs little.
    const blobs = namespaceRange(FAMILY_BLOB, ns);
    for await (const [blobKey, value] of this.#db.iterator({ ...blobs, fillCache: false })) this.#deleteBlobKey(blobKey, value);
    for (const blobKey of this.#writes.liveKeysInRange(blobs.gte, blobs.lt)) this.#writes.del(blobKey);
    const pins = namespaceRange(FAMILY_PIN, ns);
    for (const pinKey of await this.#liveKeysInRange(pins.gte, pins.lt)) this.#writes.del(pinKey);
    const stats = this.#statsOf(ns);
    this.#changeStats(ns, -stats.pages, -stats.bytes);
    if (stats.pages > 0) {
      this.#recordRemoval('namespace-dropped', ns, undefined);
      this.#events.push({ type: 'namespace_dropped', index: this.#index, ns });
    }
    this.#effects.push({ kind: 'drop', ns });
  }

  /**
   * Deletes a page's 'b' key. `stored` is its committed value: a ref whose bytes become garbage,
   * unless this batch already changed the key (then the committed ref was counted, or never was).
   */
  #deleteBlobKey(blobKey: Uint8Array, stored: Uint8Array | undefined): void {
    if (this.#writes.get(blobKey) === undefined && stored !== undefined) this.#deadRefs.push(decodeBlobRef(stored));
    this.#writes.del(blobKey);
  }

  /** A pin lasts until the latest expiry asked for: a shorter pin never cuts a longer one short. */
  async #pin(ns: string, keys: Uint8Array[], expiresAtMs: number): Promise<void> {
    const pinKeys = keys.map((key) => pageKey(FAMILY_PIN, ns, key));
    const stored = await this.#db.getMany(pinKeys);
    for (let i = 0; i < pinKeys.length; i++) {
      // Read pending writes again here: a key repeated in this command was written just above.
      const pending = this.#writes.get(pinKeys[i]!);
      const current = pending === undefined ? stored[i] : (pending ?? undefined);
      const currentMs = current === undefined ? 0 : decodeU64(current);
      const untilMs = Math.max(currentMs, expiresAtMs);
      this.#writes.put(pinKeys[i]!, encodeU64(untilMs));
      this.#effects.push({ kind: 'pin', ns, key: keys[i]!, expiresAtMs: untilMs });
    }
  }

  /** Keys holding a value in `[gte, lt)`: the database's plus this batch's, less this batch's deletions. */
  async #liveKeysInRange(gte: Uint8Array, lt: Uint8Array): Promise<Uint8Array[]> {
    const keys: Uint8Array[] = [];
    for await (const key of this.#db.keys({ gte, lt, fillCache: false })) {
      if (this.#writes.get(key) !== null) keys.push(key);
    }
    for (const key of this.#writes.liveKeysInRange(gte, lt)) keys.push(key);
    return keys;
  }

  /**
   * Current metadata per key (`undefined` = absent): pending writes first, then one getMany of the
   * rest, skipping those `committed(i)` says the committed state does not hold (no read at all
   * when none is left: a put of new pages).
   */
  async #readMetas(metaKeys: Uint8Array[], committed: (i: number) => boolean = () => true): Promise<(StoredMeta | undefined)[]> {
    const result: (StoredMeta | undefined)[] = metaKeys.map(() => undefined);
    const missing: number[] = [];
    metaKeys.forEach((key, i) => {
      const pending = this.#writes.getMeta(key);
      if (pending === undefined) {
        if (committed(i)) missing.push(i);
      } else result[i] = pending ?? undefined;
    });
    if (missing.length === 0) return result;
    const values = await this.#db.getMany(missing.map((i) => metaKeys[i]!));
    missing.forEach((i, j) => {
      const value = values[j];
      if (value !== undefined) result[i] = decodeMeta(value);
    });
    return result;
  }

  #statsOf(ns: string): NsStats {
    return this.#touchedStats.get(ns) ?? this.#base.nsStats.get(ns) ?? { pages: 0, bytes: 0 };
  }

  #changeStats(ns: string, pagesDelta: number, bytesDelta: number): void {
    const before = this.#statsOf(ns);
    const after = { pages: before.pages + pagesDelta, bytes: before.bytes + bytesDelta };
    assert.ok(after.pages >= 0 && after.bytes >= 0, `namespace ${ns} stats went negative`);
    assert.ok(after.pages > 0 || after.bytes === 0, `namespace ${ns} has bytes but no pages`);
    this.#touchedStats.set(ns, after);
    this.#totalBytes += bytesDelta;
  }
}
