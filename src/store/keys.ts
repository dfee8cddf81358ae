// The LevelDB key layout of the page store. Every key starts with one family byte, so each family
// is one contiguous key range and a scan of one family never reads another's values:
//
//   'a'                        appliedIndex: u64 big-endian, the index of the last applied entry
//   'b' ns 0x00 key            blob reference of a large page payload (blob/blob-ref.ts): where the
//                              bytes lie in this member's blob files; member-local, never streamed
//   'c'                        replicated capacity settings (settings.ts); absent = defaults
//   'd'                        blob mark (blob/blob-files.ts BlobMark): where the blob files were
//                              last fdatasynced; member-local, never streamed nor digested
//   'e'                        removal counters: u64 evicted pages, evicted bytes, expired pages
//   'k' ns 0x00 key            pin of a page: u64 big-endian expiry (ms since the epoch)
//   'm' ns 0x00 key            page metadata (msgpack, see records.ts): lookups and stats read these
//   'n' ns                     namespace stats: u64 pages, u64 bytes (big-endian)
//   'p' ns 0x00 key            page payload below LIMITS.store.blobThresholdBytes: the raw bytes
//                              (stores written before blob files hold every payload here)
//   'q' ns                     namespace settings (quota, default TTL); absent = defaults
//   'r' index seq              removal record: u64 index + u32 seq (big-endian) -> [reason, ns, key]
//   'v' ns                     a namespace's removal counters, as 'e'
//
// `ns` is the namespace name in UTF-8 and `key` the opaque page key. Metadata and payload sit in
// separate families so that a lookup, a stats load or a namespace drop reads metadata only and
// never pulls multi-MiB payloads through the block cache. The 0x00 terminator after the namespace
// keeps "a" and "a/b" apart (a prefix scan of "a" stops at "a" 0x01); namespaces are validated by
// the caller to [A-Za-z0-9._:/-]{1,128}, and the store asserts the one property the layout needs,
// that the name holds no 0x00. The families sort as a < b < c < d < e < k < m < n < p < q < r < v, so
// appliedIndex is the first record of a snapshot stream.

import assert from 'node:assert/strict';

export const FAMILY_APPLIED = 0x61; // 'a'
export const FAMILY_BLOB = 0x62; // 'b'
export const FAMILY_SETTINGS = 0x63; // 'c'
export const FAMILY_BLOB_MARK = 0x64; // 'd'
export const FAMILY_COUNTERS = 0x65; // 'e'
export const FAMILY_PIN = 0x6b; // 'k'
export const FAMILY_META = 0x6d; // 'm'
export const FAMILY_NS_STATS = 0x6e; // 'n'
export const FAMILY_PAYLOAD = 0x70; // 'p'
export const FAMILY_NS_SETTINGS = 0x71; // 'q'
export const FAMILY_REMOVALS = 0x72; // 'r'
export const FAMILY_NS_COUNTERS = 0x76; // 'v'

/** The byte after the namespace in page-keyed families. */
const NS_TERMINATOR = 0x00;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export const APPLIED_INDEX_KEY = Uint8Array.of(FAMILY_APPLIED);
export const BLOB_MARK_KEY = Uint8Array.of(FAMILY_BLOB_MARK);
export const SETTINGS_KEY = Uint8Array.of(FAMILY_SETTINGS);
export const COUNTERS_KEY = Uint8Array.of(FAMILY_COUNTERS);

function encodeNamespace(ns: string): Uint8Array {
  assert.ok(ns.length > 0, 'namespace must not be empty');
  const bytes = textEncoder.encode(ns);
  assert.ok(!bytes.includes(NS_TERMINATOR), 'namespace must not contain a 0x00 byte');
  return bytes;
}

/** `family ns 0x00 key`: the key of a page's metadata, payload, blob reference or pin. */
export function pageKey(family: number, ns: string, key: Uint8Array): Uint8Array {
  const nsBytes = encodeNamespace(ns);
  const out = new Uint8Array(1 + nsBytes.length + 1 + key.length);
  out[0] = family;
  out.set(nsBytes, 1);
  out[1 + nsBytes.length] = NS_TERMINATOR;
  out.set(key, 2 + nsBytes.length);
  return out;
}

/** The same page under another family (metadata key → payload key), without re-encoding the name. */
export function withFamily(family: number, dbKey: Uint8Array): Uint8Array {
  // A copy by construction: LevelDB hands out Buffers, whose slice() is a view, not a copy.
  const out = new Uint8Array(dbKey);
  out[0] = family;
  return out;
}

/** `[gte, lt)` covering every page of `ns` in `family`. */
export function namespaceRange(family: number, ns: string): { gte: Uint8Array; lt: Uint8Array } {
  const nsBytes = encodeNamespace(ns);
  const gte = new Uint8Array(1 + nsBytes.length + 1);
  gte[0] = family;
  gte.set(nsBytes, 1);
  gte[1 + nsBytes.length] = NS_TERMINATOR;
  const lt = gte.slice();
  lt[lt.length - 1] = NS_TERMINATOR + 1;
  return { gte, lt };
}

/** `[gte, lt)` covering a whole family. */
export function familyRange(family: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(family), lt: Uint8Array.of(family + 1) };
}

/** `family ns`: the key of a namespace record (stats 'n', settings 'q', counters 'v'). */
export function nsRecordKey(family: number, ns: string): Uint8Array {
  const nsBytes = encodeNamespace(ns);
  const out = new Uint8Array(1 + nsBytes.length);
  out[0] = family;
  out.set(nsBytes, 1);
  return out;
}

/** `n ns`: the key of a namespace's stats record. */
export function nsStatsKey(ns: string): Uint8Array {
  return nsRecordKey(FAMILY_NS_STATS, ns);
}

/** The namespace named by a `family ns` key. */
export function nsFromRecordKey(dbKey: Uint8Array, family: number): string {
  assert.equal(dbKey[0], family, 'not a namespace record of that family');
  return textDecoder.decode(dbKey.subarray(1));
}

/** The namespace named by an `n ns` key. */
export function nsFromStatsKey(dbKey: Uint8Array): string {
  return nsFromRecordKey(dbKey, FAMILY_NS_STATS);
}

const REMOVAL_KEY_BYTES = 1 + 8 + 4;

/** `r index seq`: the key of one removal record; sorts by log index, then order within the entry. */
export function removalKey(index: number, seq: number): Uint8Array {
  const out = new Uint8Array(REMOVAL_KEY_BYTES);
  const view = new DataView(out.buffer);
  out[0] = FAMILY_REMOVALS;
  view.setBigUint64(1, BigInt(index));
  view.setUint32(9, seq);
  return out;
}

/** The log index of an `r index seq` key. */
export function indexFromRemovalKey(dbKey: Uint8Array): number {
  assert.ok(dbKey.byteLength === REMOVAL_KEY_BYTES && dbKey[0] === FAMILY_REMOVALS, 'not a removal record key');
  return Number(new DataView(dbKey.buffer, dbKey.byteOffset, dbKey.byteLength).getBigUint64(1));
}

/** A page's key out of a `family ns 0x00 key` DB key, as a view. */
export function pageKeyOf(dbKey: Uint8Array, ns: string): Uint8Array {
  return dbKey.subarray(2 + textEncoder.encode(ns).length);
}

/** The namespace of a `family ns 0x00 key` DB key. */
export function nsOfPageKey(dbKey: Uint8Array): string {
  const end = dbKey.indexOf(NS_TERMINATOR, 1);
  assert.ok(end > 1, 'page key without a namespace terminator');
  return textDecoder.decode(dbKey.subarray(1, end));
}

/** A DB key as a Map key: latin1 keeps one char per byte, so it is exact and keeps byte order. */
export function keyId(dbKey: Uint8Array): string {
  return Buffer.from(dbKey.buffer, dbKey.byteOffset, dbKey.byteLength).toString('latin1');
}
