// Protobuf wire-format pieces for the hand-written codecs of this folder (get-pages-codec.ts,
// raft-batch-codec.ts, lookup-codec.ts): varints and the size of a length-delimited field. Each
// writes the bytes protobufjs would, so these follow the protobuf encoding spec for values below 2^53.

/** The top bit of a varint byte: more bytes follow. */
const VARINT_CONTINUE = 0x80;

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
