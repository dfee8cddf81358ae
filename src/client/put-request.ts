// The client's PutPagesRequest encoder, written by hand, into a buffer grpc-js sends as it is.
//
// Why: the static protobufjs code copied each message's data (up to a 1 MiB chunk) into the
// buffer it encodes, and grpc-js then copied that buffer once more into a frame behind the 5-byte
// gRPC header (a CPU profile of a client putting 1 MiB pages, 8 in flight, had both copies among
// its largest items: protobufjs' writeBytesBuffer_set and Buffer's _copyActual under grpc-js'
// compression filter). Here the data is copied once, into a framableBuffer (src/proto
// framed-send.ts), whose header grpc-js writes in place once installFramedSend() ran (KvcClient
// does); the page's metadata, a few dozen bytes, is still encoded by the static code.
//
// The bytes are protobufjs's for the same message (cache.proto field order: meta when present,
// data and last whenever set, as protobufjs writes a present field even at its default);
// test/client/put-request.test.ts checks them against the static code.
import assert from 'node:assert/strict';
import { delimitedBytes, framableBuffer, writeVarint, type PageMeta, type PutPagesRequest } from '../proto/index.js';

/** Field tags, (number << 3) | wire type, of PutPagesRequest (cache.proto). */
const TAG_META = (1 << 3) | 2;
const TAG_DATA = (2 << 3) | 2;
const TAG_LAST = (3 << 3) | 0;

/** The protobuf encoding of `message`, with `encodeMeta` (the static code's) for its PageMeta. */
export function encodePutPagesRequest(message: PutPagesRequest, encodeMeta: (meta: PageMeta) => Uint8Array): Buffer {
  const meta = message.meta == null ? undefined : encodeMeta(message.meta);
  const data = message.data == null ? undefined : typeof message.data === 'string' ? Buffer.from(message.data, 'base64') : message.data;
  const last = message.last;
  let size = 0;
  if (meta !== undefined) size += delimitedBytes(meta.byteLength);
  if (data !== undefined) size += delimitedBytes(data.byteLength);
  if (last != null) size += 2;
  const out = framableBuffer(size);
  let at = 0;
  if (meta !== undefined) {
    out[at++] = TAG_META;
    at = writeVarint(out, at, meta.byteLength);
    out.set(meta, at);
    at += meta.byteLength;
  }
  if (data !== undefined) {
    out[at++] = TAG_DATA;
    at = writeVarint(out, at, data.byteLength);
    out.set(data, at);
    at += data.byteLength;
  }
  if (last != null) {
    out[at++] = TAG_LAST;
    out[at++] = last ? 1 : 0;
  }
  // A size other than the one computed would send a truncated or padded message: a bug.
  assert.equal(at, size, 'PutPagesRequest encoder: wrote a size other than it computed');
  return out;
}
