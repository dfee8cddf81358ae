// Readers of a shared-memory file written by another process (a member's arena, the same-host read
// path of docs/ARCHITECTURE.md). Two implementations with identical results, tested against each
// other: the addon's read-only mapping (one memcpy per read, no system call) and, without the
// addon, pread(2) through node:fs (one system call and the kernel's copy per read). Neither hands
// out a view of the file: its owner rewrites any byte that is not under a lease, so a reader copies
// what it was told to and checks the copy's checksum.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { RawAddon } from './addon.js';

export interface SharedFileReader {
  readonly path: string;
  /** The file's size when it was opened. */
  readonly bytes: number;
  /** True for the addon's mapping, false for the pread fallback. */
  readonly mapped: boolean;
  /** Copies dst.byteLength bytes from `offset` into `dst`; RangeError when that is outside the file. */
  read(offset: number, dst: Uint8Array): void;
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
    if (this.#handle === undefined) throw new RangeError(`${this.path}: the reader is closed`);
    checkRange(this, offset, dst.byteLength);
    this.#addon.copyShared(this.#handle, offset, dst);
  }

  close(): void {
    if (this.#handle === undefined) return;
    this.#addon.closeShared(this.#handle);
    this.#handle = undefined;
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
