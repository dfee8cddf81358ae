// The serializer of GetPagesResponse, the one message that carries page bytes out of a member.
//
// Why not proto-loader's: protobufjs encodes a message into a fresh buffer of its size, so every
// 1 MiB chunk cost a new 1 MiB allocation and a copy before grpc-js allocated its frame and copied
// the bytes again. On the VMs we run on, a freshly allocated large buffer costs page faults (about
// 3 ms per MiB, against 0.05 ms for memory that is reused) and garbage-collector work; the profile
// of a member serving memory-tier reads showed those allocations, their copies and GC as the bulk
// of its CPU. Here the small fields (the page's metadata, once per page) are still encoded by
// protobufjs, and the chunk is written behind them into one scratch buffer that is reused for every
// message.
//
// Why a shared scratch buffer is safe: grpc-js (1.14, server-interceptors.ts serializeMessage)
// calls the serializer and at once copies its output into the frame it sends (a buffer of its
// own, 5 header bytes + message), before any other JavaScript runs; the serializer's output is
// not kept. The end-to-end tests read thousands of chunks with their crc32c checked, so a grpc-js
// that kept the buffer would fail them.
//
// The encoding is what protobufjs produces for the same message (proto3, fields in number order,
// zero values left out), so any client decodes it; get-pages-codec.test.ts checks the bytes.
import assert from 'node:assert/strict';
import { LIMITS } from '../limits.js';
import type { GetPagesResponse } from '../proto/index.js';
import { delimitedBytes, varintBytes, writeVarint } from '../proto/index.js';

/** Field tags of GetPagesResponse (cache.proto): (number << 3) | wire type; meta (1) comes from protobufjs. */
const TAG_DATA = (2 << 3) | 2;
const TAG_OFFSET = (3 << 3) | 0;
const TAG_LAST = (4 << 3) | 0;
/** Room for the tags, lengths, offset and flag around a chunk and its metadata. */
const FIELD_HEADROOM_BYTES = 64;
const EMPTY = new Uint8Array(0);

export type Serializer = (value: GetPagesResponse) => Buffer;

/**
 * A GetPagesResponse serializer writing into one reused buffer. `encodeGeneric` is proto-loader's
 * serializer, used for the metadata alone (a message without data, offset or flag encodes as its
 * meta field). The returned Buffer is valid until the next call.
 */
export function getPagesResponseSerializer(encodeGeneric: Serializer): Serializer {
  let scratch = Buffer.allocUnsafe(LIMITS.page.chunkBytes + FIELD_HEADROOM_BYTES);
  return (value) => {
    const { data = EMPTY, offset = 0, last = false, ...small } = value;
    // The generated type also admits a string for bytes and a string or Long for a 64-bit field;
    // get-pages.ts writes bytes and numbers, and anything else here is a bug.
    assert.ok(typeof data !== 'string' && typeof offset === 'number', 'GetPagesResponse chunk of unexpected field types');
    // Every other field (the metadata, a shared-memory answer, any field added later) through
    // protobufjs, which skips the fields a message does not own; only when one of them is set.
    const meta = Object.values(small).some((field) => field !== null && field !== undefined) ? encodeGeneric(small as GetPagesResponse) : EMPTY;
    const bytes =
      meta.byteLength +
      (data.byteLength > 0 ? delimitedBytes(data.byteLength) : 0) +
      (offset > 0 ? 1 + varintBytes(offset) : 0) +
      (last ? 2 : 0);
    // Messages never exceed the client message limit (grpc-js refuses them); larger scratch is a bug.
    assert.ok(bytes <= LIMITS.rpc.clientMessageBytesMax, `GetPagesResponse of ${bytes} bytes`);
    if (scratch.byteLength < bytes) scratch = Buffer.allocUnsafe(bytes);
    // The small fields as protobufjs wrote them, then data, offset and last (protobuf readers
    // accept fields in any order; with only `meta` among them the bytes are protobufjs' own).
    scratch.set(meta, 0);
    let at = meta.byteLength;
    if (data.byteLength > 0) {
      scratch[at++] = TAG_DATA;
      at = writeVarint(scratch, at, data.byteLength);
      scratch.set(data, at);
      at += data.byteLength;
    }
    if (offset > 0) {
      scratch[at++] = TAG_OFFSET;
      at = writeVarint(scratch, at, offset);
    }
    if (last) {
      scratch[at++] = TAG_LAST;
      scratch[at++] = 1;
    }
    assert.equal(at, bytes);
    return scratch.subarray(0, bytes);
  };
}
