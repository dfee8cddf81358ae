// Damage to the end of a member's newest WAL segment, the way a crash in the middle of an append
// leaves it (the wal-tail nemesis applies it while the member is down). Three kinds:
// - truncate: cut the last record short at a random byte inside it;
// - corrupt: flip one byte of the last record after its length field (crc, type or body), so its
//   checksum fails;
// - torn append: add the beginning of one more record (a whole header, part of its body), the
//   state of an append whose write the crash cut off.
// All three stay at the tail, so the WAL must treat them as a torn tail: drop the damaged record,
// log it, and open (docs/WAL.md). Damage anywhere earlier would rightly refuse to open.
//
// Soundness: truncate and corrupt destroy a record that was durable, which a real torn write
// never does (its fsync had not returned). That is harmless for an entry record, since a
// majority of the cluster holds every committed entry and the harness runs one fault at a time,
// and for a hard-state record that only moved the commit index. It is not harmless for a record
// that carries a vote or a new term (the member could vote twice in one term), nor for a
// compaction or snapshot record (segments below it may be gone): there the damage is a torn
// append instead, which is sound by construction, and the description says so.
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { decodeHardState } from '../codec/index.js';
import type { Prng } from '../sim/index.js';
import { RECORD_HEADER_BYTES, RecordType } from '../wal/index.js';

/** A record starts [bodyBytes u32 LE][crc32c u32 LE][type u8] (docs/WAL.md); the length comes first. */
const LENGTH_FIELD_BYTES = 4;
const TYPE_OFFSET = 8;
const SEGMENT_SUFFIX = '.wal';
/** Body length a torn append's header claims, of which only part is written. */
const TORN_BODY_BYTES_MIN = 64;
const TORN_BODY_BYTES_MAX = 4_096;

export type WalDamage = 'truncate' | 'corrupt' | 'torn-append';

export interface RecordSpan {
  start: number;
  end: number;
  type: number;
}

/**
 * Damages the tail of the newest segment in `dir`: `kind`, or truncate/corrupt at random, made a
 * torn append where the last record must not be lost (see the header). Returns what it did, in
 * words for the fault log.
 */
export async function damageWalTail(dir: string, prng: Prng, kind?: WalDamage): Promise<string> {
  const segments = (await readdir(dir)).filter((name) => name.endsWith(SEGMENT_SUFFIX)).sort();
  const newest = segments[segments.length - 1];
  if (newest === undefined) return 'no WAL segment to damage';
  const handle = await open(path.join(dir, newest), 'r+');
  try {
    const bytes = await handle.readFile();
    const records = wholeRecords(bytes);
    const last = records[records.length - 1];
    if (last === undefined) return `${newest} holds no whole record to damage`;
    const tail = last.end;
    // Bytes after the last whole record (an append the kill cut short) would make damage to that
    // record damage before the tail.
    const trailing = bytes.subarray(tail).some((byte) => byte !== 0);
    let chosen = kind ?? (prng.chance(0.5) ? 'truncate' : 'corrupt');
    if (chosen !== 'torn-append' && !safeToLose(bytes, records)) chosen = 'torn-append';
    if (chosen === 'corrupt' && trailing) chosen = 'truncate';
    if (chosen === 'torn-append') {
      const torn = tornRecord(prng);
      await handle.truncate(tail);
      await handle.write(torn, 0, torn.byteLength, tail);
      return `WAL ${newest}: a torn append of ${torn.byteLength} bytes after its last record (${recordName(last.type)})`;
    }
    const length = last.end - last.start;
    if (chosen === 'truncate') {
      const cutAt = last.start + prng.int(length);
      await handle.truncate(cutAt);
      return `WAL ${newest} truncated by ${bytes.byteLength - cutAt} bytes (its last record, ${recordName(last.type)} of ${length} bytes, cut at ${cutAt - last.start})`;
    }
    const at = last.start + LENGTH_FIELD_BYTES + prng.int(length - LENGTH_FIELD_BYTES);
    await handle.write(Buffer.from([bytes[at]! ^ (1 + prng.int(255))]), 0, 1, at);
    return `WAL ${newest} corrupted at offset ${at} (byte ${at - last.start} of its last record, ${recordName(last.type)} of ${length} bytes)`;
  } finally {
    await handle.close();
  }
}

/** Every whole record from the start (the scan stops at a zero header or a cut-short record). */
export function wholeRecords(bytes: Uint8Array): RecordSpan[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: RecordSpan[] = [];
  let offset = 0;
  while (offset + RECORD_HEADER_BYTES <= bytes.byteLength) {
    const bodyBytes = view.getUint32(offset, true);
    const crc = view.getUint32(offset + LENGTH_FIELD_BYTES, true);
    if (bodyBytes === 0 && crc === 0) break;
    const end = offset + RECORD_HEADER_BYTES + bodyBytes;
    if (end > bytes.byteLength) break;
    records.push({ start: offset, end, type: bytes[offset + TYPE_OFFSET]! });
    offset = end;
  }
  return records;
}

/**
 * Whether the last record may be lost without breaking what Raft assumes of a member's disk: an
 * entry, or a hard state with the same term and vote as the hard state recorded before it in
 * this segment.
 */
export function safeToLose(bytes: Uint8Array, records: RecordSpan[]): boolean {
  const last = records[records.length - 1];
  if (last === undefined) return false;
  if (last.type === RecordType.Entry) return true;
  if (last.type !== RecordType.HardState) return false;
  const previous = records.slice(0, -1).reverse().find((r) => r.type === RecordType.HardState);
  if (previous === undefined) return false;
  try {
    const a = decodeHardState(bytes.subarray(previous.start + RECORD_HEADER_BYTES, previous.end));
    const b = decodeHardState(bytes.subarray(last.start + RECORD_HEADER_BYTES, last.end));
    return a.term === b.term && a.vote === b.vote;
  } catch {
    return false;
  }
}

/** The beginning of a record whose write was cut off: a whole header, part of the body. */
function tornRecord(prng: Prng): Buffer {
  const bodyBytes = prng.range(TORN_BODY_BYTES_MIN, TORN_BODY_BYTES_MAX);
  const written = RECORD_HEADER_BYTES + prng.range(1, bodyBytes - 1);
  const torn = Buffer.alloc(written);
  torn.writeUInt32LE(bodyBytes, 0);
  torn.writeUInt32LE(prng.nextU32(), LENGTH_FIELD_BYTES);
  torn[TYPE_OFFSET] = RecordType.Entry;
  for (let i = RECORD_HEADER_BYTES; i < written; i++) torn[i] = 1 + prng.int(255);
  return torn;
}

function recordName(type: number): string {
  return (RecordType[type] as string | undefined) ?? `type ${type}`;
}
