// Turns the messages of a PutPages stream into whole, checked pages (the framing is in
// cache.proto: a page starts with a message carrying `meta`, continues with `data`, and its last
// message has `last = true`). Memory is bounded by construction: at most one page is open at a
// time, its buffer is sized from the validated `meta.bytes` (at most LIMITS.page.bytesMax) and
// never grows, and a page that arrives in a single message is used in place without a copy.
// The assembler checks framing only; the page's checksum is checked where it is converted (the
// put's preparation in the work pool, cache-service.ts), so the bytes are read once there.
import assert from 'node:assert/strict';
import { hex } from '../codec/index.js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { PutPagesRequest__Output as PutPagesRequest } from '../proto/index.js';
import { validateKeyCount, validatePutMeta, type ValidatedPutMeta } from './validate.js';

export interface AssembledPage {
  meta: ValidatedPutMeta;
  /** Exactly meta.bytes bytes, not yet checked against meta.crc32c. */
  data: Uint8Array;
  /**
   * True when `data` is the whole of an ArrayBuffer the assembler allocated and nothing else
   * references, so it may be moved to a worker thread; false for a page used in place, whose
   * bytes are a view into a buffer grpc-js received (possibly shared with other messages), and
   * for a page assembled into a buffer the caller gave (PageBufferFor).
   */
  owned: boolean;
}

interface OpenPage {
  meta: ValidatedPutMeta;
  buffer: Uint8Array;
  /** Whether `buffer` is the assembler's own (AssembledPage.owned). */
  owned: boolean;
  received: number;
}

/**
 * Makes the buffer of a page that arrives in several messages, when it wants one other than the
 * assembler's own (a fresh whole ArrayBuffer, `owned`); undefined: the assembler's own.
 */
export type PageBufferFor = (meta: ValidatedPutMeta) => Uint8Array | undefined;

export class PageAssembler {
  #open: OpenPage | undefined;
  #pages = 0;
  readonly #bufferFor: PageBufferFor;

  constructor(bufferFor: PageBufferFor = () => undefined) {
    this.#bufferFor = bufferFor;
  }

  /** Takes one stream message; returns the page it completes, if any. Throws KvcError on bad input. */
  push(message: PutPagesRequest): AssembledPage | undefined {
    const data = message.data;
    if (data.byteLength > LIMITS.rpc.clientMessageBytesMax) {
      throw new KvcError('KVC_PAGE_TOO_LARGE', {
        detail: `one message carries ${data.byteLength} bytes, at most ${LIMITS.rpc.clientMessageBytesMax} per message`,
      });
    }
    if (message.meta !== null && message.meta !== undefined) return this.#start(validatePutMeta(message.meta), data, message.last);
    const open = this.#open;
    if (open === undefined) throw new KvcError('KVC_CODEC', { detail: 'a PutPages data message came before any page meta' });
    this.#append(open, data);
    return message.last ? this.#complete(open) : undefined;
  }

  /** The stream ended normally: a page still open is KVC_INCOMPLETE_PAGE. */
  finish(): void {
    const open = this.#open;
    if (open !== undefined) throw this.#incomplete(open, 'the stream ended');
  }

  #start(meta: ValidatedPutMeta, data: Uint8Array, last: boolean): AssembledPage | undefined {
    if (this.#open !== undefined) throw this.#incomplete(this.#open, `page ${hex(meta.key)} began`);
    this.#pages++;
    validateKeyCount(this.#pages);
    if (last && data.byteLength === meta.bytes) {
      // The whole page in one message: no copy. The received buffer is not reused by grpc-js.
      return { meta, data, owned: false };
    }
    // Each page in its own ArrayBuffer, so it can be moved to a worker thread without a copy; not
    // zeroed first (a page completes only once every byte was received into it). Or the caller's.
    const given = this.#bufferFor(meta);
    const slow = given === undefined ? Buffer.allocUnsafeSlow(meta.bytes) : undefined;
    const buffer = slow === undefined ? given! : new Uint8Array(slow.buffer, slow.byteOffset, meta.bytes);
    assert.equal(buffer.byteLength, meta.bytes, 'a page buffer of the size its meta declares');
    const open: OpenPage = { meta, buffer, owned: slow !== undefined, received: 0 };
    this.#open = open;
    this.#append(open, data);
    return last ? this.#complete(open) : undefined;
  }

  #append(open: OpenPage, data: Uint8Array): void {
    if (open.received + data.byteLength > open.meta.bytes) {
      throw new KvcError('KVC_SHAPE_MISMATCH', {
        detail: `page ${hex(open.meta.key)} sent more than the ${open.meta.bytes} bytes its meta declares`,
      });
    }
    open.buffer.set(data, open.received);
    open.received += data.byteLength;
  }

  #complete(open: OpenPage): AssembledPage {
    this.#open = undefined;
    if (open.received !== open.meta.bytes) throw this.#incomplete(open, 'its last message came');
    return { meta: open.meta, data: open.buffer, owned: open.owned };
  }

  #incomplete(open: OpenPage, when: string): KvcError {
    this.#open = undefined;
    return new KvcError('KVC_INCOMPLETE_PAGE', {
      detail: `${when} after ${open.received} of ${open.meta.bytes} bytes of page ${hex(open.meta.key)}`,
    });
  }
}
