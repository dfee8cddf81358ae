// Protobuf wire-format mutations of a valid encoded message, for the fuzzer (fuzz.ts). They work
// on the bytes, not on a schema, so they make what no well-behaved encoder makes: dropped and
// duplicated fields, a field under the wrong wire type, length prefixes far past the end or
// negative, varints longer than ten bytes, truncated and padded messages, flipped bytes, fields of
// unknown numbers, repeated fields copied thousands of times. Every choice comes from the given
// Prng, so a seed reproduces the same bytes.
import type { Prng } from '../sim/index.js';

/** One top-level field of a message: where it starts and ends, its number and wire type. */
export interface WireField {
  start: number;
  end: number;
  fieldNumber: number;
  wireType: number;
  /** For wire type 2: where the payload starts (after the length prefix). */
  payloadStart: number;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;
/** Copies of a repeated field at most (keeps a message far below the receive limits). */
const REPEAT_COPIES_MAX = 12_000;
/** A message grown by copies stays below this many bytes. */
const GROWN_BYTES_MAX = 1 << 20;

/** Reads a varint at `offset`; undefined when it runs past the end or over ten bytes. */
function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length && i < offset + 10; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}

/** Encodes a non-negative integer (up to 2^64 - 1 as a bigint) as a varint. */
export function encodeVarint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v = (1n << 64n) + v; // Two's complement, as protobuf writes a negative int64: ten bytes.
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(out);
}

/** The top-level fields of `bytes`, or undefined when they do not parse as protobuf. */
export function parseFields(bytes: Uint8Array): WireField[] | undefined {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const key = readVarint(bytes, offset);
    if (key === undefined) return undefined;
    const wireType = key.value % 8;
    const fieldNumber = Math.floor(key.value / 8);
    let end: number;
    let payloadStart = key.next;
    if (wireType === WIRE_VARINT) {
      const v = readVarint(bytes, key.next);
      if (v === undefined) return undefined;
      end = v.next;
    } else if (wireType === WIRE_FIXED64) end = key.next + 8;
    else if (wireType === WIRE_FIXED32) end = key.next + 4;
    else if (wireType === WIRE_LENGTH) {
      const length = readVarint(bytes, key.next);
      if (length === undefined) return undefined;
      payloadStart = length.next;
      end = length.next + length.value;
    } else return undefined;
    if (end > bytes.length || fieldNumber === 0) return undefined;
    fields.push({ start: offset, end, fieldNumber, wireType, payloadStart });
    offset = end;
  }
  return fields;
}

function fieldKey(fieldNumber: number, wireType: number): Buffer {
  return encodeVarint(fieldNumber * 8 + wireType);
}

function randomBytes(prng: Prng, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = prng.int(256);
  return out;
}

/** Length prefixes that point far past the end, or are negative as a signed varint. */
const BAD_LENGTHS: readonly bigint[] = [2n ** 31n, 2n ** 32n - 1n, 2n ** 53n, 2n ** 63n, -1n, -(2n ** 31n), 1_000_000n];

export const WIRE_MUTATIONS = [
  'drop-field',
  'duplicate-field',
  'wrong-wire-type',
  'bad-length',
  'truncate',
  'append-garbage',
  'flip-bytes',
  'random-bytes',
  'empty',
  'unknown-field',
  'overlong-varint',
  'nested',
  'repeat-field',
] as const;
export type WireMutation = (typeof WIRE_MUTATIONS)[number];

/**
 * One mutation of `bytes` (a valid message) picked by `prng`; returns the new bytes and its name.
 * Mutations that need a field fall back to flipping bytes when the message has none.
 */
export function mutateMessage(prng: Prng, bytes: Buffer, depth = 0): { bytes: Buffer; mutation: WireMutation } {
  const mutation = WIRE_MUTATIONS[prng.int(WIRE_MUTATIONS.length)]!;
  const fields = parseFields(bytes) ?? [];
  const field = fields.length === 0 ? undefined : fields[prng.int(fields.length)]!;
  const before = (f: WireField): Buffer => bytes.subarray(0, f.start);
  const after = (f: WireField): Buffer => bytes.subarray(f.end);
  const whole = (f: WireField): Buffer => bytes.subarray(f.start, f.end);
  switch (mutation) {
    case 'drop-field':
      if (field !== undefined) return { bytes: Buffer.concat([before(field), after(field)]), mutation };
      break;
    case 'duplicate-field':
      if (field !== undefined) return { bytes: Buffer.concat([bytes, whole(field)]), mutation };
      break;
    case 'wrong-wire-type':
      if (field !== undefined) {
        const types = [WIRE_VARINT, WIRE_FIXED64, WIRE_LENGTH, 3, 4, WIRE_FIXED32, 6, 7].filter((w) => w !== field.wireType);
        const key = readVarint(bytes, field.start)!;
        const rekeyed = Buffer.concat([fieldKey(field.fieldNumber, types[prng.int(types.length)]!), bytes.subarray(key.next, field.end)]);
        return { bytes: Buffer.concat([before(field), rekeyed, after(field)]), mutation };
      }
      break;
    case 'bad-length': {
      const lengthField = fields.filter((f) => f.wireType === WIRE_LENGTH);
      const f = lengthField.length === 0 ? undefined : lengthField[prng.int(lengthField.length)]!;
      const length = encodeVarint(BAD_LENGTHS[prng.int(BAD_LENGTHS.length)]!);
      if (f !== undefined) {
        return { bytes: Buffer.concat([before(f), fieldKey(f.fieldNumber, WIRE_LENGTH), length, bytes.subarray(f.payloadStart)]), mutation };
      }
      return { bytes: Buffer.concat([bytes, fieldKey(1 + prng.int(8), WIRE_LENGTH), length, randomBytes(prng, prng.int(8))]), mutation };
    }
    case 'truncate':
      if (bytes.length > 1) return { bytes: bytes.subarray(0, 1 + prng.int(bytes.length - 1)), mutation };
      break;
    case 'append-garbage':
      return { bytes: Buffer.concat([bytes, randomBytes(prng, 1 + prng.int(32))]), mutation };
    case 'random-bytes':
      return { bytes: randomBytes(prng, prng.int(64)), mutation };
    case 'empty':
      return { bytes: Buffer.alloc(0), mutation };
    case 'unknown-field':
      return { bytes: Buffer.concat([bytes, fieldKey(1000 + prng.int(100_000), WIRE_LENGTH), encodeVarint(3), randomBytes(prng, 3)]), mutation };
    case 'overlong-varint':
      // Eleven continuation bytes: no decoder may take it as a varint.
      return { bytes: Buffer.concat([bytes, fieldKey(1 + prng.int(8), WIRE_VARINT), Buffer.alloc(11, 0xff), Buffer.from([0x01])]), mutation };
    case 'nested': {
      const nested = fields.filter((f) => f.wireType === WIRE_LENGTH && f.end > f.payloadStart);
      if (nested.length > 0 && depth < 2) {
        const f = nested[prng.int(nested.length)]!;
        const inner = mutateMessage(prng, Buffer.from(bytes.subarray(f.payloadStart, f.end)), depth + 1).bytes;
        return { bytes: Buffer.concat([before(f), fieldKey(f.fieldNumber, WIRE_LENGTH), encodeVarint(inner.length), inner, after(f)]), mutation };
      }
      break;
    }
    case 'repeat-field':
      if (field !== undefined) {
        const one = whole(field);
        const copies = Math.min(1 + prng.int(REPEAT_COPIES_MAX), Math.floor(GROWN_BYTES_MAX / Math.max(1, one.length)));
        return { bytes: Buffer.concat([bytes, ...Array.from({ length: copies }, () => one)]), mutation };
      }
      break;
    case 'flip-bytes':
      break;
  }
  const flipped = Buffer.from(bytes.length === 0 ? randomBytes(prng, 1 + prng.int(16)) : bytes);
  for (let i = 0, n = 1 + prng.int(4); i < n; i++) flipped[prng.int(flipped.length)] ^= 1 << prng.int(8);
  return { bytes: flipped, mutation: 'flip-bytes' };
}
