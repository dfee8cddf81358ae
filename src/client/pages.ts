// Pages on the wire, both directions. A put splits each page into chunks of at most
// LIMITS.page.chunkBytes, the first carrying the metadata with the client-computed byte count and
// crc32c. A get reassembles the server's chunks and checks that nothing was lost or reordered:
// every page starts with its metadata, arrives under the key that was asked for and in request
// order, its offsets are contiguous from 0, its size is what the metadata says, and its crc32c
// matches (CONVENTIONS: a checksum computed before bytes leave a process is verified after they
// arrive). Any violation fails the read instead of handing a caller a damaged KV cache.

import { copyCrc32c, crc32c, isDtype, type Dtype } from '../bytes/index.js';
import { LIMITS } from '../limits.js';
import { CLIENT_ERROR_CODES, localError } from './client-error.js';
import type {
  Dtype__Output as ProtoDtype,
  GetPagesResponse__Output as GetPagesResponse,
  PageMeta,
  PageMeta__Output as WirePageMeta,
  PutPagesRequest,
  SharedPage__Output as SharedPageMessage,
} from '../proto/index.js';

export interface PageInputMeta {
  namespace: string;
  /** The page's chained key (hashBlocks), 8 to 64 bytes. */
  key: Uint8Array;
  /** The previous block's key; absent for the first block of a prompt. */
  parentKey?: Uint8Array;
  /** Dtype of `data` as sent. */
  dtype: Dtype;
  /** Layer-major tensor shape; product(shape) * size(dtype) must equal data.byteLength. */
  shape: number[];
  /** Tokens the page covers. */
  tokens: number;
  /** Time to live in ms; absent or 0 = no expiry. */
  ttlMs?: number;
  /** Store the payload as this dtype (fp16 from fp32/bf16); absent = as sent. */
  storeDtype?: Dtype;
}

/** One page to put; the client computes `bytes` and `crc32c` from `data`. */
export interface PageInput {
  meta: PageInputMeta;
  data: Uint8Array;
}

/** A page's metadata as a server returned it (describing the payload as it travelled). */
export interface PageMetaOut {
  namespace: string;
  key: Uint8Array;
  parentKey?: Uint8Array;
  dtype: Dtype;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  ttlMs: number;
  createdAtMs: number;
}

export interface Page {
  meta: PageMetaOut;
  data: Uint8Array;
}

/**
 * Largest payload a get may announce: a page of the largest size converted from fp16 to fp32.
 * Checked before allocating, so a confused server cannot make the client allocate without bound.
 */
const GET_PAGE_BYTES_MAX = 2 * LIMITS.page.bytesMax;

const WIRE_DTYPES: Readonly<Record<Dtype, ProtoDtype>> = Object.freeze({ fp16: 'FP16', fp32: 'FP32', bf16: 'BF16', u8: 'U8' });
const DTYPES_BY_WIRE: ReadonlyMap<string, Dtype> = new Map(Object.entries(WIRE_DTYPES).map(([d, w]) => [w, d as Dtype]));

/**
 * The wire name of `dtype`. An unknown name is sent as DTYPE_UNSPECIFIED on purpose: the server is
 * the authority on what it accepts and answers KVC_UNKNOWN_DTYPE, the same as for any other client.
 */
export function toWireDtype(dtype: Dtype | undefined): ProtoDtype {
  return dtype !== undefined && isDtype(dtype) ? WIRE_DTYPES[dtype] : 'DTYPE_UNSPECIFIED';
}

const EMPTY = new Uint8Array(0);

/** A put's page metadata (the generated PageMeta) whose key is the caller's bytes, as putMeta makes it. */
export type PutMeta = Omit<PageMeta, 'key'> & { key: Uint8Array };

/** The first message of a page: its metadata with the byte count and checksum filled in. */
export function putMeta(page: PageInput): PutMeta {
  const { meta, data } = page;
  if (!(data instanceof Uint8Array)) throw new TypeError('page data must be a Uint8Array');
  if (!(meta.key instanceof Uint8Array)) throw new TypeError('page key must be a Uint8Array');
  return {
    namespace: meta.namespace,
    key: meta.key,
    parentKey: meta.parentKey ?? EMPTY,
    dtype: toWireDtype(meta.dtype),
    shape: meta.shape,
    tokens: meta.tokens,
    bytes: data.byteLength,
    crc32c: crc32c(data),
    ttlMs: meta.ttlMs ?? 0,
    storeDtype: toWireDtype(meta.storeDtype),
  };
}

/** The PutPages messages of one page: ⌈bytes / chunkBytes⌉ chunks (one for an empty page). */
export function* pageMessages(
  meta: PutMeta,
  data: Uint8Array,
  chunkBytes: number = LIMITS.page.chunkBytes,
): Generator<PutPagesRequest> {
  if (data.byteLength === 0) {
    yield { meta, data: EMPTY, last: true };
    return;
  }
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    const end = Math.min(offset + chunkBytes, data.byteLength);
    const message: PutPagesRequest = { data: data.subarray(offset, end), last: end === data.byteLength };
    if (offset === 0) message.meta = meta;
    yield message;
  }
}

/**
 * Where an arriving page's bytes go. Returning undefined gets a fresh Uint8Array that owns its
 * whole ArrayBuffer (byteOffset 0), so `new Float32Array(page.data.buffer)` views it directly.
 */
export type PageDestination = (meta: PageMetaOut, index: number) => Uint8Array | undefined;

interface PageInProgress {
  meta: PageMetaOut;
  target: Uint8Array | undefined;
  filled: number;
  /** CRC-32C of target[0, filled), computed while copying (when the page is checked). */
  crc: number;
}

/**
 * Copies a page answered from the shared arena into `target` and returns the CRC-32C of the bytes
 * written there (client.ts: in the same pass with the addon), or a promise of it when the copy
 * runs on libuv's pool (a large page: shared-memory.ts copySharedPage).
 */
export type SharedCopy = (shared: SharedPageMessage, target: Uint8Array) => number | Promise<number>;

/**
 * Reassembles one GetPages stream, answered by `endpoint`, for `keys` in order. With `copyShared`
 * (a TRANSFER_SHARED_MEMORY stream) a page may also come as one message with `shared` set: its
 * bytes are copied from the arena and their crc32c is always checked, whatever
 * `verifyChecksum` says, since a copy made after its lease expired may be of a reused slot.
 */
export class PageAssembler {
  readonly #keys: readonly Uint8Array[];
  readonly #endpoint: string;
  readonly #destination: PageDestination;
  readonly #verifyChecksum: boolean;
  readonly #copyShared: SharedCopy | undefined;
  #current: PageInProgress | undefined;
  #completed = 0;

  constructor(keys: readonly Uint8Array[], endpoint: string, destination: PageDestination, verifyChecksum: boolean, copyShared?: SharedCopy) {
    this.#keys = keys;
    this.#endpoint = endpoint;
    this.#destination = destination;
    this.#verifyChecksum = verifyChecksum;
    this.#copyShared = copyShared;
  }

  /** Pages completed so far. */
  get completed(): number {
    return this.#completed;
  }

  /**
   * Takes one message; returns the page it completes, if any. Throws KvcClientError on a
   * violation. A page whose copy from the shared arena runs on the pool comes as a promise, which
   * rejects as the page would have thrown; the next message may be pushed meanwhile (the page's
   * place in the stream is taken), but its target must be left alone until the promise settles.
   */
  push(message: GetPagesResponse): Page | Promise<Page> | undefined {
    if (message.shared) return this.#shared(message);
    const page = message.meta ? this.#begin(message.meta) : this.#current;
    if (page === undefined) throw this.#protocol(`a chunk arrived without page metadata (after page ${this.#completed})`);
    const data = message.data ?? EMPTY;
    if (message.offset !== page.filled) {
      throw this.#protocol(`page ${this.#completed} chunk at offset ${message.offset}, expected ${page.filled}`);
    }
    if (page.filled + data.byteLength > page.meta.bytes) {
      throw this.#protocol(`page ${this.#completed} overflows its ${page.meta.bytes} bytes`);
    }
    this.#store(page, data);
    if (!message.last) return undefined;
    return this.#complete(page);
  }

  /** Call when the stream ended; throws KVC_INCOMPLETE_PAGE if it ended inside a page. */
  finish(): void {
    if (this.#current !== undefined) {
      throw localError(
        'KVC_INCOMPLETE_PAGE',
        `the stream ended inside page ${this.#completed} after ${this.#current.filled} of ${this.#current.meta.bytes} bytes`,
        this.#endpoint,
      );
    }
  }

  #begin(wire: WirePageMeta): PageInProgress {
    const index = this.#completed;
    if (this.#current !== undefined) throw this.#protocol(`page ${index + 1} started before page ${index} ended`);
    if (index >= this.#keys.length) throw this.#protocol(`more pages than the ${this.#keys.length} requested`);
    const meta = fromWireMeta(wire, this.#endpoint);
    if (!sameBytes(meta.key, this.#keys[index]!)) throw this.#protocol(`page ${index} has the wrong key`);
    if (meta.bytes > GET_PAGE_BYTES_MAX) throw this.#protocol(`page ${index} announces ${meta.bytes} bytes`);
    const target = this.#destination(meta, index);
    if (target !== undefined && target.byteLength !== meta.bytes) {
      throw new RangeError(`destination for page ${index} has ${target.byteLength} bytes, need ${meta.bytes}`);
    }
    this.#current = { meta, target, filled: 0, crc: 0 };
    return this.#current;
  }

  #shared(message: GetPagesResponse): Page | Promise<Page> {
    const shared = message.shared!;
    if (this.#copyShared === undefined) throw this.#protocol('a shared-memory answer to a stream that did not ask for one');
    if (!message.meta) throw this.#protocol(`a shared-memory answer without page metadata (after page ${this.#completed})`);
    const page = this.#begin(message.meta);
    if (shared.length !== page.meta.bytes) throw this.#protocol(`page ${this.#completed} is ${page.meta.bytes} bytes, its shared copy ${shared.length}`);
    page.target ??= new Uint8Array(page.meta.bytes);
    const index = this.#completed;
    const unreadable = (error: unknown): Error => this.#protocol(`page ${index} cannot be copied from the shared arena: ${(error as Error).message}`);
    let copied: number | Promise<number>;
    try {
      copied = this.#copyShared(shared, page.target);
    } catch (error) {
      throw unreadable(error);
    }
    page.filled = page.meta.bytes;
    if (typeof copied === 'number') {
      page.crc = copied;
      return this.#complete(page, true);
    }
    // The copy runs on the pool: the page's place in the stream is taken now, its check comes
    // when the copy ends.
    this.#current = undefined;
    this.#completed++;
    return copied.then(
      (crc) => {
        page.crc = crc;
        return this.#checked(page, index, true);
      },
      (error: unknown) => {
        throw unreadable(error);
      },
    );
  }

  #store(page: PageInProgress, data: Uint8Array): void {
    // Even a page that arrived in one chunk is copied: the decoded chunk is an unaligned view
    // into its gRPC message, and a fresh buffer is what lets callers view it as fp16/fp32.
    page.target ??= new Uint8Array(page.meta.bytes);
    // A checked page's crc32c is computed while copying each chunk (one pass over the bytes,
    // rather than a copy now and a checksum of the whole page read back at its end).
    if (this.#verifyChecksum) page.crc = copyCrc32c(data, page.target, page.filled, page.crc);
    else page.target.set(data, page.filled);
    page.filled += data.byteLength;
  }

  #complete(page: PageInProgress, shared = false): Page {
    const done = this.#checked(page, this.#completed, shared);
    this.#current = undefined;
    this.#completed++;
    return done;
  }

  /** Page `index`, whole and matching its crc32c, or the error saying how it is not. */
  #checked(page: PageInProgress, index: number, shared: boolean): Page {
    if (page.filled !== page.meta.bytes) {
      throw this.#protocol(`page ${index} ended after ${page.filled} of ${page.meta.bytes} bytes`);
    }
    const data = page.target ?? EMPTY;
    // page.crc is of the bytes as written to the destination (SharedCopy and #store compute it).
    if ((shared || this.#verifyChecksum) && page.crc !== page.meta.crc32c) {
      const where = shared ? ' (copied from the shared arena: its lease may have expired first)' : '';
      throw localError('KVC_CHECKSUM_MISMATCH', `page ${index} does not match its crc32c${where}`, this.#endpoint);
    }
    return { meta: page.meta, data };
  }

  #protocol(message: string): Error {
    return localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, message, this.#endpoint);
  }
}

/**
 * The pages `push` completes from `messages` (PageAssembler.push), in order. A page whose copy
 * runs on the pool (a promise) lets up to `ahead` such copies run while the next messages are
 * read, and is yielded as soon as its copy ends if that is before the next message arrives (the
 * member may be reading that page from disk). A failed copy is thrown where its page would be
 * yielded. However it ends (done, failed, or the consumer stopped), it waits for the copies still
 * running before it returns: they write into the caller's buffers and read leased slots.
 */
export async function* pagesInOrder<M>(messages: AsyncIterator<M>, push: (message: M) => Page | Promise<Page> | undefined, ahead: number): AsyncGenerator<Page, void, undefined> {
  const ready: (Page | Promise<Page>)[] = [];
  let next: Promise<IteratorResult<M>> | undefined;
  try {
    for (;;) {
      if (next === undefined) {
        next = messages.next();
        // Awaited below, or left behind when the stream is given up: not an unhandled rejection.
        next.catch(() => undefined);
      }
      const head = ready[0];
      if (head instanceof Promise && !(await settlesFirst(next, head))) {
        yield await ready.shift()!;
        continue;
      }
      const step = await next;
      next = undefined;
      if (step.done === true) break;
      const page = push(step.value);
      if (page === undefined) continue;
      // A copy's failure is thrown where the page would be yielded, not as an unhandled rejection.
      if (page instanceof Promise) page.catch(() => undefined);
      ready.push(page);
      while (ready.length > 0 && (ready.length > ahead || !(ready[0] instanceof Promise))) yield await ready.shift()!;
    }
    while (ready.length > 0) yield await ready.shift()!;
  } finally {
    if (ready.length > 0) await Promise.allSettled(ready);
  }
}

/** Whether `first` settles before `second` (either may reject: that is for whoever awaits them). */
function settlesFirst(first: Promise<unknown>, second: Promise<unknown>): Promise<boolean> {
  return Promise.race([first.then(() => true, () => true), second.then(() => false, () => false)]);
}

function fromWireMeta(wire: WirePageMeta, endpoint: string): PageMetaOut {
  const dtype = DTYPES_BY_WIRE.get(wire.dtype);
  if (dtype === undefined) throw localError(CLIENT_ERROR_CODES.KVC_PROTOCOL, `a page came with dtype ${wire.dtype}`, endpoint);
  const meta: PageMetaOut = {
    namespace: wire.namespace,
    // Keys are copied: a decoded key is a view into its whole message (up to a 1 MiB chunk),
    // which a caller keeping only the metadata (getPagesInto) would otherwise keep alive.
    key: new Uint8Array(wire.key),
    dtype,
    shape: wire.shape,
    tokens: wire.tokens,
    bytes: wire.bytes,
    crc32c: wire.crc32c,
    ttlMs: wire.ttlMs,
    createdAtMs: wire.createdAtMs,
  };
  if (wire.parentKey !== undefined && wire.parentKey.byteLength > 0) meta.parentKey = new Uint8Array(wire.parentKey);
  return meta;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
