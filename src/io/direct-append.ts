// Appends that bypass the page cache (O_DIRECT), for the files a member writes once and reads
// back rarely: WAL segments and blob files.
//
// Why: a buffered write copies every byte into a page of the page cache that the kernel must
// first allocate, and later writes back and reclaims. A perf profile of three `kvc dev` members
// taking 1 MiB puts (8 in flight, 2-vCPU VM) put 24 % of their CPU in that one copy
// (copy_folio_from_iter_atomic under pwritev); `dd` of 1,000 MiB to a new file on the same disk
// took 0.8–1.4 s of system time buffered, 0.13 s with oflag=direct. Hot pages are served from the
// memory tier, so the page cache only held a second copy of them.
//
// O_DIRECT wants the memory address, the file offset and the length aligned to the block size.
// An appender copies each write into aligned scratch memory (one copy in user space, into memory
// it reuses), starting at the block boundary at or below the write's position: the bytes of that
// first block before the position are kept from the previous write (or read back), and the last
// block is padded with zeros. So the file holds exactly the bytes written, then up to one block of
// zeros past the logical end, which the next append overwrites. Owners cut that padding off
// (truncate to their own size) when they close or leave a file; after a crash it is a zero tail,
// which the WAL's recovery treats as a torn tail and the blob files as garbage.
//
// Only appends: a write must end at or past the end of what was written before (else the padding
// would zero the bytes after it). Where O_DIRECT is off (KVC_DIRECT_IO=0), refused by the
// filesystem at open, refused at a write (EINVAL), or no scratch memory can be mapped, the
// appender writes through the page cache instead, as every write did before. Sizes: LIMITS.io.

import fs from 'node:fs';
import { acquireScratch, alignDown, closeFd, DIRECT_BLOCK_BYTES, noteRefused, openDirect, openFd, pread, pwrite, releaseScratch } from './scratch.js';

export class DirectAppender {
  readonly #path: string;
  #fd: number;
  #direct: boolean;
  /** End of the bytes written (the logical end); with direct writes the file may be longer by padding. */
  #end: number;
  /** The bytes of the block holding `#end`, from its boundary up to `#end`; null: read them back when needed. */
  #tail: Uint8Array | null = null;
  #closed = false;

  private constructor(path: string, fd: number, direct: boolean, end: number) {
    this.#path = path;
    this.#fd = fd;
    this.#direct = direct;
    this.#end = end;
  }

  /**
   * Opens `path` (which exists) for appends after its first `end` bytes: past the page cache
   * unless `direct` is false, direct appends are off for the process, or the filesystem refuses.
   */
  static async open(path: string, end: number, o: { direct?: boolean } = {}): Promise<DirectAppender> {
    const direct = o.direct === false ? null : await openDirect(path, fs.constants.O_RDWR);
    return direct !== null ? new DirectAppender(path, direct, true, end) : new DirectAppender(path, await openFd(path, fs.constants.O_RDWR), false, end);
  }

  /** True while writes bypass the page cache. */
  get direct(): boolean {
    return this.#direct;
  }

  /** Where the written bytes end. */
  get end(): number {
    return this.#end;
  }

  /**
   * Writes `chunks` at `position`, which must leave nothing written before it past its end.
   * Resolves once the bytes are with the device (direct) or the page cache; fdatasync still
   * makes them and the file's size durable.
   */
  async write(chunks: readonly Uint8Array[], position: number): Promise<void> {
    if (this.#closed) throw new Error(`the appender of ${this.#path} is closed`);
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.byteLength;
    if (position + bytes < this.#end) {
      throw new Error(`an append to ${this.#path} at ${position}+${bytes} ends before what was written (${this.#end})`);
    }
    if (this.#direct) {
      try {
        await this.#writeDirect(chunks, position);
        this.#end = position + bytes;
        return;
      } catch (error) {
        // EINVAL: this memory, offset or length is not aligned enough for the device. A RangeError:
        // no scratch memory to be had. Neither is a reason to fail the write.
        if (error instanceof RangeError) await this.#fallBack(`no aligned scratch memory (${error.message})`);
        else if ((error as NodeJS.ErrnoException).code === 'EINVAL') await this.#fallBack(`a direct write to ${this.#path} failed with EINVAL`);
        else throw error;
      }
    }
    await writeAll(this.#fd, chunks, position);
    this.#end = position + bytes;
  }

  /** The file was cut to `length` bytes (by its owner, through another descriptor). */
  truncated(length: number): void {
    this.#end = length;
    this.#tail = null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeFd(this.#fd);
  }

  async #writeDirect(chunks: readonly Uint8Array[], position: number): Promise<void> {
    const scratch = acquireScratch();
    // Taken before it is forgotten: the block this write starts in is the last one's tail. (It
    // was forgotten first, so every append read its first block back from the device before
    // writing: a direct read per WAL save, on a leader ~300 per 600 puts of 1 MiB.)
    const tail = this.#tail;
    this.#tail = null; // unknown until this write has gone through
    try {
      const start = alignDown(position);
      let fill = position - start;
      if (fill > 0) await this.#fillHead(scratch, start, fill, tail);
      let at = start;
      for (const chunk of chunks) {
        let from = 0;
        while (from < chunk.byteLength) {
          const n = Math.min(chunk.byteLength - from, scratch.byteLength - fill);
          scratch.set(from === 0 && n === chunk.byteLength ? chunk : chunk.subarray(from, from + n), fill);
          fill += n;
          from += n;
          if (fill === scratch.byteLength) {
            await this.#put(scratch, fill, at);
            at += fill;
            fill = 0;
          }
        }
      }
      const tailStart = alignDown(fill);
      if (fill > 0) {
        const padded = fill === tailStart ? fill : tailStart + DIRECT_BLOCK_BYTES;
        scratch.fill(0, fill, padded);
        await this.#put(scratch, padded, at);
      }
      this.#tail = scratch.slice(tailStart, fill);
    } finally {
      releaseScratch(scratch);
    }
  }

  /**
   * Puts the first `head` bytes of the block at `start` (as written) at the front of `scratch`:
   * from `tail` (the previous write's last block) when it is that block, else read back.
   */
  async #fillHead(scratch: Uint8Array, start: number, head: number, tail: Uint8Array | null): Promise<void> {
    if (tail !== null && this.#end - tail.byteLength === start && tail.byteLength >= head) {
      scratch.set(tail.subarray(0, head), 0);
      return;
    }
    // A direct read wants the same alignment: the whole block.
    const got = await pread(this.#fd, scratch, DIRECT_BLOCK_BYTES, start);
    if (got < head) throw new Error(`an append to ${this.#path}: the block at ${start} holds ${got} bytes, ${head} needed`);
  }

  async #put(scratch: Uint8Array, length: number, position: number): Promise<void> {
    let written = 0;
    while (written < length) {
      const n = await pwrite(this.#fd, scratch.subarray(written, length), position + written);
      if (n <= 0 || n % DIRECT_BLOCK_BYTES !== 0) throw new Error(`a direct write to ${this.#path} wrote ${n} bytes at ${position + written}`);
      written += n;
    }
  }

  /** From now on this appender, and every one opened later, writes through the page cache. */
  async #fallBack(reason: string): Promise<void> {
    noteRefused(reason);
    const buffered = await openFd(this.#path, fs.constants.O_RDWR);
    const old = this.#fd;
    this.#fd = buffered;
    this.#direct = false;
    this.#tail = null;
    await closeFd(old);
  }
}

/** Writes every byte of `chunks` at `position` through the page cache, continuing short writes. */
async function writeAll(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
  let pending = chunks.filter((chunk) => chunk.byteLength > 0);
  let at = position;
  while (pending.length > 0) {
    const written = await new Promise<number>((resolve, reject) => {
      fs.writev(fd, pending, at, (error, n) => (error ? reject(error) : resolve(n)));
    });
    // A short write (full disk, signal) is continued from where it stopped; a write of nothing
    // would loop forever, so it is an error.
    if (written <= 0) throw new Error(`writev wrote ${written} bytes at ${at}`);
    at += written;
    pending = dropWritten(pending, written);
  }
}

/** The chunks left after the first `written` bytes (views, no copies). */
function dropWritten(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = written;
  for (const chunk of chunks) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength;
      continue;
    }
    rest.push(skip === 0 ? chunk : chunk.subarray(skip));
    skip = 0;
  }
  return rest;
}

