// The single msgpackr configuration of the project, and the two primitives every codec here is
// built on: `packTuple` (a JS array → msgpack bytes) and `unpackTuple` (bytes → a JS array,
// or a CodecError). Every record is a msgpack array whose first element is a format tag (see
// FormatTag), so a record of one kind is never mistaken for another and a later format version
// can take a new tag while the old one is still decoded.
//
// Copies, checked against msgpackr 2.1's source (unpack.js `readBin`) and by the tests:
// - Decoding does NOT copy binary fields: with `copyBuffers: false` msgpackr returns
//   `src.subarray(...)`, a view into the input. Decoded Uint8Array fields therefore share the
//   input's ArrayBuffer and keep it alive; a caller that keeps a small field of a large read
//   buffer for long should copy that field itself.
// - Encoding copies each payload exactly once, into the output buffer (msgpack needs the bytes
//   inline). For large records we size that buffer up front (see `packTuple`) so msgpackr does not
//   grow it by doubling, which would leave a 32 MiB page inside a 64 MiB allocation.

import { Packr } from 'msgpackr';
import { CodecError } from './codec-error.js';

/** The first element of every encoded record. New layouts take new tags; tags are never reused. */
export enum FormatTag {
  Entry = 1,
  HardState = 2,
  SnapshotMetadata = 3,
  Message = 4,
  Command = 5,
  AccessReport = 6,
}

/**
 * Options spelled out (CONVENTIONS: no library defaults): plain msgpack arrays/maps, no record
 * structures (`useRecords: false`, so no shared state between records), no typed-array or
 * structured-clone extensions (binary is msgpack `bin`, decoded as Uint8Array), 64-bit integers
 * decoded as numbers (the field checks then reject anything that is not a safe integer).
 */
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  mapsAsObjects: true,
  copyBuffers: false,
  int64AsType: 'number',
  bundleStrings: false,
  useTimestamp32: false,
  encodeUndefinedAsNil: false,
  variableMapSize: false,
  sequential: false,
});

/** Records whose binary fields reach this size get an output buffer sized for them up front. */
const PRESIZE_THRESHOLD_BYTES = 64 * 1024;
/** A fresh scratch buffer handed back to msgpackr after a presized record (its own default size). */
const SCRATCH_BYTES = 8192;
/** Slack on top of the size bound: msgpackr keeps a few bytes of headroom at the end of its buffer. */
const PRESIZE_SLACK_BYTES = 4096;
/** Upper bounds of msgpack encodings: a header byte plus up to 4 length bytes, a float64 number (the codec's size bounds all use these). */
export const CONTAINER_HEADER_BYTES_MAX = 5;
export const NUMBER_BYTES_MAX = 9;
/** msgpackr reserves 3 bytes per UTF-16 unit before it writes a string. */
export const STRING_BYTES_PER_UNIT_MAX = 3;
/** msgpack `bin` type bytes (the spec's names), for the codecs that write bin headers themselves. */
export const BIN8 = 0xc4;
export const BIN16 = 0xc5;
export const BIN32 = 0xc6;

/**
 * Encodes a record built by one of the codecs (arrays of numbers, strings, booleans, null and
 * Uint8Array only). `binaryBytes` is the total size of its Uint8Array fields, which the caller
 * knows; above PRESIZE_THRESHOLD_BYTES the output buffer is allocated at an exact upper bound.
 * The result is a view; small results share a larger buffer with other small results.
 */
export function packTuple(tuple: unknown[], binaryBytes: number): Uint8Array {
  if (binaryBytes < PRESIZE_THRESHOLD_BYTES) return packr.pack(tuple);
  // Buffers, as msgpackr allocates its own: it writes strings of 64 characters or more with
  // Buffer#utf8Write, which a plain Uint8Array lacks ("target.utf8Write is not a function": a put
  // of a page of 64 KiB or more into a namespace of 64 characters or more failed, and so did
  // every later command with such a string, until msgpackr next allocated a buffer of its own).
  packr.useBuffer(Buffer.allocUnsafeSlow(encodedBytesMax(tuple) + PRESIZE_SLACK_BYTES));
  try {
    return packr.pack(tuple);
  } finally {
    // The presized buffer now belongs to the result: later records must not be written after it,
    // and msgpackr would otherwise allocate its next buffer at the presized (large) length.
    packr.useBuffer(Buffer.allocUnsafeSlow(SCRATCH_BYTES));
  }
}

/** An upper bound of the msgpack size of a record, for presizing. */
function encodedBytesMax(value: unknown): number {
  if (value instanceof Uint8Array) return CONTAINER_HEADER_BYTES_MAX + value.byteLength;
  if (typeof value === 'string') return CONTAINER_HEADER_BYTES_MAX + STRING_BYTES_PER_UNIT_MAX * value.length;
  if (Array.isArray(value)) {
    let total = CONTAINER_HEADER_BYTES_MAX;
    for (const item of value) total += encodedBytesMax(item);
    return total;
  }
  return NUMBER_BYTES_MAX;
}

/**
 * Decodes one msgpack value that must fill `bytes` exactly and be an array whose first element
 * is `tag`. Returns the array (tag included). Any failure, including msgpackr's own errors on
 * truncated or garbage input, becomes a CodecError naming `what`.
 */
export function unpackTuple(bytes: unknown, tag: FormatTag, what: string): unknown[] {
  const value = unpackValue(bytes, what);
  if (!Array.isArray(value)) throw new CodecError(`${what}: expected a record array, got ${describe(value)}`);
  if (value[0] !== tag) throw new CodecError(`${what}: expected format tag ${tag}, got ${describe(value[0])}`);
  return value;
}

/**
 * Decodes one msgpack value that must fill `bytes` exactly, with the project's one Packr. Any
 * failure, including msgpackr's own errors on truncated or garbage input, becomes a CodecError
 * naming `what`. Binary fields come back as views into `bytes`.
 */
export function unpackValue(bytes: unknown, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new CodecError(`${what}: expected a Uint8Array, got ${describe(bytes)}`);
  // A fresh plain view: decoded binary fields come out as Uint8Array (not Buffer) even when the
  // input is a Buffer, and msgpackr's cached DataView lands on our view, not the caller's object.
  const source = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let value: unknown;
  let end = -1;
  try {
    // unpackMultiple stops after the first value and tells us where it ended. Plain `unpack`
    // would instead JSON-stringify the whole decoded value to report trailing bytes, which costs
    // seconds on a 32 MiB payload followed by one garbage byte.
    packr.unpackMultiple(source, (first: unknown, _start?: number, firstEnd?: number) => {
      value = first;
      end = firstEnd ?? -1;
      return false;
    });
  } catch (error) {
    throw new CodecError(`${what}: malformed msgpack (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    });
  }
  if (end !== source.byteLength) throw new CodecError(`${what}: ${source.byteLength - end} trailing bytes`);
  return value;
}

/** Encodes a plain array (numbers, booleans, strings, Uint8Arrays) with the project's one Packr. */
export function packArray(values: unknown[]): Uint8Array {
  let binaryBytes = 0;
  for (const value of values) if (value instanceof Uint8Array) binaryBytes += value.byteLength;
  return packTuple(values, binaryBytes);
}

/** A short description of a value for error messages (never the value itself: it may be huge). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `a string of ${value.length}`;
  return `${typeof value} ${String(value).slice(0, 32)}`;
}
