// Messages a member sends to its peers, framed where they were encoded instead of copied.
//
// grpc-js sends every message of a client call through its compression filter, whose identity
// handler (no compression, what every channel of ours uses) allocates a buffer 5 bytes longer
// than the message and copies the message behind the gRPC frame header (a compressed flag and the
// length). For a leader that is one more copy of every entry's payload per follower, into freshly
// allocated memory: a CPU profile of a leader under 1 MiB puts, 8 in flight (`kvc profile
// --member <leader> --seconds 5` during `kvc bench`), had 8 % of its busy main thread in that
// copy (compression-filter.js writeMessage, under two followers' Raft streams).
//
// framableBuffer() gives an encoder its output buffer with the 5 bytes of room in front;
// installFramedSend() makes the identity handler write the header into that room and send the
// whole as it is. Every other message is framed by grpc-js as before. The buffer then belongs to
// grpc-js until it is sent: the encoder must not reuse it (raft-batch-codec.ts allocates one per
// batch). A retried call sends the same buffer again, with the same header.
//
// grpc-js has no public hook for this, so one of its internals is used and checked here (a grpc-js
// update that moves it makes installFramedSend throw, and test/rpc/framed-send.test.ts says
// which): the prototype of the handler its CompressionFilter sends with.
import { createRequire } from 'node:module';

/** gRPC's frame header: a compressed flag (1 byte) and the message length (4 bytes, big-endian). */
export const FRAME_HEADER_BYTES = 5;

/** Buffers made by framableBuffer: each has FRAME_HEADER_BYTES of its own memory in front of it. */
const framable = new WeakSet<Uint8Array>();

/** `bytes` bytes, not initialized, that grpc-js sends without copying once installFramedSend() ran. */
export function framableBuffer(bytes: number): Buffer {
  const body = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bytes).subarray(FRAME_HEADER_BYTES);
  framable.add(body);
  return body;
}

type WriteMessage = (this: unknown, message: Buffer, compress: boolean) => Promise<Buffer>;

let installed = false;

/** Makes grpc-js frame framableBuffer()s in place in this process (idempotent). */
export function installFramedSend(): void {
  if (installed) return;
  const require = createRequire(import.meta.url);
  let prototype: { writeMessage?: WriteMessage } | undefined;
  try {
    const { CompressionFilter } = require('@grpc/grpc-js/build/src/compression-filter.js') as { CompressionFilter: new (options: object, shared: object) => { sendCompression?: object } };
    const handler = new CompressionFilter({}, {}).sendCompression;
    prototype = handler === undefined ? undefined : (Object.getPrototypeOf(handler) as { writeMessage?: WriteMessage });
  } catch (error) {
    throw new Error(`this grpc-js has no build/src/compression-filter.js CompressionFilter: messages cannot be framed in place (see src/rpc/framed-send.ts): ${String(error)}`);
  }
  const original = prototype?.writeMessage;
  if (prototype === undefined || typeof original !== 'function') {
    throw new Error("this grpc-js's CompressionFilter sends through no handler with writeMessage: messages cannot be framed in place (see src/rpc/framed-send.ts)");
  }
  prototype.writeMessage = function (this: unknown, message: Buffer, compress: boolean): Promise<Buffer> {
    if (compress || !framable.has(message)) return original.call(this, message, compress);
    const framed = Buffer.from(message.buffer, message.byteOffset - FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + message.byteLength);
    framed.writeUInt8(0, 0);
    framed.writeUInt32BE(message.byteLength, 1);
    return Promise.resolve(framed);
  };
  installed = true;
}
