// Reads gRPC-framed messages (a compressed flag, always 0, and a 4-byte big-endian length before
// each) off a byte stream of our own: the socket lane's appends (src/rpc peer-socket.ts) and the
// put lane's calls and answers (src/rpc put-lane.ts, src/client put-lane.ts).
import { FRAME_HEADER_BYTES } from './framed-send.js';

/**
 * Where a message that spans chunks is copied as it arrives, chosen when its length is read (a
 * buffer of exactly `length` bytes); undefined: its pieces are kept and joined once it is complete.
 */
export type MessageBufferFor = (length: number) => Buffer | undefined;

/**
 * Reads gRPC-framed messages off a byte stream: `onMessage` gets each message whole (a view into
 * the chunk it arrived in when it arrived in one, else the pieces joined once it is complete, so
 * a sender that announces a long frame and stops holds only what it sent; or, where `bufferFor`
 * gives one, the buffer it was copied into as it came). Throws on a compressed flag or a length
 * over `bytesMax`; the reader is then unusable.
 */
export class FrameReader {
  readonly #bytesMax: number;
  readonly #onMessage: (message: Buffer) => void;
  readonly #bufferFor: MessageBufferFor | undefined;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerHave = 0;
  /** The message being read: its length, and the pieces of it so far (views into the chunks), or the buffer it is copied into. */
  #need = -1;
  #pieces: Buffer[] = [];
  #target: Buffer | undefined;
  #have = 0;

  constructor(bytesMax: number, onMessage: (message: Buffer) => void, bufferFor?: MessageBufferFor) {
    this.#bytesMax = bytesMax;
    this.#onMessage = onMessage;
    this.#bufferFor = bufferFor;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#need < 0) {
        if (this.#headerHave === 0 && chunk.byteLength - at >= FRAME_HEADER_BYTES) {
          const length = this.#length(chunk, at);
          at += FRAME_HEADER_BYTES;
          if (chunk.byteLength - at >= length) {
            this.#onMessage(chunk.subarray(at, at + length));
            at += length;
            continue;
          }
          this.#startMessage(length);
          continue;
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerHave, chunk.byteLength - at);
        chunk.copy(this.#header, this.#headerHave, at, at + take);
        this.#headerHave += take;
        at += take;
        if (this.#headerHave < FRAME_HEADER_BYTES) return;
        this.#headerHave = 0;
        const length = this.#length(this.#header, 0);
        if (length === 0) this.#onMessage(Buffer.alloc(0));
        else this.#startMessage(length);
        continue;
      }
      const take = Math.min(this.#need - this.#have, chunk.byteLength - at);
      if (this.#target !== undefined) chunk.copy(this.#target, this.#have, at, at + take);
      else this.#pieces.push(chunk.subarray(at, at + take));
      this.#have += take;
      at += take;
      if (this.#have === this.#need) {
        const message = this.#target ?? (this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces, this.#need));
        this.#pieces = [];
        this.#target = undefined;
        this.#have = 0;
        this.#need = -1;
        this.#onMessage(message);
      }
    }
  }

  #startMessage(length: number): void {
    this.#need = length;
    this.#target = this.#bufferFor?.(length);
    if (this.#target !== undefined && this.#target.byteLength !== length) throw new Error(`a message buffer of ${this.#target.byteLength} bytes for a message of ${length}`);
  }

  #length(bytes: Buffer, at: number): number {
    if (bytes[at] !== 0) throw new Error(`a frame with compressed flag ${bytes[at]}: the socket lane sends none compressed`);
    const length = bytes.readUInt32BE(at + 1);
    if (length > this.#bytesMax) throw new Error(`a frame of ${length} bytes, at most ${this.#bytesMax}`);
    return length;
  }
}
