// The client's PutPagesRequest encoder, written by hand, into a buffer grpc-js sends as it is.
//
// Why: the static protobufjs code copied each message's data (up to a 1 MiB chunk) into the
// buffer it encodes, and grpc-js then copied that buffer once more into a frame behind the 5-byte
// gRPC header (a CPU profile of a client putting 1 MiB pages, 8 in flight, had both copies among
// its largest items: protobufjs' writeBytesBuffer_set and Buffer's _copyActual under grpc-js'
// compression filter). Here a FramableWriter (src/proto framed-send.ts) writes the message: the
// tags and the page's metadata (a few dozen bytes, encoded by the static code) are copied, and a
// chunk's data of 16 KiB or more is not copied at all but sent by reference behind them, once
// installFramedSend() ran (KvcClient does). The caller's data must stay as it is until the put
// resolves, as it must for a retry anyway.
//
// The bytes are protobufjs's for the same message (cache.proto field order: meta when present,
// data and last whenever set, as protobufjs writes a present field even at its default);
// test/client/put-request.test.ts checks them against the static code.
import { FramableWriter, delimitedBytes, type PageMeta, type PutPagesRequest } from '../proto/index.js';

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
  const out = new FramableWriter(size, data !== undefined && FramableWriter.byReference(data.byteLength) ? data.byteLength : 0);
  if (meta !== undefined) {
    out.byte(TAG_META);
    out.varint(meta.byteLength);
    out.bytes(meta);
  }
  if (data !== undefined) {
    out.byte(TAG_DATA);
    out.varint(data.byteLength);
    out.bytes(data);
  }
  if (last != null) {
    out.byte(TAG_LAST);
    out.byte(last ? 1 : 0);
  }
  return out.finish();
}
