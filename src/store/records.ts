// Value encodings of the page store's records (the key layout is in keys.ts). Every replica must
// write byte-identical values for the same command, so each encoder builds its output from the
// command's fields alone, in a fixed field order, and never from the clock or from map order.

import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import type { PageMeta } from '../codec/index.js';

/** Version tag of the stored metadata map; a future layout change bumps it. */
const META_FORMAT_VERSION = 1;

const U64_BYTES = 8;

// Records are off: a stored value must decode on its own, without structures shared across values.
const packr = new Packr({ useRecords: false, structuredClone: false, variableMapSize: false });
const unpackr = new Unpackr({ useRecords: false, structuredClone: false, mapsAsObjects: true });

/** What the metadata record holds: PageMeta without ns and key, which are in the DB key. */
export type StoredMeta = Omit<PageMeta, 'ns' | 'key'>;

interface MetaMap {
  v: number;
  dtype: PageMeta['dtype'];
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  createdAtMs: number;
  ttlMs?: number;
  parentKey?: Uint8Array;
}

export function encodeMeta(meta: PageMeta): Uint8Array {
  // Fields in a fixed order, optional ones only when present, so the bytes depend on values only.
  const map: MetaMap = {
    v: META_FORMAT_VERSION,
    dtype: meta.dtype,
    shape: [...meta.shape],
    tokens: meta.tokens,
    bytes: meta.bytes,
    crc32c: meta.crc32c,
    createdAtMs: meta.createdAtMs,
  };
  if (meta.ttlMs !== undefined) map.ttlMs = meta.ttlMs;
  if (meta.parentKey !== undefined) map.parentKey = meta.parentKey;
  return packr.pack(map);
}

export function decodeMeta(value: Uint8Array): StoredMeta {
  const map = unpackr.unpack(value) as MetaMap;
  assert.equal(map.v, META_FORMAT_VERSION, `unknown page metadata format ${String(map.v)}`);
  const meta: StoredMeta = {
    dtype: map.dtype,
    shape: map.shape,
    tokens: map.tokens,
    bytes: map.bytes,
    crc32c: map.crc32c,
    createdAtMs: map.createdAtMs,
  };
  if (map.ttlMs !== undefined) meta.ttlMs = map.ttlMs;
  if (map.parentKey !== undefined) meta.parentKey = new Uint8Array(map.parentKey);
  return meta;
}

export function encodeU64(value: number): Uint8Array {
  assert.ok(Number.isSafeInteger(value) && value >= 0, `u64 record out of range: ${value}`);
  const out = new Uint8Array(U64_BYTES);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

export function decodeU64(value: Uint8Array, offset = 0): number {
  assert.ok(value.byteLength >= offset + U64_BYTES, 'u64 record is short');
  const big = new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(offset);
  assert.ok(big <= BigInt(Number.MAX_SAFE_INTEGER), 'u64 record above 2^53');
  return Number(big);
}

export interface NsStats {
  pages: number;
  bytes: number;
}

export function encodeNsStats(stats: NsStats): Uint8Array {
  const out = new Uint8Array(2 * U64_BYTES);
  out.set(encodeU64(stats.pages), 0);
  out.set(encodeU64(stats.bytes), U64_BYTES);
  return out;
}

export function decodeNsStats(value: Uint8Array): NsStats {
  assert.equal(value.byteLength, 2 * U64_BYTES, 'namespace stats record has the wrong size');
  return { pages: decodeU64(value, 0), bytes: decodeU64(value, U64_BYTES) };
}

/** Pages removed by eviction and expiry, for the cluster ('e') or one namespace ('v'). */
export interface RemovalCounters {
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
}

export const ZERO_COUNTERS: Readonly<RemovalCounters> = Object.freeze({ evictedPages: 0, evictedBytes: 0, expiredPages: 0 });

export function encodeCounters(c: RemovalCounters): Uint8Array {
  const out = new Uint8Array(3 * U64_BYTES);
  out.set(encodeU64(c.evictedPages), 0);
  out.set(encodeU64(c.evictedBytes), U64_BYTES);
  out.set(encodeU64(c.expiredPages), 2 * U64_BYTES);
  return out;
}

export function decodeCounters(value: Uint8Array): RemovalCounters {
  assert.equal(value.byteLength, 3 * U64_BYTES, 'removal counters record has the wrong size');
  return { evictedPages: decodeU64(value, 0), evictedBytes: decodeU64(value, U64_BYTES), expiredPages: decodeU64(value, 2 * U64_BYTES) };
}

/** Why a page left the store, as the removal record and Status name it. */
export type RemovalReason = 'evicted' | 'expired' | 'deleted' | 'namespace-dropped';
const REMOVAL_REASONS: readonly RemovalReason[] = ['evicted', 'expired', 'deleted', 'namespace-dropped'];

export interface RemovalRecord {
  index: number;
  reason: RemovalReason;
  ns: string;
  /** Absent for a dropped namespace. */
  key?: Uint8Array;
}

export function encodeRemoval(reason: RemovalReason, ns: string, key: Uint8Array | undefined): Uint8Array {
  return packr.pack([REMOVAL_REASONS.indexOf(reason), ns, key ?? null]);
}

export function decodeRemoval(index: number, value: Uint8Array): RemovalRecord {
  const [reason, ns, key] = unpackr.unpack(value) as [number, string, Uint8Array | null];
  const record: RemovalRecord = { index, reason: REMOVAL_REASONS[reason]!, ns };
  if (key !== null) record.key = new Uint8Array(key);
  return record;
}
