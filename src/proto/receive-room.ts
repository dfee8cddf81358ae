// Large messages received into a buffer of their own with room in front, so that a leader can
// make a single-message page's Raft entry out of the very buffer the page arrived in.
//
// grpc-js' StreamDecoder keeps the chunks of a message as they arrive (views into HTTP/2 read
// buffers) and concatenates them into a fresh buffer once the message is complete. A leader then
// copied a page that came in one message (every page up to LIMITS.page.chunkBytes, 1 MiB) once
// more, into its proposal: the entry is the command's head followed by the payload, and there
// was no room for the head in front of the payload. The copy was the smaller cost; the larger
// was the fresh MiB-sized buffer per put: the leader's young-generation GCs, which V8 starts for
// every 16 MiB of new ArrayBuffers, came half again as often as a follower's, payloads still in
// flight outlived two of them, and each one freed later took a full GC (`--trace-gc` of a leader
// under 1 MiB puts, 8 in flight: ~38 full GCs in 1,000 puts where followers had 2-3;
// docs/BENCHMARKS.md, peers).
//
// installReceiveRoom() replaces StreamDecoder's write: a message of RECEIVE_ROOM_MESSAGE_BYTES_MIN
// or more is copied chunk by chunk, as it arrives, into a buffer allocated when its length is
// read, RECEIVE_ROOM_BYTES longer than the framed message, which starts behind that room. Smaller
// messages are handled as grpc-js does. So the bytes are copied once either way, the HTTP/2 read
// buffers are let go as soon as their bytes are copied, and inRoomyBuffer() tells a receiver
// that everything before a view into such a message is its own: the room, the frame header and
// the fields before the view (which the receiver must have decoded and copied what it keeps).
// src/rpc/cache-service.ts offers those bytes to the codec (offerRoomBefore) for a page that came
// in one message; encodeCommandAfter writes the entry's head there when it fits, and copies as
// before when it does not.
//
// grpc-js has no hook for this: its StreamDecoder (build/src/stream-decoder.js) is used and
// checked here. A grpc-js without it keeps its own decoder (installReceiveRoom says why), puts
// copy as before, and test/proto/receive-room.test.ts fails, so an upgrade does not pass
// unnoticed. The decoder's state machine is grpc-js 1.14's, field for field.
import { createRequire } from 'node:module';

/** Bytes of room in front of every large received message (a page's entry head needs ~100). */
export const RECEIVE_ROOM_BYTES = 256;
/** Messages at least this long get a buffer of their own with room; shorter ones are grpc-js'. */
export const RECEIVE_ROOM_MESSAGE_BYTES_MIN = 64 * 1024;

const FRAME_HEADER_BYTES = 5;
const NO_DATA = 0;
const READING_SIZE = 1;
const READING_MESSAGE = 2;

/** ArrayBuffers made here: each holds one received message behind RECEIVE_ROOM_BYTES of room. */
const roomy = new WeakSet<ArrayBufferLike>();

/**
 * Whether `view` lies in a message received into a buffer of its own with room in front: then
 * every byte of its buffer before it is the room, the message's frame header, or message bytes
 * before the view.
 */
export function inRoomyBuffer(view: Uint8Array): boolean {
  return roomy.has(view.buffer);
}

/** StreamDecoder's fields (grpc-js 1.14), and the message being copied into a buffer of its own. */
interface Decoder {
  maxReadMessageLength: number;
  readState: number;
  readCompressFlag: Buffer;
  readPartialSize: Buffer;
  readSizeRemaining: number;
  readMessageSize: number;
  readPartialMessage: Buffer[];
  readMessageRemaining: number;
  /** Set while a large message is read: its buffer (frame header, message), behind the room (roomyMessageBuffer). */
  kvcTarget?: Buffer;
}

function write(this: Decoder, data: Buffer): Buffer[] {
  let readHead = 0;
  let toRead: number;
  const result: Buffer[] = [];
  while (readHead < data.length) {
    switch (this.readState) {
      case NO_DATA:
        this.readCompressFlag = data.slice(readHead, readHead + 1);
        readHead += 1;
        this.readState = READING_SIZE;
        this.readPartialSize.fill(0);
        this.readSizeRemaining = 4;
        this.readMessageSize = 0;
        this.readMessageRemaining = 0;
        this.readPartialMessage = [];
        this.kvcTarget = undefined;
        break;
      case READING_SIZE:
        toRead = Math.min(data.length - readHead, this.readSizeRemaining);
        data.copy(this.readPartialSize, 4 - this.readSizeRemaining, readHead, readHead + toRead);
        this.readSizeRemaining -= toRead;
        readHead += toRead;
        if (this.readSizeRemaining === 0) {
          this.readMessageSize = this.readPartialSize.readUInt32BE(0);
          if (this.maxReadMessageLength !== -1 && this.readMessageSize > this.maxReadMessageLength) {
            throw new Error(`Received message larger than max (${this.readMessageSize} vs ${this.maxReadMessageLength})`);
          }
          this.readMessageRemaining = this.readMessageSize;
          if (this.readMessageRemaining > 0) {
            this.readState = READING_MESSAGE;
            if (this.readMessageSize >= RECEIVE_ROOM_MESSAGE_BYTES_MIN) {
              const target = roomyMessageBuffer(FRAME_HEADER_BYTES + this.readMessageSize);
              target[0] = this.readCompressFlag[0]!;
              this.readPartialSize.copy(target, 1);
              this.kvcTarget = target;
            }
          } else {
            const message = Buffer.concat([this.readCompressFlag, this.readPartialSize], FRAME_HEADER_BYTES);
            this.readState = NO_DATA;
            result.push(message);
          }
        }
        break;
      case READING_MESSAGE: {
        toRead = Math.min(data.length - readHead, this.readMessageRemaining);
        const target = this.kvcTarget;
        if (target === undefined) {
          this.readPartialMessage.push(data.slice(readHead, readHead + toRead));
        } else {
          data.copy(target, FRAME_HEADER_BYTES + this.readMessageSize - this.readMessageRemaining, readHead, readHead + toRead);
        }
        this.readMessageRemaining -= toRead;
        readHead += toRead;
        if (this.readMessageRemaining === 0) {
          if (target === undefined) {
            const framedMessageBuffers = [this.readCompressFlag, this.readPartialSize, ...this.readPartialMessage];
            result.push(Buffer.concat(framedMessageBuffers, this.readMessageSize + FRAME_HEADER_BYTES));
          } else {
            result.push(target);
            this.kvcTarget = undefined;
          }
          this.readState = NO_DATA;
        }
        break;
      }
      default:
        throw new Error('Unexpected read state');
    }
  }
  return result;
}

/**
 * A buffer of `bytes` bytes behind RECEIVE_ROOM_BYTES of room, for a large message: grpc-js'
 * (the framed message, from write above) or one received by a reader of our own (the put lane's,
 * src/rpc put-lane.ts, through src/proto frame-reader.ts). inRoomyBuffer() is true of views into
 * it: every byte before a view is the room or message bytes the receiver has decoded. Not
 * initialized.
 */
export function roomyMessageBuffer(bytes: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(RECEIVE_ROOM_BYTES + bytes);
  roomy.add(buffer.buffer);
  return buffer.subarray(RECEIVE_ROOM_BYTES);
}

/** Whether grpc-js receives large messages with room in this process, and why not. */
export interface ReceiveRoom {
  installed: boolean;
  /** '' when installed. */
  reason: string;
}

let outcome: ReceiveRoom | undefined;

/** Makes grpc-js receive large messages with room in this process (once; never throws). */
export function installReceiveRoom(): ReceiveRoom {
  outcome ??= install();
  return outcome;
}

function install(): ReceiveRoom {
  let prototype: { write?: unknown } | undefined;
  try {
    const require = createRequire(import.meta.url);
    const { StreamDecoder } = require('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder?: new (max: number) => object };
    if (StreamDecoder === undefined) return { installed: false, reason: 'this grpc-js has no StreamDecoder in build/src/stream-decoder.js' };
    // The fields this write uses must be the decoder's own: a grpc-js that renamed them would be misread.
    const probe = new StreamDecoder(-1) as Partial<Decoder>;
    for (const field of ['maxReadMessageLength', 'readState', 'readCompressFlag', 'readPartialSize', 'readSizeRemaining', 'readMessageSize', 'readPartialMessage', 'readMessageRemaining'] as const) {
      if (!(field in probe)) return { installed: false, reason: `this grpc-js's StreamDecoder has no ${field}` };
    }
    if (probe.readState !== NO_DATA) return { installed: false, reason: "this grpc-js's StreamDecoder starts in another state" };
    prototype = Object.getPrototypeOf(probe) as { write?: unknown };
  } catch (error) {
    return { installed: false, reason: `this grpc-js has no usable build/src/stream-decoder.js (${String(error)})` };
  }
  if (typeof prototype.write !== 'function') return { installed: false, reason: "this grpc-js's StreamDecoder has no write" };
  prototype.write = write;
  return { installed: true, reason: '' };
}
