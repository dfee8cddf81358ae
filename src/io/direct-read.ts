// Reads that bypass the page cache (O_DIRECT), for blob payloads: not kept in the page cache once
// written (append.ts), a payload read back from disk would otherwise be copied into freshly
// allocated page-cache pages first, a second copy of what the memory tier keeps. `dd` of 512 MiB
// just written with oflag=direct, on the 2-vCPU VM: 0.52 s of system time read through the page
// cache, 0.04 s with iflag=direct (and half the wall time).
//
// A direct read wants the same alignment as a direct write, so the blocks around the range are
// read into scratch memory and the range is copied out (one copy, into the caller's buffer).
// When every scratch buffer is in use, the filesystem refuses O_DIRECT, or a direct read fails
// with EINVAL, the read goes through the page cache instead (a descriptor opened for it at once).

import fs from 'node:fs';
import { alignDown, alignUp, closeFd, DIRECT_SCRATCH_BYTES, noteRefused, openDirect, openFd, pread, releaseScratch, tryAcquireScratch } from './scratch.js';

export class DirectReader {
  readonly #path: string;
  /** O_DIRECT descriptor, or null (refused). */
  readonly #direct: number | null;
  /** Cleared when a direct read failed with EINVAL; the descriptor stays open until `close` (reads may be using it). */
  #useDirect: boolean;
  /** Opened at the first read that goes through the page cache. */
  #buffered: Promise<number> | null = null;
  #closed = false;

  private constructor(path: string, direct: number | null) {
    this.#path = path;
    this.#direct = direct;
    this.#useDirect = direct !== null;
  }

  /** Opens `path` for reading, past the page cache unless `direct` is false or that is not possible. */
  static async open(path: string, o: { direct?: boolean } = {}): Promise<DirectReader> {
    const reader = new DirectReader(path, o.direct === false ? null : await openDirect(path, fs.constants.O_RDONLY));
    if (reader.#direct === null) await reader.#bufferedFd();
    return reader;
  }

  /** True while reads bypass the page cache. */
  get direct(): boolean {
    return this.#useDirect;
  }

  /** Reads up to `into.byteLength` bytes at `position`; returns how many (fewer only at the file's end). */
  async read(into: Uint8Array, position: number): Promise<number> {
    if (this.#closed) throw new Error(`the reader of ${this.#path} is closed`);
    const scratch = this.#useDirect ? tryAcquireScratch() : null;
    if (scratch !== null) {
      try {
        return await this.#readDirect(this.#direct!, scratch, into, position);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
        noteRefused(`a direct read of ${this.#path} failed with EINVAL`);
        this.#useDirect = false;
      } finally {
        releaseScratch(scratch);
      }
    }
    return await this.#readBuffered(into, position);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const buffered = await this.#buffered?.catch(() => null);
    await Promise.all([this.#direct, buffered ?? null].filter((fd): fd is number => fd !== null).map((fd) => closeFd(fd)));
  }

  async #readDirect(fd: number, scratch: Uint8Array, into: Uint8Array, position: number): Promise<number> {
    let done = 0;
    while (done < into.byteLength) {
      const start = alignDown(position + done);
      const skip = position + done - start;
      const length = Math.min(alignUp(skip + into.byteLength - done), DIRECT_SCRATCH_BYTES);
      const got = await pread(fd, scratch, length, start);
      const usable = Math.min(got - skip, into.byteLength - done);
      if (usable <= 0) break;
      into.set(scratch.subarray(skip, skip + usable), done);
      done += usable;
      if (got < length) break; // the file's end
    }
    return done;
  }

  async #readBuffered(into: Uint8Array, position: number): Promise<number> {
    const fd = await this.#bufferedFd();
    let done = 0;
    while (done < into.byteLength) {
      const got = await pread(fd, into.subarray(done), into.byteLength - done, position + done);
      if (got === 0) break;
      done += got;
    }
    return done;
  }

  #bufferedFd(): Promise<number> {
    this.#buffered ??= openFd(this.#path, fs.constants.O_RDONLY);
    return this.#buffered;
  }
}
