// Messages sent framed where they were encoded instead of copied by grpc-js: a leader's Raft
// batches to its followers (src/rpc raft-batch-codec.ts) and a client's PutPages messages (src/client
// put-request.ts). Here, in src/proto, because both sides send through it.
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
// grpc-js has no public hook for this, so one of its internals is used and checked here: the
// prototype of the handler its CompressionFilter sends with. A grpc-js that moved it gets the
// copy it always made (installFramedSend says why, a member logs it), and
// test/proto/framed-send.test.ts fails, so an upgrade here does not pass unnoticed. The patch acts only on
// framableBuffer()s, so it changes nothing for any other grpc-js user in the same process.
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

/** Whether grpc-js frames framableBuffer()s in place in this process, and why not. */
export interface FramedSend {
  installed: boolean;
  /** '' when installed. */
  reason: string;
}

let outcome: FramedSend | undefined;

/**
 * Makes grpc-js frame framableBuffer()s in place in this process (once; later calls return the
 * first outcome). It never throws: where this grpc-js lacks the internal, every message is framed
 * by grpc-js's own copy as before, and the outcome says why (tests assert it is installed).
 */
export function installFramedSend(): FramedSend {
  outcome ??= install();
  return outcome;
}

function install(): FramedSend {
  let prototype: { writeMessage?: WriteMessage } | undefined;
  try {
    const require = createRequire(import.meta.url);
    const { CompressionFilter } = require('@grpc/grpc-js/build/src/compression-filter.js') as { CompressionFilter: new (options: object, shared: object) => { sendCompression?: object } };
    const handler = new CompressionFilter({}, {}).sendCompression;
    prototype = handler === undefined ? undefined : (Object.getPrototypeOf(handler) as { writeMessage?: WriteMessage });
  } catch (error) {
    return { installed: false, reason: `this grpc-js has no usable build/src/compression-filter.js CompressionFilter (${String(error)})` };
  }
  const original = prototype?.writeMessage;
  if (prototype === undefined || typeof original !== 'function') {
    return { installed: false, reason: "this grpc-js's CompressionFilter sends through no handler with writeMessage" };
  }
  prototype.writeMessage = function (this: unknown, message: Buffer, compress: boolean): Promise<Buffer> {
    if (compress || !framable.has(message)) return original.call(this, message, compress);
    const framed = Buffer.from(message.buffer, message.byteOffset - FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + message.byteLength);
    framed.writeUInt8(0, 0);
    framed.writeUInt32BE(message.byteLength, 1);
    return Promise.resolve(framed);
  };
  return { installed: true, reason: '' };
}
