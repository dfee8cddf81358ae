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
// A FramableWriter goes one step further for messages that carry large byte runs (a page's
// payload in a client's PutPages message, an entry's data in a leader's Raft batch): runs of
// BY_REFERENCE_BYTES_MIN (16 KiB) or more are not copied at all. The writer copies the small fields into
// one framable buffer and keeps each large run by reference; the message is then written to the
// HTTP/2 stream as that buffer's pieces and the runs between them, corked into one writev (gRPC
// frames a message by its length only, so DATA frames need not follow message bounds). For that
// the identity handler returns a SplitFrame (the pieces, and the message's real length, which
// grpc-js' retry buffer counts) and the subchannel call writes a SplitFrame's pieces in order.
// A CPU profile of the bench client putting 1 MiB pages (8 in flight) had 24 % of its busy main
// thread in the one copy left (encodePutPagesRequest) and as much again in GC; a leader's, 5 %
// in serializeRaftBatch's copy of each entry per follower (docs/BENCHMARKS.md, peers).
// A split message's runs belong to grpc-js until sent, as the buffer does: callers hand only
// bytes nobody changes (an entry's data; a page the client's caller gave to putPages).
//
// grpc-js has no public hook for this, so two of its internals are used and checked here: the
// prototypes of the handlers its CompressionFilter sends with, and Http2SubchannelCall's
// sendMessageWithContext. A grpc-js that moved them gets the copy it always made
// (installFramedSend says why, a member logs it), and test/proto/framed-send.test.ts fails, so an
// upgrade here does not pass unnoticed. The patch acts only on framableBuffer()s and split
// messages, so it changes nothing for any other grpc-js user in the same process. Where
// it is not installed, a FramableWriter copies every run, so a split message never reaches an
// unpatched grpc-js; under a compressing handler a split message is joined, then compressed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeVarint } from './protobuf-wire.js';

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

/** Byte runs at least this long are sent by reference by a FramableWriter (where the patch is installed): as src/codec keeps entries' data by reference from ENTRY_BY_REFERENCE_BYTES_MIN on. */
export const BY_REFERENCE_BYTES_MIN = 16 * 1024;

/** The runs sent after a framable buffer that a FramableWriter made, in order. */
const tails = new WeakMap<Uint8Array, Uint8Array[]>();

/**
 * What the patched identity handler hands down grpc-js' call stack for a split message: the
 * framed head (header and first copied bytes) and every later piece, in order. `length` is the
 * framed message's whole length, as a Buffer's would be (grpc-js' retry buffer counts it).
 */
class SplitFrame {
  constructor(
    readonly pieces: Uint8Array[],
    readonly length: number,
  ) {}
}

/**
 * Writes a protobuf message of a known size: small fields are copied into one framableBuffer, byte
 * runs of BY_REFERENCE_BYTES_MIN or more are kept by reference where grpc-js sends split messages
 * (installFramedSend() installed), else copied too. `finish()` gives the buffer to hand grpc-js.
 */
export class FramableWriter {
  readonly #copied: Buffer;
  #at = 0;
  /** Where the copied bytes not yet cut into a piece begin. */
  #pieceStart = 0;
  /** Copied pieces and runs kept by reference, in order (empty until the first such run). */
  readonly #pieces: Uint8Array[] = [];
  readonly #size: number;
  #written = 0;

  /**
   * `size`: the message's bytes; `byReferenceBytes`: how many of them are in runs that
   * FramableWriter.byReference() keeps by reference (the rest is copied). The writer asserts both.
   */
  constructor(size: number, byReferenceBytes = 0) {
    this.#size = size;
    this.#copied = framableBuffer(size - byReferenceBytes);
  }

  /** Whether a run of `bytes` is kept by reference (as `bytes()` decides; an encoder sums them for the constructor). */
  static byReference(bytes: number): boolean {
    return bytes >= BY_REFERENCE_BYTES_MIN && outcome?.installed === true;
  }

  byte(value: number): void {
    this.#copied[this.#at++] = value;
    this.#written += 1;
  }

  varint(value: number): void {
    const at = writeVarint(this.#copied, this.#at, value);
    this.#written += at - this.#at;
    this.#at = at;
  }

  utf8(text: string): void {
    const bytes = this.#copied.write(text, this.#at, 'utf8');
    this.#at += bytes;
    this.#written += bytes;
  }

  bytes(run: Uint8Array): void {
    this.#written += run.byteLength;
    if (FramableWriter.byReference(run.byteLength)) {
      this.#pieces.push(this.#copied.subarray(this.#pieceStart, this.#at), run);
      this.#pieceStart = this.#at;
      return;
    }
    this.#copied.set(run, this.#at);
    this.#at += run.byteLength;
  }

  /** The message for grpc-js (a serializer's return value); the writer is done with. */
  finish(): Buffer {
    // A size other than the one computed would send a truncated or padded message: a bug.
    assert.equal(this.#written, this.#size, 'FramableWriter: wrote a size other than the message has');
    assert.equal(this.#at, this.#copied.byteLength, 'FramableWriter: copied a size other than computed');
    if (this.#pieces.length === 0) return this.#copied;
    this.#pieces.push(this.#copied.subarray(this.#pieceStart, this.#at));
    // The head is the first copied piece: it starts where the copied buffer does, room in front.
    const head = this.#pieces[0] as Buffer;
    framable.add(head);
    tails.set(
      head,
      this.#pieces.slice(1).filter((piece) => piece.byteLength > 0),
    );
    return head;
  }
}

type WriteMessage = (this: unknown, message: Buffer, compress: boolean) => Promise<Buffer>;
type SendMessage = (this: { http2Stream?: NodeJS.WritableStream & { cork(): void; uncork(): void } }, context: object, message: unknown) => void;

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

/** A serializer's output as one buffer: a split message joined (for a handler that compresses, and tests), any other as it is. */
export function wholeMessage(message: Buffer): Buffer {
  const rest = tails.get(message);
  return rest === undefined ? message : Buffer.concat([message, ...rest]);
}

/**
 * A framable message (framableBuffer, FramableWriter.finish) framed where it lies: the gRPC frame
 * header written into the room in front of it, then its runs kept by reference, in order.
 * `length` counts the header too.
 */
function frameInPlace(message: Buffer): { pieces: Uint8Array[]; length: number } {
  const framed = Buffer.from(message.buffer, message.byteOffset - FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + message.byteLength);
  const rest = tails.get(message);
  const length = message.byteLength + (rest?.reduce((sum, piece) => sum + piece.byteLength, 0) ?? 0);
  framed.writeUInt8(0, 0);
  framed.writeUInt32BE(length, 1);
  return { pieces: rest === undefined ? [framed] : [framed, ...rest], length: FRAME_HEADER_BYTES + length };
}

/**
 * A serializer's output framed as gRPC frames it (compressed flag 0, then the length), as the
 * buffers to write in order, for a stream of our own (src/rpc peer-socket.ts): a framable message
 * is framed in place and its runs sent by reference; any other is sent as it is behind a header
 * of its own.
 */
export function framedPieces(message: Buffer): Uint8Array[] {
  if (framable.has(message)) return frameInPlace(message).pieces;
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(message.byteLength, 1);
  return [header, message];
}

function install(): FramedSend {
  let identity: { writeMessage?: WriteMessage } | undefined;
  let base: { writeMessage?: WriteMessage } | undefined;
  let call: { sendMessageWithContext?: SendMessage } | undefined;
  try {
    const require = createRequire(import.meta.url);
    const { CompressionFilter } = require('@grpc/grpc-js/build/src/compression-filter.js') as { CompressionFilter: new (options: object, shared: object) => { sendCompression?: object } };
    const handler = new CompressionFilter({}, {}).sendCompression;
    identity = handler === undefined ? undefined : (Object.getPrototypeOf(handler) as { writeMessage?: WriteMessage });
    base = identity === undefined ? undefined : (Object.getPrototypeOf(identity) as { writeMessage?: WriteMessage } | null) ?? undefined;
    const { Http2SubchannelCall } = require('@grpc/grpc-js/build/src/subchannel-call.js') as { Http2SubchannelCall?: { prototype: { sendMessageWithContext?: SendMessage } } };
    call = Http2SubchannelCall?.prototype;
  } catch (error) {
    return { installed: false, reason: `this grpc-js has no usable build/src/compression-filter.js CompressionFilter or subchannel-call.js Http2SubchannelCall (${String(error)})` };
  }
  const original = identity?.writeMessage;
  const compressing = base?.writeMessage;
  const send = call?.sendMessageWithContext;
  if (identity === undefined || typeof original !== 'function' || base === undefined || typeof compressing !== 'function') {
    return { installed: false, reason: "this grpc-js's CompressionFilter sends through no handler with writeMessage" };
  }
  if (call === undefined || typeof send !== 'function') {
    return { installed: false, reason: "this grpc-js's Http2SubchannelCall has no sendMessageWithContext" };
  }
  identity.writeMessage = function (this: unknown, message: Buffer, compress: boolean): Promise<Buffer> {
    if (compress || !framable.has(message)) return original.call(this, wholeMessage(message), compress);
    const { pieces, length } = frameInPlace(message);
    if (pieces.length === 1) return Promise.resolve(pieces[0] as Buffer);
    return Promise.resolve(new SplitFrame(pieces, length) as unknown as Buffer);
  };
  // Handlers that compress (none of ours) get a split message whole.
  base.writeMessage = function (this: unknown, message: Buffer, compress: boolean): Promise<Buffer> {
    return compressing.call(this, wholeMessage(message), compress);
  };
  call.sendMessageWithContext = function (context, message) {
    if (!(message instanceof SplitFrame)) return send.call(this, context, message);
    const stream = this.http2Stream;
    const { pieces } = message;
    // Without a stream grpc-js' own method reports the failure (with the last piece, as any message).
    if (stream === undefined) return send.call(this, context, pieces[pieces.length - 1]);
    stream.cork();
    try {
      for (let i = 0; i < pieces.length - 1; i++) stream.write(pieces[i]!);
      // The last piece goes through grpc-js' own method: its write callback, errors and counters.
      send.call(this, context, pieces[pieces.length - 1]);
    } finally {
      stream.uncork();
    }
  };
  return { installed: true, reason: '' };
}

/** A serializer's output as the buffers that make it, in order, with no frame header: a split message's head and its runs, any other as it is. */
export function messagePieces(message: Buffer): Uint8Array[] {
  const rest = tails.get(message);
  return rest === undefined ? [message] : [message, ...rest];
}
