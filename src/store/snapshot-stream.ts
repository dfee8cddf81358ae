// The snapshot stream format: the whole database, in key order, as one byte stream of records
// `[u32 key length][u32 value length][key][value]` (big-endian lengths), cut into chunks of at
// most SNAPSHOT_CHUNK_BYTES. A record may straddle chunks, which is how a value larger than a
// chunk travels. Every chunk carries the crc32c of its bytes and its sequence number (0, 1, ...);
// the last chunk also carries the crc32c of the whole stream and the applied index the stream
// holds, so a receiver can tell a complete, intact stream from a cut or damaged one.

import assert from 'node:assert/strict';
import { crc32c } from '../codec/index.js';
import { LIMITS } from '../limits.js';

/** The most bytes of stream data in one chunk (1 MiB: one peer message with its envelope). */
export const SNAPSHOT_CHUNK_BYTES = LIMITS.page.chunkBytes;

/** Bytes of a record header: key length and value length. */
const RECORD_HEADER_BYTES = 8;

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

/** Cuts a record stream into chunks. `add` returns the chunks it filled; `finish` the last one. */
export class ChunkWriter {
  #buffer = new Uint8Array(SNAPSHOT_CHUNK_BYTES);
  #used = 0;
  #seq = 0;
  #totalCrc32c = 0;

  add(record: SnapshotRecord): SnapshotChunk[] {
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, record.key.byteLength);
    view.setUint32(4, record.value.byteLength);
    const full: SnapshotChunk[] = [];
    for (const part of [header, record.key, record.value]) this.#copy(part, full);
    return full;
  }

  finish(appliedIndex: number): SnapshotChunk {
    const chunk = this.#emit(true);
    chunk.totalCrc32c = this.#totalCrc32c;
    chunk.appliedIndex = appliedIndex;
    return chunk;
  }

  #copy(bytes: Uint8Array, full: SnapshotChunk[]): void {
    let offset = 0;
    while (offset < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - offset, SNAPSHOT_CHUNK_BYTES - this.#used);
      this.#buffer.set(bytes.subarray(offset, offset + n), this.#used);
      this.#used += n;
      offset += n;
      if (this.#used === SNAPSHOT_CHUNK_BYTES) full.push(this.#emit(false));
    }
  }

  #emit(last: boolean): SnapshotChunk {
    const data = this.#buffer.subarray(0, this.#used);
    const crc = crc32c(data);
    this.#totalCrc32c = crc32c(data, this.#totalCrc32c);
    const chunk: SnapshotChunk = { seq: this.#seq++, data, crc32c: crc, last };
    // A fresh buffer per chunk: the consumer owns the data it was handed.
    this.#buffer = new Uint8Array(SNAPSHOT_CHUNK_BYTES);
    this.#used = 0;
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

/** Checks chunks (sequence, crc per chunk and over the whole) and parses the records out of them. */
export class ChunkReader {
  #expectedSeq = 0;
  #totalCrc32c = 0;
  #ended = false;
  #appliedIndex: number | undefined;
  /** Bytes received and not yet parsed: whole chunks, the first one read from #headOffset. */
  #queue: Uint8Array[] = [];
  #headOffset = 0;
  #queuedBytes = 0;

  /** Verifies `chunk` and returns the records it completes. Throws SnapshotStreamError. */
  push(chunk: SnapshotChunk): SnapshotRecord[] {
    if (this.#ended) throw new SnapshotStreamError(`chunk ${chunk.seq} after the last chunk`);
    if (chunk.seq !== this.#expectedSeq) {
      throw new SnapshotStreamError(`chunk ${chunk.seq} where ${this.#expectedSeq} was expected`);
    }
    if (chunk.data.byteLength > SNAPSHOT_CHUNK_BYTES) {
      throw new SnapshotStreamError(`chunk ${chunk.seq} holds ${chunk.data.byteLength} bytes, over ${SNAPSHOT_CHUNK_BYTES}`);
    }
    if (crc32c(chunk.data) !== chunk.crc32c) throw new SnapshotStreamError(`chunk ${chunk.seq} fails its crc32c`);
    this.#expectedSeq++;
    this.#totalCrc32c = crc32c(chunk.data, this.#totalCrc32c);
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
      records.push({ key: this.#take(keyBytes), value: this.#take(valueBytes) });
    }
    return records;
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
