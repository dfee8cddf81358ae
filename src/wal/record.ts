// WAL record framing and the bodies of the WAL's own records.
//
// A record on disk (little-endian):
//   [bodyBytes u32][crc32c u32][type u8][body: bodyBytes of msgpack]
// The checksum covers the type byte and the body, so a record is whole exactly when its length
// fits in the file and its checksum matches. Entries and the hard state use the project's codecs
// (src/codec); the snapshot, compaction and segment-header records below are the WAL's own
// msgpack arrays, each with nested codec bytes where a Raft type is carried.

import {
  crc32c,
  crc32cKnowing,
  type EncodedParts,
  decodeHardState,
  decodeSnapshotMeta,
  encodeHardState,
  encodeSnapshotMeta,
  packArray,
  unpackValue,
} from '../codec/index.js';
import type { HardState, Snapshot } from '../raft/index.js';

export const RECORD_HEADER_BYTES = 9;
/** Largest record body accepted on read; bigger length fields are damage, not records. */
export const RECORD_BODY_BYTES_MAX = 1024 * 1024 * 1024;

export enum RecordType {
  /** One Raft entry (src/codec encodeEntry). */
  Entry = 1,
  /** The Raft hard state (src/codec encodeHardState). */
  HardState = 2,
  /** A snapshot: created from the state machine (log kept) or applied from a leader (log reset). */
  Snapshot = 3,
  /** Entries at and below `index` are dropped; `term` is the term of `index`. */
  Compaction = 4,
  /** The first record of every segment: the log's state when the segment began. */
  SegmentHeader = 5,
}

const RECORD_TYPE_MAX = RecordType.SegmentHeader;

/**
 * A record to be written: its type and encoded body, one buffer or parts in order (an entry's
 * body is src/codec encodeEntryParts: a large payload by reference, written where it already is).
 */
export interface OutgoingRecord {
  type: RecordType;
  body: Uint8Array | EncodedParts;
}

/** The buffers of a record's body, in order. */
export function bodyParts(record: OutgoingRecord): Uint8Array[] {
  return record.body instanceof Uint8Array ? [record.body] : record.body.parts;
}

/** Fills the 9-byte header for `record` into `into` at `at`. */
export function writeRecordHeader(into: Uint8Array, at: number, record: OutgoingRecord): void {
  const view = new DataView(into.buffer, into.byteOffset + at, RECORD_HEADER_BYTES);
  view.setUint32(0, record.body.byteLength, true);
  let checksum = typeChecksum(record.type);
  // A payload this member already checksummed (known-crc32c.ts) is combined in, not read again.
  for (const part of bodyParts(record)) checksum = crc32cKnowing(part, checksum);
  view.setUint32(4, checksum, true);
  view.setUint8(8, record.type);
}

const TYPE_BYTE = new Uint8Array(1);

function typeChecksum(type: number): number {
  TYPE_BYTE[0] = type;
  return crc32c(TYPE_BYTE);
}

export function recordChecksum(type: number, body: Uint8Array): number {
  return crc32c(body, typeChecksum(type));
}

/** A record found in a buffer: where it starts, its type and a view of its body. */
export interface FramedRecord {
  offset: number;
  type: RecordType;
  body: Uint8Array;
  /** Header plus body. */
  bytes: number;
}

/** Why the bytes at an offset are not a whole record. */
export interface FrameDamage {
  offset: number;
  reason: string;
  /**
   * True when nothing but zeros (or nothing at all) follows the damaged frame: what an
   * interrupted append leaves behind. Only such damage at the end of the last segment is a
   * torn tail; anywhere else it is corruption.
   */
  tailLike: boolean;
}

/**
 * Reads the record at `offset` of `buffer` (which holds a file from byte 0 to its end). Returns
 * the record, or the damage found there. Never throws on bad bytes.
 */
export function readFrame(buffer: Uint8Array, offset: number): FramedRecord | FrameDamage {
  const left = buffer.byteLength - offset;
  if (left < RECORD_HEADER_BYTES) {
    return { offset, reason: `a record header cut short (${left} of ${RECORD_HEADER_BYTES} bytes)`, tailLike: true };
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset + offset, RECORD_HEADER_BYTES);
  const bodyBytes = view.getUint32(0, true);
  const checksum = view.getUint32(4, true);
  const type = view.getUint8(8);
  if (bodyBytes === 0 || bodyBytes > RECORD_BODY_BYTES_MAX) {
    const tailLike = isZero(buffer, offset);
    return { offset, reason: `an impossible record length ${bodyBytes}`, tailLike };
  }
  const end = offset + RECORD_HEADER_BYTES + bodyBytes;
  if (end > buffer.byteLength) {
    return { offset, reason: `a record cut short (${left} of ${RECORD_HEADER_BYTES + bodyBytes} bytes)`, tailLike: true };
  }
  const body = buffer.subarray(offset + RECORD_HEADER_BYTES, end);
  if (recordChecksum(type, body) !== checksum) {
    return { offset, reason: 'a record whose checksum does not match', tailLike: isZero(buffer, end) };
  }
  if (type < RecordType.Entry || type > RECORD_TYPE_MAX) {
    return { offset, reason: `an unknown record type ${type}`, tailLike: false };
  }
  return { offset, type: type as RecordType, body, bytes: RECORD_HEADER_BYTES + bodyBytes };
}

export function isFrameDamage(frame: FramedRecord | FrameDamage): frame is FrameDamage {
  return 'reason' in frame;
}

/** True when every byte of `buffer` from `from` on is zero. */
function isZero(buffer: Uint8Array, from: number): boolean {
  for (let i = from; i < buffer.byteLength; i++) if (buffer[i] !== 0) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Bodies of the WAL's own records: plain msgpack arrays encoded with src/codec's one configured
// Packr (packArray / unpackValue), so options and the trailing-bytes check live in one place.

/** Thrown by the body decoders below; the reader reports it as damage at the record. */
export class RecordBodyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordBodyError';
  }
}

function unpackArray(body: Uint8Array, length: number, what: string): unknown[] {
  let value: unknown;
  try {
    value = unpackValue(body, what);
  } catch (error) {
    throw new RecordBodyError(`${what}: malformed msgpack`, { cause: error });
  }
  if (!Array.isArray(value) || value.length !== length) throw new RecordBodyError(`${what}: expected an array of ${length}`);
  return value;
}

function uint(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RecordBodyError(`${what}: expected a non-negative integer`);
  }
  return value;
}

function bytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new RecordBodyError(`${what}: expected bytes`);
  return value;
}

/**
 * A copy as a plain Uint8Array. Snapshot data is small (a descriptor) and lives as long as the
 * WAL, so it must not keep the whole segment buffer it was read from alive. (Buffer#slice would
 * not do: on a Buffer it returns a view.)
 */
function copy(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(value.byteLength);
  out.set(value);
  return out;
}

export interface SnapshotBody {
  snapshot: Snapshot;
  /** True for a snapshot applied from a leader: the log is replaced by it. */
  resetsLog: boolean;
}

export function encodeSnapshotBody({ snapshot, resetsLog }: SnapshotBody): Uint8Array {
  return packArray([resetsLog, encodeSnapshotMeta(snapshot.metadata), snapshot.data]);
}

export function decodeSnapshotBody(body: Uint8Array): SnapshotBody {
  const [resetsLog, meta, data] = unpackArray(body, 3, 'snapshot record');
  if (typeof resetsLog !== 'boolean') throw new RecordBodyError('snapshot record: expected a boolean');
  const metadata = decodeSnapshotMeta(bytes(meta, 'snapshot record metadata'));
  return { snapshot: { metadata, data: copy(bytes(data, 'snapshot record data')) }, resetsLog };
}

export interface CompactionBody {
  index: number;
  term: number;
}

export function encodeCompactionBody({ index, term }: CompactionBody): Uint8Array {
  return packArray([index, term]);
}

export function decodeCompactionBody(body: Uint8Array): CompactionBody {
  const [index, term] = unpackArray(body, 2, 'compaction record');
  return { index: uint(index, 'compaction record index'), term: uint(term, 'compaction record term') };
}

/** The state of the log when a segment began; recovery from that segment on starts here. */
export interface SegmentHeaderBody {
  /** The segment's sequence number (also in its file name). */
  sequence: number;
  /** The last index of the log when the segment began. */
  lastIndex: number;
  /** The compaction point then (entries at and below it were dropped) and its term. */
  compactIndex: number;
  compactTerm: number;
  hardState: HardState;
  snapshot: Snapshot;
}

export function encodeSegmentHeaderBody(header: SegmentHeaderBody): Uint8Array {
  return packArray([
    header.sequence,
    header.lastIndex,
    header.compactIndex,
    header.compactTerm,
    encodeHardState(header.hardState),
    encodeSnapshotMeta(header.snapshot.metadata),
    header.snapshot.data,
  ]);
}

export function decodeSegmentHeaderBody(body: Uint8Array): SegmentHeaderBody {
  const fields = unpackArray(body, 7, 'segment header');
  return {
    sequence: uint(fields[0], 'segment header sequence'),
    lastIndex: uint(fields[1], 'segment header lastIndex'),
    compactIndex: uint(fields[2], 'segment header compactIndex'),
    compactTerm: uint(fields[3], 'segment header compactTerm'),
    hardState: decodeHardState(bytes(fields[4], 'segment header hard state')),
    snapshot: {
      metadata: decodeSnapshotMeta(bytes(fields[5], 'segment header snapshot metadata')),
      data: copy(bytes(fields[6], 'segment header snapshot data')),
    },
  };
}
