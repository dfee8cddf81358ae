// The deserializer of LookupRequest and the serializer of LookupResponse, written by hand.
//
// Why: a batched Lookup (the client's concurrent callers, LookupRequest.more_prompts) carries
// hundreds of prompts of 16 keys, and proto-loader's deserializer (protobufjs decode, then a
// generic toObject that copies every field, keys included, into a second object graph) cost more
// per prompt than answering the prompt from the page index (measured: ~2.2 µs per prompt of 16
// keys, against ~0.5 µs here). This one reads the canonical encoding straight into the object the
// handler takes: every key a view of the received buffer, as protobufjs gives it.
//
// What it does not read — a field of another number or wire type (a newer client's field, a group,
// a fixed-width value), or bytes that do not decode — it hands to proto-loader's deserializer for
// the whole message, so the result, and the error a malformed request gets
// (KVC_MALFORMED_REQUEST, malformed.ts), is exactly proto-loader's. lookup-codec.test.ts checks both
// directions against proto-loader on random messages: equal objects, equal bytes.
import { LOOKUP_TAGS, VARINT_CONTINUE, varintBytes, writeVarint, type LookupRequest__Output as LookupRequest, type LookupResponse } from '../proto/index.js';

type Deserialize = (bytes: Buffer) => LookupRequest;
type Serialize = (value: LookupResponse) => Buffer;

const {
  namespace: TAG_NAMESPACE,
  keys: TAG_KEYS,
  linearizable: TAG_LINEARIZABLE,
  leaseMs: TAG_LEASE_MS,
  morePrompts: TAG_MORE_PROMPTS,
  keyListKeys: TAG_KEY_LIST_KEYS,
  matched: TAG_MATCHED,
  appliedIndex: TAG_APPLIED_INDEX,
  moreMatched: TAG_MORE_MATCHED,
} = LOOKUP_TAGS;
/** A varint's payload bits per byte. */
const VARINT_BITS = 7;
/** Below this a varint's value is exact in a double (2^53); protobufjs converts longer ones itself. */
const VARINT_EXACT_BYTES_MAX = 7;

/** Thrown (and caught here) when the fast path meets what only proto-loader reads. */
const NOT_CANONICAL = new Error('not the canonical LookupRequest encoding');

/** A reader over one message's bytes `[at, end)`. */
class Reader {
  at: number;

  constructor(
    readonly bytes: Buffer,
    at: number,
    readonly end: number,
  ) {
    this.at = at;
  }

  /** A varint of at most 7 bytes (below 2^49) as a number; longer ones are not canonical here. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let read = 0; read < VARINT_EXACT_BYTES_MAX; read++) {
      if (this.at >= this.end) throw NOT_CANONICAL;
      const byte = this.bytes[this.at++]!;
      value += (byte & (VARINT_CONTINUE - 1)) * scale;
      if (byte < VARINT_CONTINUE) return value;
      scale *= 2 ** VARINT_BITS;
    }
    throw NOT_CANONICAL;
  }

  /** The bounds of a length-delimited field's bytes, after them. */
  delimited(): number {
    const length = this.varint();
    const start = this.at;
    if (length > this.end - start) throw NOT_CANONICAL;
    this.at = start + length;
    return start;
  }

  /** A bytes field: a view of the received buffer. */
  bytesField(): Buffer {
    const start = this.delimited();
    return this.bytes.subarray(start, this.at);
  }
}

function readKeyList(reader: Reader): { keys: Buffer[] } {
  const start = reader.delimited();
  const inner = new Reader(reader.bytes, start, reader.at);
  const keys: Buffer[] = [];
  while (inner.at < inner.end) {
    if (inner.varint() !== TAG_KEY_LIST_KEYS) throw NOT_CANONICAL;
    keys.push(inner.bytesField());
  }
  return { keys };
}

/** A bool as protobufjs reads one (low 32 bits non-zero), for the values 0 and 1 that encoders write. */
function readBool(reader: Reader): boolean {
  const value = reader.varint();
  if (value > 1) throw NOT_CANONICAL;
  return value === 1;
}

function readLookupRequest(bytes: Buffer): LookupRequest {
  const request: LookupRequest = { keys: [], morePrompts: [], namespace: '', linearizable: false, leaseMs: 0 };
  const reader = new Reader(bytes, 0, bytes.byteLength);
  while (reader.at < reader.end) {
    const tag = reader.varint();
    if (tag === TAG_KEYS) request.keys.push(reader.bytesField());
    else if (tag === TAG_MORE_PROMPTS) request.morePrompts.push(readKeyList(reader));
    else if (tag === TAG_NAMESPACE) request.namespace = bytes.toString('utf8', reader.delimited(), reader.at);
    else if (tag === TAG_LINEARIZABLE) request.linearizable = readBool(reader);
    else if (tag === TAG_LEASE_MS) request.leaseMs = reader.varint();
    else throw NOT_CANONICAL;
  }
  return request;
}

/** LookupRequest's deserializer: the fast path, or `decodeGeneric` (proto-loader's) for the rest. */
export function lookupRequestDeserializer(decodeGeneric: Deserialize): Deserialize {
  return (bytes) => {
    try {
      return readLookupRequest(bytes);
    } catch {
      // NOT_CANONICAL (the fast path throws nothing else): proto-loader reads it, or throws its own error.
      return decodeGeneric(bytes);
    }
  };
}

const UINT32_MAX = 0xffff_ffff;

/** A uint32 field the fast serializer writes as is: what the handler answers. */
function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX;
}

/** A uint64 field the fast serializer writes as is: a number below 2^53. */
function isSafeUint64(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * LookupResponse's serializer: protobufjs's bytes (a scalar field that is present is written, even
 * when zero; an empty list is left out; more_matched packed), into a buffer of their size;
 * `encodeGeneric` (proto-loader's) for a response with a field of another kind (a string or Long
 * applied_index), which the handler never writes.
 */
export function lookupResponseSerializer(encodeGeneric: Serialize): Serialize {
  return (response) => {
    const { matched, appliedIndex, moreMatched = [] } = response;
    const plain = (matched == null || isUint32(matched)) && (appliedIndex == null || isSafeUint64(appliedIndex)) && moreMatched.every(isUint32);
    if (!plain) return encodeGeneric(response);
    return writeLookupResponse(matched ?? undefined, appliedIndex ?? undefined, moreMatched);
  };
}

function writeLookupResponse(matched: number | undefined, appliedIndex: number | undefined, more: number[]): Buffer {
  let packedBytes = 0;
  for (const value of more) packedBytes += varintBytes(value);
  let size = 0;
  if (matched !== undefined) size += 1 + varintBytes(matched);
  if (appliedIndex !== undefined) size += 1 + varintBytes(appliedIndex);
  if (more.length > 0) size += 1 + varintBytes(packedBytes) + packedBytes;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  if (matched !== undefined) {
    out[at++] = TAG_MATCHED;
    at = writeVarint(out, at, matched);
  }
  if (appliedIndex !== undefined) {
    out[at++] = TAG_APPLIED_INDEX;
    at = writeVarint(out, at, appliedIndex);
  }
  if (more.length > 0) {
    out[at++] = TAG_MORE_MATCHED;
    at = writeVarint(out, at, packedBytes);
    for (const value of more) at = writeVarint(out, at, value);
  }
  return out;
}
