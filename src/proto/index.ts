// The TypeScript side of the wire contract (proto/kvcache/v1/*.proto): where the .proto files
// are, the @grpc/proto-loader options every process uses (CONVENTIONS: options spelled out), and
// the types of every message, generated from the .proto files by proto-loader-gen-types with these
// same options (scripts/gen-proto.ts, `npm run gen:proto`; src/proto/generated/ is committed and
// test/proto/generated.test.ts fails when it is stale). The server (src/rpc) and the client
// (src/client) both take their message types from here and from no one else, as DESIGN §3 asks of
// the client.
//
// Two types per message, as the generator names them:
// - `Name` is what a sender hands the serializer: every field optional (proto3 defaults), bytes as
//   Buffer | Uint8Array | string, 64-bit integers as number | string | Long, enums by name or number.
// - `Name__Output` is what a receiver gets from the deserializer under these options: every field
//   present (`defaults: true`), bytes as Buffer, 64-bit integers as numbers, enums by name, an
//   absent message field as null.
// One thing the generated `__Output` types do not say: an enum value the schema does not name (a
// newer sender's) arrives as its number. Code that must survive one checks the field's type where
// it reads it (src/rpc/validate.ts widens Dtype with `| number`; src/client/watch.ts skips events
// of an unnamed type).
import { fileURLToPath } from 'node:url';
import type * as protoLoader from '@grpc/proto-loader';

/** The repository's proto root, found from this module so it works from any working directory. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));

export const PROTO_FILES = ['kvcache/v1/cache.proto', 'kvcache/v1/admin.proto', 'kvcache/v1/peer.proto'] as const;

/** The services the client calls; src/client runs their static code (client-codec.ts), generated from these files. */
export const CLIENT_PROTO_FILES = ['kvcache/v1/cache.proto', 'kvcache/v1/admin.proto'] as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});

export type * from './generated/index.js';
export { CLIENT_SERVICES, clientMessageTypes } from './generated/client-codec.js';
export { LOOKUP_TAGS, VARINT_CONTINUE, delimitedBytes, varintBytes, writeVarint } from './protobuf-wire.js';
export { BY_REFERENCE_BYTES_MIN, FRAME_HEADER_BYTES, FramableWriter, framableBuffer, framedPieces, installFramedSend, messagePieces, wholeMessage, type FramedSend } from './framed-send.js';
export { RECEIVE_ROOM_BYTES, RECEIVE_ROOM_MESSAGE_BYTES_MIN, inRoomyBuffer, installReceiveRoom, roomyMessageBuffer, type ReceiveRoom } from './receive-room.js';
export { PUT_LANE_HEAD_BYTES, PUT_LANE_HELLO, PUT_LANE_KINDS, putLaneFrameHead } from './put-lane-wire.js';
export { FrameReader, type MessageBufferFor } from './frame-reader.js';
