// The semantics of the store commands, applied to one batch of committed entries. An ApplyBatch
// reads the database as it was before the batch plus its own pending writes, so each command
// sees the effects of the earlier ones, and at the end hands back the whole batch as LevelDB
// operations for one atomic write. It never touches the clock or any other replica-local state:
// times come in the commands, so every replica writes the same bytes for the same commands.

import assert from 'node:assert/strict';
import { crc32c } from '../codec/index.js';
import type { Command, PageMeta } from '../codec/index.js';
import { KvcError } from '../errors.js';
import {
  APPLIED_INDEX_KEY,
  FAMILY_META,
  FAMILY_PAYLOAD,
  FAMILY_PIN,
  keyId,
  namespaceRange,
  nsStatsKey,
  pageKey,
  withFamily,
} from './keys.js';
import type { StoreDb } from './level.js';
import { PendingWrites } from './pending-writes.js';
import type { BatchOp } from './pending-writes.js';
import { decodeMeta, decodeU64, encodeMeta, encodeNsStats, encodeU64 } from './records.js';
import type { NsStats, StoredMeta } from './records.js';

/** The codes a command can be refused with; a refusal changes nothing of that command. */
export type ApplyRefusalCode = 'KVC_EXISTS_DIFFERENT' | 'KVC_QUOTA_EXHAUSTED' | 'KVC_CHECKSUM_MISMATCH' | 'KVC_SHAPE_MISMATCH';

export type ApplyResult = { ok: true } | { ok: false; code: ApplyRefusalCode; message: string };

const OK: ApplyResult = Object.freeze({ ok: true });

function refuse(code: ApplyRefusalCode, detail: string): ApplyResult {
  return { ok: false, code, message: new KvcError(code, { detail }).message };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

type PutPage = { meta: PageMeta; data: Uint8Array };

export class ApplyBatch {
  readonly #db: StoreDb;
  readonly #writes = new PendingWrites();
  readonly #committedStats: ReadonlyMap<string, NsStats>;
  /** Stats of the namespaces this batch changed, as they will be after it. */
  readonly #touchedStats = new Map<string, NsStats>();
  readonly #budgetBytes: number;
  #totalBytes: number;

  constructor(db: StoreDb, committedStats: ReadonlyMap<string, NsStats>, totalBytes: number, budgetBytes: number) {
    this.#db = db;
    this.#committedStats = committedStats;
    this.#totalBytes = totalBytes;
    this.#budgetBytes = budgetBytes;
  }

  async apply(command: Command): Promise<ApplyResult> {
    switch (command.op) {
      case 'put':
        return this.#put(command.pages);
      case 'delete':
      case 'evict':
        // Eviction removes exactly like a delete; which pages to evict (unpinned leaves, LRU) is
        // the leader's choice when it proposes the command.
        await this.#remove(command.ns, command.keys);
        return OK;
      case 'drop-ns':
        await this.#dropNamespace(command.ns);
        return OK;
      case 'pin':
        await this.#pin(command.ns, command.keys, command.nowMs + command.ttlMs);
        return OK;
      case 'unpin':
        for (const key of command.keys) this.#writes.del(pageKey(FAMILY_PIN, command.ns, key));
        return OK;
      case 'noop':
        return OK;
      default: {
        const unknown: never = command;
        return assert.fail(`unknown store command ${JSON.stringify((unknown as { op: unknown }).op)}`);
      }
    }
  }

  /** The batch's LevelDB operations, ending with the namespace stats and `appliedIndex`. */
  finish(appliedIndex: number): BatchOp[] {
    for (const [ns, stats] of this.#touchedStats) {
      // An empty namespace leaves no record, so replicas that reached it by different routes agree.
      if (stats.pages === 0) this.#writes.del(nsStatsKey(ns));
      else this.#writes.put(nsStatsKey(ns), encodeNsStats(stats));
    }
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
      if (crc32c(data) !== meta.crc32c) {
        return refuse('KVC_CHECKSUM_MISMATCH', `page ${hex(meta.key)} in namespace ${meta.ns}`);
      }
    }
    const metaKeys = pages.map(({ meta }) => pageKey(FAMILY_META, meta.ns, meta.key));
    const stored = await this.#readMetas(metaKeys);
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
    if (this.#totalBytes + addedBytes > this.#budgetBytes) {
      const detail = `${this.#totalBytes} bytes stored + ${addedBytes} new > budget ${this.#budgetBytes}`;
      return refuse('KVC_QUOTA_EXHAUSTED', detail);
    }
    for (const i of fresh) this.#writePage(metaKeys[i]!, pages[i]!);
    return OK;
  }

  #writePage(metaKey: Uint8Array, { meta, data }: PutPage): void {
    this.#writes.putMeta(metaKey, encodeMeta(meta), meta);
    this.#writes.put(withFamily(FAMILY_PAYLOAD, metaKey), data);
    this.#changeStats(meta.ns, 1, meta.bytes);
  }

  /** Deletes pages; missing keys are fine. Pins stay: they may protect a page being reloaded. */
  async #remove(ns: string, keys: Uint8Array[]): Promise<void> {
    const metaKeys = keys.map((key) => pageKey(FAMILY_META, ns, key));
    const stored = await this.#readMetas(metaKeys);
    const removed = new Set<string>();
    for (let i = 0; i < metaKeys.length; i++) {
      const id = keyId(metaKeys[i]!);
      const meta = stored[i];
      if (meta === undefined || removed.has(id)) continue;
      removed.add(id);
      this.#writes.del(metaKeys[i]!);
      this.#writes.del(withFamily(FAMILY_PAYLOAD, metaKeys[i]!));
      this.#changeStats(ns, -1, -meta.bytes);
    }
  }

  /** Removes every page and pin of `ns`, scanning metadata and pin keys only (never payloads). */
  async #dropNamespace(ns: string): Promise<void> {
    const metas = namespaceRange(FAMILY_META, ns);
    for (const metaKey of await this.#liveKeysInRange(metas.gte, metas.lt)) {
      this.#writes.del(metaKey);
      this.#writes.del(withFamily(FAMILY_PAYLOAD, metaKey));
    }
    const pins = namespaceRange(FAMILY_PIN, ns);
    for (const pinKey of await this.#liveKeysInRange(pins.gte, pins.lt)) this.#writes.del(pinKey);
    const stats = this.#statsOf(ns);
    this.#changeStats(ns, -stats.pages, -stats.bytes);
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
      this.#writes.put(pinKeys[i]!, encodeU64(Math.max(currentMs, expiresAtMs)));
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

  /** Current metadata per key (`undefined` = absent), pending writes first, then one getMany. */
  async #readMetas(metaKeys: Uint8Array[]): Promise<(StoredMeta | undefined)[]> {
    const result: (StoredMeta | undefined)[] = metaKeys.map(() => undefined);
    const missing: number[] = [];
    metaKeys.forEach((key, i) => {
      const pending = this.#writes.getMeta(key);
      if (pending === undefined) missing.push(i);
      else result[i] = pending ?? undefined;
    });
    const values = await this.#db.getMany(missing.map((i) => metaKeys[i]!));
    missing.forEach((i, j) => {
      const value = values[j];
      if (value !== undefined) result[i] = decodeMeta(value);
    });
    return result;
  }

  #statsOf(ns: string): NsStats {
    return this.#touchedStats.get(ns) ?? this.#committedStats.get(ns) ?? { pages: 0, bytes: 0 };
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
