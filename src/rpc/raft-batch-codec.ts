// The serializer of the RaftBatches a member sends its peers (PeerService.Raft, client side).
//
// Why not proto-loader's: protobufjs builds a message object, then copies every `bytes` element
// into a fresh buffer of the batch's size, and our transport had already copied each entry's
// payload into a msgpack record per follower (src/codec encodeMessage). A CPU profile of a leader
// under `kvc bench --pages 200` showed protobufjs' copy (`writeBytesBuffer_set`, 0.9 s of 12 s)
// beside the msgpack encoding and GC of those buffers. Here a batch's messages are
// src/codec EncodedParts (small fields, and large entries' data by reference): the serializer
// computes the batch's size and writes it through a FramableWriter (src/proto framed-send.ts):
// the fields and small parts are copied once into a buffer grpc-js frames in place, and an
// entry's data (a part of 16 KiB or more) is not copied at all, but sent by reference behind them
// (the leader used to copy each entry once per follower into its batch: 5 % of its busy main
// thread under 1 MiB puts). Entries' data is never changed once made, so grpc-js may hold it.
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
import { FramableWriter, delimitedBytes, varintBytes } from '../proto/index.js';

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

/** The protobuf encoding of `batch`, in buffers of its own (and entries' data by reference) that grpc-js may keep. */
export function serializeRaftBatch(batch: OutgoingRaftBatch): Buffer {
  const { from, to, messages = [], fromAddress, accessReport } = batch;
  const addressBytes = fromAddress === undefined ? 0 : Buffer.byteLength(fromAddress, 'utf8');
  let size = 0;
  let byReferenceBytes = 0;
  if (from !== undefined) size += 1 + varintBytes(from);
  if (to !== undefined) size += 1 + varintBytes(to);
  for (const m of messages) {
    let partsBytes = 0;
    for (const part of m.parts) {
      partsBytes += part.byteLength;
      if (FramableWriter.byReference(part.byteLength)) byReferenceBytes += part.byteLength;
    }
    // A byteLength other than its parts' total would misplace every later field: a bug.
    assert.equal(partsBytes, m.byteLength, 'RaftBatch serializer: a message byteLength differs from its parts');
    size += delimitedBytes(m.byteLength);
  }
  if (fromAddress !== undefined) size += delimitedBytes(addressBytes);
  if (accessReport !== undefined) {
    size += delimitedBytes(accessReport.byteLength);
    if (FramableWriter.byReference(accessReport.byteLength)) byReferenceBytes += accessReport.byteLength;
  }
  const out = new FramableWriter(size, byReferenceBytes);
  if (from !== undefined) {
    out.byte(TAG_FROM);
    out.varint(from);
  }
  if (to !== undefined) {
    out.byte(TAG_TO);
    out.varint(to);
  }
  for (const m of messages) {
    out.byte(TAG_MESSAGES);
    out.varint(m.byteLength);
    for (const part of m.parts) out.bytes(part);
  }
  if (fromAddress !== undefined) {
    out.byte(TAG_FROM_ADDRESS);
    out.varint(addressBytes);
    out.utf8(fromAddress);
  }
  if (accessReport !== undefined) {
    out.byte(TAG_ACCESS_REPORT);
    out.varint(accessReport.byteLength);
    out.bytes(accessReport);
  }
  return out.finish();
}
