// The serializer of the RaftBatches a member sends its peers (PeerService.Raft, client side).
//
// Why not proto-loader's: protobufjs builds a message object, then copies every `bytes` element
// into a fresh buffer of the batch's size, and our transport had already copied each entry's
// payload into a msgpack record per follower (src/codec encodeMessage). A CPU profile of a leader
// under `kvc bench --pages 200` showed protobufjs' copy (`writeBytesBuffer_set`, 0.9 s of 12 s)
// beside the msgpack encoding and GC of those buffers. Here a batch's messages are
// src/codec EncodedParts (small fields, and large entries' data by reference): the serializer
// computes the batch's size, allocates it once and writes the fields and every part straight
// into it, so an entry's payload is copied once per follower into its batch. The batch is a
// framableBuffer (src/proto framed-send.ts): grpc-js writes its 5-byte frame header in front of it and sends
// it as it is, where it used to copy every batch into a frame of its own.
//
// A fresh buffer per batch, not a reused scratch buffer as get-pages-codec.ts has: grpc-js keeps
// the buffer until it is sent (and hands it through its filter stack behind an `await` first), so
// a later write would overwrite a batch still waiting there.
//
// The bytes are what protobufjs (via proto-loader's serializer) produces for the same RaftBatch
// with each message's parts concatenated: fields in number order, each scalar field written when
// its property is set (not null or undefined), even to a zero value, as protobufjs' fromObject +
// encode do; raft-batch-codec.test.ts decodes ours with the generated type and compares the
// bytes with protobufjs' on random batches. A member of an older build reads them unchanged.
import assert from 'node:assert/strict';
import type { EncodedParts } from '../codec/index.js';
import { delimitedBytes, framableBuffer, varintBytes, writeVarint } from '../proto/index.js';

/** A RaftBatch (peer.proto) whose messages are encoded as parts (src/codec encodeMessageParts). */
export interface OutgoingRaftBatch {
  from?: number;
  to?: number;
  messages?: EncodedParts[];
  fromAddress?: string;
  accessReport?: Uint8Array;
}

/** Field tags of RaftBatch: (number << 3) | wire type (0 varint, 2 length-delimited). */
const TAG_FROM = (1 << 3) | 0;
const TAG_TO = (2 << 3) | 0;
const TAG_MESSAGES = (3 << 3) | 2;
const TAG_FROM_ADDRESS = (4 << 3) | 2;
const TAG_ACCESS_REPORT = (5 << 3) | 2;

/** The protobuf encoding of `batch`, in a buffer of its own that grpc-js may keep. */
export function serializeRaftBatch(batch: OutgoingRaftBatch): Buffer {
  const { from, to, messages = [], fromAddress, accessReport } = batch;
  const addressBytes = fromAddress === undefined ? 0 : Buffer.byteLength(fromAddress, 'utf8');
  let size = 0;
  if (from !== undefined) size += 1 + varintBytes(from);
  if (to !== undefined) size += 1 + varintBytes(to);
  for (const m of messages) {
    let partsBytes = 0;
    for (const part of m.parts) partsBytes += part.byteLength;
    // A byteLength other than its parts' total would misplace every later field: a bug.
    assert.equal(partsBytes, m.byteLength, 'RaftBatch serializer: a message byteLength differs from its parts');
    size += delimitedBytes(m.byteLength);
  }
  if (fromAddress !== undefined) size += delimitedBytes(addressBytes);
  if (accessReport !== undefined) size += delimitedBytes(accessReport.byteLength);
  const out = framableBuffer(size);
  let at = 0;
  if (from !== undefined) {
    out[at++] = TAG_FROM;
    at = writeVarint(out, at, from);
  }
  if (to !== undefined) {
    out[at++] = TAG_TO;
    at = writeVarint(out, at, to);
  }
  for (const m of messages) {
    out[at++] = TAG_MESSAGES;
    at = writeVarint(out, at, m.byteLength);
    for (const part of m.parts) {
      out.set(part, at);
      at += part.byteLength;
    }
  }
  if (fromAddress !== undefined) {
    out[at++] = TAG_FROM_ADDRESS;
    at = writeVarint(out, at, addressBytes);
    at += out.write(fromAddress, at, 'utf8');
  }
  if (accessReport !== undefined) {
    out[at++] = TAG_ACCESS_REPORT;
    at = writeVarint(out, at, accessReport.byteLength);
    out.set(accessReport, at);
    at += accessReport.byteLength;
  }
  assert.equal(at, size, 'RaftBatch serializer: wrote a size other than it computed');
  return out;
}
