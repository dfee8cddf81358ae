// Readers of a shared-memory file written by another process (a member's arena, the same-host read
// path of docs/ARCHITECTURE.md). Two implementations with identical results, tested against each
// other: the addon's read-only mapping (one memcpy per read, no system call) and, without the
// addon, pread(2) through node:fs (one system call and the kernel's copy per read). Neither hands
// out a view of the file: its owner rewrites any byte that is not under a lease, so a reader copies
// what it was told to and checks the copy's checksum.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { RawAddon } from './addon.js';

/**
 * The header at the start of every shared arena file (src/store/pinned-memory.ts writes it, the
 * client's same-host reads check it); all integers little-endian. Bytes written: 64 (the rest of
 * its page is zero). Layout: 0 magic (8 ASCII bytes) | 8 version u32 | 12 region index u32 |
 * 16 nonce (16 bytes) | 32 data offset u64 | 40 data bytes u64 | 48 writer pid u32 |
 * 52 region count u32 | 56 zero.
 */
export const SHARED_ARENA_HEADER = Object.freeze({
  magic: 'KVCARENA',
  version: 1,
  bytes: 64,
  offsets: Object.freeze({ magic: 0, version: 8, region: 12, nonce: 16, dataOffset: 32, dataBytes: 40, pid: 48, regionCount: 52 }),
  nonceBytes: 16,
});

export interface SharedFileReader {
  readonly path: string;
  /** The file's size when it was opened. */
  readonly bytes: number;
  /** True for the addon's mapping, false for the pread fallback. */
  readonly mapped: boolean;
  /** Copies dst.byteLength bytes from `offset` into `dst`; RangeError when that is outside the file. */
  read(offset: number, dst: Uint8Array): void;
  /**
   * Only the addon's mapping has it: read() that also returns the CRC-32C (from `seed`) of the
   * bytes written to `dst`, computed in the same pass. Without it, read and then checksum dst.
   */
  readCrc32c?(offset: number, dst: Uint8Array, seed: number): number;
  /**
   * Only the addon's mapping has it: readCrc32c on a thread of libuv's pool, beside the JavaScript
   * thread and other such reads. Leave `dst` alone until the promise settles; close() meanwhile
   * refuses further reads at once and unmaps once the reads running have ended.
   */
  readCrc32cAsync?(offset: number, dst: Uint8Array, seed: number): Promise<number>;
  /** Unmaps or closes now; idempotent. Reads afterwards throw. */
  close(): void;
}

function checkRange(reader: SharedFileReader, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > reader.bytes) {
    throw new RangeError(`${reader.path}: [${offset}, +${length}) is outside the ${reader.bytes}-byte file`);
  }
}

export class MappedReader implements SharedFileReader {
  readonly path: string;
  readonly bytes: number;
  readonly mapped = true;
  readonly #addon: RawAddon;
  #handle: unknown;

  constructor(addon: RawAddon, path: string) {
    const opened = addon.openShared(path);
    this.#addon = addon;
    this.#handle = opened.handle;
    this.path = path;
    this.bytes = opened.bytes;
  }

  read(offset: number, dst: Uint8Array): void {
    this.#addon.copyShared(this.#handleFor(offset, dst), offset, dst);
  }

  readCrc32c(offset: number, dst: Uint8Array, seed: number): number {
    return this.#addon.copySharedCrc32c(this.#handleFor(offset, dst), offset, dst, seed);
  }

  readCrc32cAsync(offset: number, dst: Uint8Array, seed: number): Promise<number> {
    return this.#addon.copySharedCrc32cAsync(this.#handleFor(offset, dst), offset, dst, seed);
  }

  close(): void {
    if (this.#handle === undefined) return;
    this.#addon.closeShared(this.#handle);
    this.#handle = undefined;
  }

  /** The mapping's handle for a read of dst.byteLength bytes at `offset`; RangeError when closed or outside. */
  #handleFor(offset: number, dst: Uint8Array): unknown {
    if (this.#handle === undefined) throw new RangeError(`${this.path}: the reader is closed`);
    checkRange(this, offset, dst.byteLength);
    return this.#handle;
  }
}

export class PreadReader implements SharedFileReader {
  readonly path: string;
  readonly bytes: number;
  readonly mapped = false;
  #fd: number | undefined;

  constructor(path: string) {
    const fd = openSync(path, 'r');
    try {
      this.bytes = fstatSync(fd).size;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.#fd = fd;
    this.path = path;
  }

  read(offset: number, dst: Uint8Array): void {
    if (this.#fd === undefined) throw new RangeError(`${this.path}: the reader is closed`);
    checkRange(this, offset, dst.byteLength);
    for (let done = 0; done < dst.byteLength; ) {
      const read = readSync(this.#fd, dst, done, dst.byteLength - done, offset + done);
      if (read === 0) throw new RangeError(`${this.path}: the file ended at ${offset + done} (it shrank?)`);
      done += read;
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
