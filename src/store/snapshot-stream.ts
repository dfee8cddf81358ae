// The snapshot stream format: the whole database, in key order, as one byte stream of records
// `[u32 key length][u32 value length][key][value]` (big-endian lengths), cut into chunks of at
// most SNAPSHOT_CHUNK_BYTES. A record may straddle chunks, which is how a value larger than a
// chunk travels. Every chunk carries the crc32c of its bytes and its sequence number (0, 1, ...);
// the last chunk also carries the crc32c of the whole stream and the applied index the stream
// holds, so a receiver can tell a complete, intact stream from a cut or damaged one.
//
// Format versions. Version 2 (blob files) starts the stream with a header record whose key is
// empty (no database key is) and whose value is the magic `KVCS` and a u32 version; payloads
// always travel as 'p' records with their bytes — a 'b' record (a member-local blob location)
// never does. Version 1 streams have no header; they hold only 'p' payloads, so they install as
// they are. A receiver refuses a header with another magic or a version it does not know.
//
// Each chunk's bytes are checksummed once: the whole-stream crc32c is combined from the chunk
// crcs (crc32cCombine, zlib's crc32_combine for the Castagnoli polynomial) instead of a second
// pass over the bytes. The chunk checksums can run in the member's work pool (src/workers/pool.ts)
// through the async methods (addAsync, finishAsync, pushAsync); the pool keeps them inline where
// a thread hop costs more than the checksum (with the native addon, 1 MiB takes about 0.1 ms).

import assert from 'node:assert/strict';
import { crc32c, crc32cCombine } from '../codec/index.js';
import { LIMITS } from '../limits.js';

/** The most bytes of stream data in one chunk (1 MiB: one peer message with its envelope). */
export const SNAPSHOT_CHUNK_BYTES = LIMITS.page.chunkBytes;

/** Bytes of a record header: key length and value length. */
const RECORD_HEADER_BYTES = 8;

/** The format this code writes; a receiver reads this one and version 1 (no header record). */
export const SNAPSHOT_FORMAT_VERSION = 2;
const FORMAT_MAGIC = Uint8Array.from([0x4b, 0x56, 0x43, 0x53]); // 'KVCS'

/** The stream's first record: empty key, value = magic + u32 format version. */
export function formatHeaderRecord(version = SNAPSHOT_FORMAT_VERSION): SnapshotRecord {
  const value = new Uint8Array(FORMAT_MAGIC.byteLength + 4);
  value.set(FORMAT_MAGIC);
  new DataView(value.buffer).setUint32(FORMAT_MAGIC.byteLength, version);
  return { key: new Uint8Array(0), value };
}

export interface SnapshotChunk {
  /** Position of the chunk in the stream, from 0, without gaps. */
  seq: number;
  /** At most SNAPSHOT_CHUNK_BYTES of stream data; the receiver owns it. */
  data: Uint8Array;
  /** crc32c of `data`. */
  crc32c: number;
  /** True on the final chunk, which carries the two fields below. */
  last: boolean;
  /** crc32c of every chunk's data in order. */
  totalCrc32c?: number;
  /** The applied index recorded in the streamed state. */
  appliedIndex?: number;
}

export interface SnapshotRecord {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * Where chunk checksums are computed: the member's work pool (src/workers/pool.ts) fits. `owned`
 * says the caller holds the only reference to the whole ArrayBuffer of `data`, so it may be
 * moved to another thread; afterwards the caller uses the returned `data`.
 */
export interface ChunkChecksums {
  checksum(data: Uint8Array, owned: boolean): Promise<{ data: Uint8Array; crc32c: number }>;
}

/** A chunk's bytes and place before its checksum is known. */
type UnsealedChunk = Omit<SnapshotChunk, 'crc32c'>;

/**
 * Cuts a record stream into chunks. `add` returns the chunks it filled; `finish` the last one.
 * The async variants give the same chunks with their checksums computed by `checksums`; use one
 * kind or the other for a whole stream.
 */
export class ChunkWriter {
  readonly #checksums: ChunkChecksums | undefined;
  #buffer = new Uint8Array(SNAPSHOT_CHUNK_BYTES);
  #used = 0;
  #seq = 0;
  #totalCrc32c = 0;

  constructor(checksums?: ChunkChecksums, version = SNAPSHOT_FORMAT_VERSION) {
    this.#checksums = checksums;
    // Fits in the first chunk, so nothing is emitted here.
    this.#cut(formatHeaderRecord(version));
  }

  add(record: SnapshotRecord): SnapshotChunk[] {
    return this.#cut(record).map((chunk) => this.#seal(chunk, crc32c(chunk.data)));
  }

  finish(appliedIndex: number): SnapshotChunk {
    const chunk = this.#emit(true);
    return this.#sealLast(this.#seal(chunk, crc32c(chunk.data)), appliedIndex);
  }

  async addAsync(record: SnapshotRecord): Promise<SnapshotChunk[]> {
    const sealed: SnapshotChunk[] = [];
    for (const chunk of this.#cut(record)) sealed.push(await this.#sealAsync(chunk));
    return sealed;
  }

  async finishAsync(appliedIndex: number): Promise<SnapshotChunk> {
    return this.#sealLast(await this.#sealAsync(this.#emit(true)), appliedIndex);
  }

  /** Copies the record into the open chunk; returns the chunks it filled. */
  #cut(record: SnapshotRecord): UnsealedChunk[] {
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, record.key.byteLength);
    view.setUint32(4, record.value.byteLength);
    const full: UnsealedChunk[] = [];
    for (const part of [header, record.key, record.value]) this.#copy(part, full);
    return full;
  }

  #copy(bytes: Uint8Array, full: UnsealedChunk[]): void {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - offset, SNAPSHOT_CHUNK_BYTES - this.#used);
      this.#buffer.set(bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === SNAPSHOT_CHUNK_BYTES) full.push(this.#emit(false));
    }
  }

  #emit(last: boolean): UnsealedChunk {
    const data = this.#buffer.subarray(0, this.#used);
    const chunk: UnsealedChunk = { seq: this.#seq++, data, last };
    // A fresh buffer per chunk: the consumer owns the data it was handed.
    this.#buffer = new Uint8Array(SNAPSHOT_CHUNK_BYTES);
    this.#used = 0;
    return chunk;
  }

  /** Chunks are sealed in sequence order, so the whole-stream crc is combined in order too. */
  #seal(chunk: UnsealedChunk, crc: number): SnapshotChunk {
    this.#totalCrc32c = crc32cCombine(this.#totalCrc32c, crc, chunk.data.byteLength);
    return { ...chunk, crc32c: crc };
  }

  async #sealAsync(chunk: UnsealedChunk): Promise<SnapshotChunk> {
    if (this.#checksums === undefined) return this.#seal(chunk, crc32c(chunk.data));
    // Only a full chunk owns its whole buffer; the last one is a view of its start.
    const owned = chunk.data.byteLength === chunk.data.buffer.byteLength;
    const { data, crc32c: crc } = await this.#checksums.checksum(chunk.data, owned);
    return this.#seal({ ...chunk, data }, crc);
  }

  #sealLast(chunk: SnapshotChunk, appliedIndex: number): SnapshotChunk {
    chunk.totalCrc32c = this.#totalCrc32c;
    chunk.appliedIndex = appliedIndex;
    return chunk;
  }
}

/** Why a snapshot stream was rejected; the receiver keeps its old state and may retry. */
export class SnapshotStreamError extends Error {
  readonly code = 'KVC_SNAPSHOT_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'SnapshotStreamError';
  }
}

/**
 * Checks chunks (sequence, crc per chunk and over the whole) and parses the records out of them.
 * `pushAsync` does the same with the chunk checksums computed by `checksums`.
 */
export class ChunkReader {
  readonly #checksums: ChunkChecksums | undefined;
  #expectedSeq = 0;
  #totalCrc32c = 0;
  #ended = false;
  #appliedIndex: number | undefined;
  /** Bytes received and not yet parsed: whole chunks, the first one read from #headOffset. */
  #queue: Uint8Array[] = [];
  #headOffset = 0;
  #queuedBytes = 0;
  /** The format version, known once the first record is parsed (1 when it is not a header). */
  #version: number | undefined;

  constructor(checksums?: ChunkChecksums) {
    this.#checksums = checksums;
  }

  /** Verifies `chunk` and returns the records it completes. Throws SnapshotStreamError. */
  push(chunk: SnapshotChunk): SnapshotRecord[] {
    this.#checkPlace(chunk);
    return this.#accept(chunk, crc32c(chunk.data));
  }

  /**
   * `push` with the checksum computed by the reader's ChunkChecksums. The chunk's bytes may be
   * received views (never moved to another thread, copied if the pool needs them elsewhere).
   */
  async pushAsync(chunk: SnapshotChunk): Promise<SnapshotRecord[]> {
    this.#checkPlace(chunk);
    if (this.#checksums === undefined) return this.#accept(chunk, crc32c(chunk.data));
    const { crc32c: crc } = await this.#checksums.checksum(chunk.data, false);
    return this.#accept(chunk, crc);
  }

  #checkPlace(chunk: SnapshotChunk): void {
    if (this.#ended) throw new SnapshotStreamError(`chunk ${chunk.seq} after the last chunk`);
    if (chunk.seq !== this.#expectedSeq) {
      throw new SnapshotStreamError(`chunk ${chunk.seq} where ${this.#expectedSeq} was expected`);
    }
    if (chunk.data.byteLength > SNAPSHOT_CHUNK_BYTES) {
      throw new SnapshotStreamError(`chunk ${chunk.seq} holds ${chunk.data.byteLength} bytes, over ${SNAPSHOT_CHUNK_BYTES}`);
    }
  }

  /** Takes a chunk in place whose bytes have crc32c `crc`. */
  #accept(chunk: SnapshotChunk, crc: number): SnapshotRecord[] {
    if (crc !== chunk.crc32c) throw new SnapshotStreamError(`chunk ${chunk.seq} fails its crc32c`);
    this.#expectedSeq++;
    this.#totalCrc32c = crc32cCombine(this.#totalCrc32c, crc, chunk.data.byteLength);
    if (chunk.data.byteLength > 0) {
      this.#queue.push(chunk.data);
      this.#queuedBytes += chunk.data.byteLength;
    }
    if (chunk.last) this.#end(chunk);
    return this.#parse();
  }

  /** The applied index from the last chunk; throws unless the stream ended cleanly. */
  finish(): number {
    if (!this.#ended) throw new SnapshotStreamError(`stream ended after ${this.#expectedSeq} chunks without its last chunk`);
    if (this.#queuedBytes !== 0) throw new SnapshotStreamError(`stream ends inside a record (${this.#queuedBytes} bytes left)`);
    assert.ok(this.#appliedIndex !== undefined);
    return this.#appliedIndex;
  }

  #end(chunk: SnapshotChunk): void {
    this.#ended = true;
    if (chunk.totalCrc32c !== this.#totalCrc32c) throw new SnapshotStreamError('stream fails its whole crc32c');
    const index = chunk.appliedIndex;
    if (index === undefined || !Number.isSafeInteger(index) || index < 0) {
      throw new SnapshotStreamError(`last chunk carries no valid applied index (${String(index)})`);
    }
    this.#appliedIndex = index;
  }

  #parse(): SnapshotRecord[] {
    const records: SnapshotRecord[] = [];
    while (this.#queuedBytes >= RECORD_HEADER_BYTES) {
      const header = this.#peek(RECORD_HEADER_BYTES);
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      const keyBytes = view.getUint32(0);
      const valueBytes = view.getUint32(4);
      if (this.#queuedBytes < RECORD_HEADER_BYTES + keyBytes + valueBytes) break;
      this.#take(RECORD_HEADER_BYTES);
      const record = { key: this.#take(keyBytes), value: this.#take(valueBytes) };
      if (this.#version === undefined) {
        this.#version = formatVersionOf(record);
        if (keyBytes === 0) continue;
      } else if (keyBytes === 0) {
        throw new SnapshotStreamError('a format header record in the middle of the stream');
      }
      records.push(record);
    }
    return records;
  }

  /** The stream's format version (undefined before its first record). */
  get version(): number | undefined {
    return this.#version;
  }

  #peek(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const head = this.#queue[0]!;
    if (head.byteLength - this.#headOffset >= n) return head.subarray(this.#headOffset, this.#headOffset + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let offset = this.#headOffset;
    for (const part of this.#queue) {
      const piece = part.subarray(offset, offset + n - filled);
      out.set(piece, filled);
      filled += piece.byteLength;
      offset = 0;
      if (filled === n) break;
    }
    return out;
  }

  /** Consumes `n` bytes: a view when they lie in one chunk, a copy when they straddle chunks. */
  #take(n: number): Uint8Array {
    assert.ok(n <= this.#queuedBytes);
    const out = this.#peek(n);
    let left = n;
    while (left > 0) {
      const available = this.#queue[0]!.byteLength - this.#headOffset;
      const step = Math.min(available, left);
      this.#headOffset += step;
      left -= step;
      if (this.#headOffset === this.#queue[0]!.byteLength) {
        this.#queue.shift();
        this.#headOffset = 0;
      }
    }
    this.#queuedBytes -= n;
    return out;
  }
}

/** The version a stream's first record declares; throws for a header this code does not read. */
function formatVersionOf(first: SnapshotRecord): number {
  if (first.key.byteLength !== 0) return 1;
  const magicBytes = FORMAT_MAGIC.byteLength;
  const value = first.value;
  if (value.byteLength !== magicBytes + 4 || !FORMAT_MAGIC.every((b, i) => value[i] === b)) {
    throw new SnapshotStreamError('snapshot stream starts with an unknown header (not a kvcache snapshot)');
  }
  const version = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(magicBytes);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotStreamError(`snapshot format version ${version} is unknown to this member (it reads versions 1 and ${SNAPSHOT_FORMAT_VERSION}); upgrade it before it installs this snapshot`);
  }
  return version;
}
