// Protobuf wire-format pieces for the hand-written codecs (src/rpc: get-pages-codec.ts,
// raft-batch-codec.ts, lookup-codec.ts; src/client: lookup-request.ts): varints, the size of a
// length-delimited field, and the field tags that both sides of Lookup write or read. Each writes
// the bytes protobufjs would, so these follow the protobuf encoding spec for values below 2^53.

/** The top bit of a varint byte: more bytes follow. */
export const VARINT_CONTINUE = 0x80;
const WIRE_VARINT = 0;
const WIRE_DELIMITED = 2;

/** Field tags, (number << 3) | wire type, of LookupRequest, KeyList and LookupResponse (cache.proto). */
export const LOOKUP_TAGS = Object.freeze({
  namespace: (1 << 3) | WIRE_DELIMITED,
  keys: (2 << 3) | WIRE_DELIMITED,
  linearizable: (3 << 3) | WIRE_VARINT,
  leaseMs: (4 << 3) | WIRE_VARINT,
  morePrompts: (5 << 3) | WIRE_DELIMITED,
  keyListKeys: (1 << 3) | WIRE_DELIMITED,
  matched: (1 << 3) | WIRE_VARINT,
  appliedIndex: (2 << 3) | WIRE_VARINT,
  moreMatched: (3 << 3) | WIRE_DELIMITED,
});

/** Bytes of `value` as a protobuf varint (0 ≤ value < 2^53). */
export function varintBytes(value: number): number {
  let bytes = 1;
  for (let v = value; v >= VARINT_CONTINUE; v = Math.floor(v / VARINT_CONTINUE)) bytes++;
  return bytes;
}

/** Writes `value` as a varint into `target` at `at`; returns the position after it. */
export function writeVarint(target: Buffer, at: number, value: number): number {
  let v = value;
  let position = at;
  while (v >= VARINT_CONTINUE) {
    target[position++] = (v % VARINT_CONTINUE) | VARINT_CONTINUE;
    v = Math.floor(v / VARINT_CONTINUE);
  }
  target[position++] = v;
  return position;
}

/** Bytes of a length-delimited field of `length` bytes: its one-byte tag, its length, its bytes. */
export function delimitedBytes(length: number): number {
  return 1 + varintBytes(length) + length;
}
