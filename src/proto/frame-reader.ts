// Reads gRPC-framed messages (a compressed flag, always 0, and a 4-byte big-endian length before
// each) off a byte stream of our own: the socket lane's appends (src/rpc peer-socket.ts) and the
// put lane's calls and answers (src/rpc put-lane.ts, src/client put-lane.ts).
import { FRAME_HEADER_BYTES } from './framed-send.js';

/**
 * Reads gRPC-framed messages off a byte stream: `onMessage` gets each message whole (a view into
 * the chunk it arrived in when it arrived in one, else the pieces joined once it is complete, so
 * a sender that announces a long frame and stops holds only what it sent). Throws on a compressed
 * flag or a length over `bytesMax`; the reader is then unusable.
 */
export class FrameReader {
  readonly #bytesMax: number;
  readonly #onMessage: (message: Buffer) => void;
  readonly #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerHave = 0;
  /** The message being read: its length, and the pieces of it so far (views into the chunks). */
  #need = -1;
  #pieces: Buffer[] = [];
  #have = 0;

  constructor(bytesMax: number, onMessage: (message: Buffer) => void) {
    this.#bytesMax = bytesMax;
    this.#onMessage = onMessage;
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
          this.#need = length;
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
        else this.#need = length;
        continue;
      }
      const take = Math.min(this.#need - this.#have, chunk.byteLength - at);
      this.#pieces.push(chunk.subarray(at, at + take));
      this.#have += take;
      at += take;
      if (this.#have === this.#need) {
        const message = this.#pieces.length === 1 ? this.#pieces[0]! : Buffer.concat(this.#pieces, this.#need);
        this.#pieces = [];
        this.#have = 0;
        this.#need = -1;
        this.#onMessage(message);
      }
    }
  }

  #length(bytes: Buffer, at: number): number {
    if (bytes[at] !== 0) throw new Error(`a frame with compressed flag ${bytes[at]}: the socket lane sends none compressed`);
    const length = bytes.readUInt32BE(at + 1);
    if (length > this.#bytesMax) throw new Error(`a frame of ${length} bytes, at most ${this.#bytesMax}`);
    return length;
  }
}
