// Appends to the files a member writes once and reads back rarely: WAL segments and blob files.
// Three ways to write them (AppendMode), one default per process (KVC_APPEND_IO, or
// setAppendMode), which an appender may override:
//
// - 'dropped' (the default): through the page cache, and after each fdatasync (`datasync()`) the
//   pages it made durable are dropped from the cache (posix_fadvise DONTNEED, through the addon).
//   The kernel takes the copy and writes back large requests, and the pages it frees are the
//   ones the next write takes, so memory stays warm and the page cache does not grow.
// - 'direct': past the page cache (O_DIRECT), through aligned scratch memory (below).
// - 'cached': through the page cache, left there.
//
// Why 'dropped': on the 2-vCPU VM we measure on, three writers at once (8 pages of 1 MiB per
// fdatasync, one file each, as three members on one disk) took 415–421 MB/s in all 'dropped' at
// 0.61 s of system CPU per GB written, 395–400 MB/s 'cached' at 2.1–2.5 s (the guest hands freed
// memory back to the host, so fresh page-cache pages are dear: copy_folio_from_iter_atomic was 24 %
// of the members' CPU before 'direct' came), and 250 MB/s 'direct' at 0.19 s: each direct append
// waits for the device, and an append that grows the file costs ext4 an allocation and a journal
// commit at the fdatasync (docs/BENCHMARKS.md, "Appends through the page cache, dropped after
// the sync"). A member's puts gained 18 % from 'direct' to 'dropped' in alternated runs.
//
// 'dropped' needs the addon; without it (or should the call fail) appenders fall back to
// 'cached', and appendIoStatus() says why. Pages of a block still being filled are not dropped:
// the next append would read them back first.
//
// O_DIRECT wants the memory address, the file offset and the length aligned to the block size.
// A direct appender copies each write into aligned scratch memory (one copy in user space, into
// memory it reuses), starting at the block boundary at or below the write's position: the bytes
// of that first block before the position are kept from the previous write (or read back), and
// the last block is padded with zeros. So the file holds exactly the bytes written, then up to one
// block of zeros past the logical end, which the next append overwrites. Owners cut that padding
// off (truncate to their own size) when they close or leave a file; after a crash it is a zero
// tail, which the WAL's recovery treats as a torn tail and the blob files as garbage. Where
// O_DIRECT is refused by the filesystem at open, at a write (EINVAL), or no scratch memory can be
// mapped, or direct I/O is off for the process (KVC_DIRECT_IO=0), a direct appender writes
// 'dropped' instead.
//
// A write and its sync can be one step (`writeDurable`): with the addon, the pwritev, the fdatasync
// and the drop run back to back on one thread of libuv's pool, so the sync does not wait for the
// JavaScript thread to come back to the write's completion (docs/BENCHMARKS.md, "A WAL save in one
// step").
//
// Only appends: a write must end at or past the end of what was written before (else a direct
// write's padding would zero the bytes after it). Sizes: LIMITS.io.

import fs from 'node:fs';
import { appendDurable, dropCachedPages } from '../native/index.js';
import { acquireScratch, alignDown, closeFd, DIRECT_BLOCK_BYTES, directIoProblem, directSwitchStatus, noteRefused, openDirect, openFd, pread, pwrite, releaseScratch } from './scratch.js';

export type AppendMode = 'dropped' | 'direct' | 'cached';

export const APPEND_MODES: readonly AppendMode[] = ['dropped', 'direct', 'cached'];

/** KVC_APPEND_IO's mode ('dropped' when unset), and what was wrong with a value that is none of them. */
export function appendModeFromEnv(env: NodeJS.ProcessEnv = process.env): { mode: AppendMode; problem: string } {
  const value = env.KVC_APPEND_IO;
  if (value === undefined || value === '' || (APPEND_MODES as readonly string[]).includes(value)) return { mode: (value || 'dropped') as AppendMode, problem: '' };
  return { mode: 'dropped', problem: `KVC_APPEND_IO=${value} is none of ${APPEND_MODES.join(', ')}, so appends are 'dropped'` };
}

const fromEnv = appendModeFromEnv();
let defaultMode: AppendMode = fromEnv.mode;
/** Why appends are not written as `defaultMode` says ('' while they are). */
let modeProblem = fromEnv.problem;

/** The mode appenders opened from now on take unless told otherwise. */
export function setAppendMode(mode: AppendMode): void {
  defaultMode = mode;
  modeProblem = '';
}

/**
 * How appenders opened now write: 'dropped' becomes 'cached' once dropping failed in this process
 * (no addon), and 'direct' writes 'dropped' where direct I/O is off; `reason` says why, or why the
 * setting was not taken.
 */
export function appendIoStatus(): { mode: AppendMode; reason: string } {
  const refused = defaultMode === 'direct' ? directIoProblem() : '';
  return { mode: effectiveMode(defaultMode), reason: modeProblem || (refused === '' ? '' : `not direct: ${refused}`) };
}

/**
 * For Status: whether blob payloads are read past the page cache (and 'direct' appends written
 * so), and why not; how appends are written, and why not as asked.
 */
export function directIoStatus(): { enabled: boolean; reason: string; appends: AppendMode; appendsReason: string } {
  const appends = appendIoStatus();
  return { ...directSwitchStatus(), appends: appends.mode, appendsReason: appends.reason };
}

function effectiveMode(asked: AppendMode): AppendMode {
  if (asked === 'direct' && directIoProblem() !== '') return effectiveMode('dropped');
  if (asked === 'dropped' && droppingFailed) return 'cached';
  return asked;
}

/** Set once a drop failed (the addon is not loaded): later appenders write 'cached' from the start. */
let droppingFailed = false;

export class Appender {
  readonly #path: string;
  #fd: number;
  #mode: AppendMode;
  /** End of the bytes written (the logical end); with direct writes the file may be longer by padding. */
  #end: number;
  /** The bytes of the block holding `#end`, from its boundary up to `#end`; null: read them back when needed. */
  #tail: Uint8Array | null = null;
  /** ('dropped') The cached pages before this offset were dropped (or never written by this appender). */
  #dropped: number;
  #closed = false;

  private constructor(path: string, fd: number, mode: AppendMode, end: number) {
    this.#path = path;
    this.#fd = fd;
    this.#mode = mode;
    this.#end = end;
    this.#dropped = alignDown(end);
  }

  /**
   * Opens `path` (which exists) for appends after its first `end` bytes, written as `mode` says
   * (default: the process's, setAppendMode). 'direct' writes 'dropped' where the filesystem or the
   * process refuses O_DIRECT.
   */
  static async open(path: string, end: number, o: { mode?: AppendMode } = {}): Promise<Appender> {
    const mode = effectiveMode(o.mode ?? defaultMode);
    if (mode === 'direct') {
      const fd = await openDirect(path, fs.constants.O_RDWR);
      if (fd !== null) return new Appender(path, fd, 'direct', end);
    }
    return new Appender(path, await openFd(path, fs.constants.O_RDWR), mode === 'direct' ? effectiveMode('dropped') : mode, end);
  }

  /** How this appender writes now. */
  get mode(): AppendMode {
    return this.#mode;
  }

  /** True while writes bypass the page cache (and the file may hold padding past `end`). */
  get direct(): boolean {
    return this.#mode === 'direct';
  }

  /** Where the written bytes end. */
  get end(): number {
    return this.#end;
  }

  /**
   * Writes `chunks` at `position`, which must leave nothing written before it past its end.
   * Resolves once the bytes are with the device (direct) or the page cache; `datasync()` makes
   * them and the file's size durable.
   */
  async write(chunks: readonly Uint8Array[], position: number): Promise<void> {
    const end = this.#checkedEnd(chunks, position);
    if (this.#mode === 'direct') {
      try {
        await this.#writeDirect(chunks, position);
        this.#end = end;
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
    this.#end = end;
  }

  /** Where an append of `chunks` at `position` ends; throws when this appender is closed or it would end before what was written. */
  #checkedEnd(chunks: readonly Uint8Array[], position: number): number {
    if (this.#closed) throw new Error(`the appender of ${this.#path} is closed`);
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.byteLength;
    if (position + bytes < this.#end) {
      throw new Error(`an append to ${this.#path} at ${position}+${bytes} ends before what was written (${this.#end})`);
    }
    return position + bytes;
  }

  /**
   * fdatasync of the file: what was written before the call, and the size needed to read it, is
   * durable once it resolves. 'dropped': then drops the cached pages that sync wrote, up to the
   * block still being filled.
   */
  async datasync(): Promise<void> {
    const synced = this.#end;
    await new Promise<void>((resolve, reject) => fs.fdatasync(this.#fd, (error) => (error ? reject(error) : resolve())));
    if (this.#mode !== 'dropped') return;
    const to = alignDown(synced);
    if (to <= this.#dropped) return;
    this.#droppedThrough(to, dropCachedPages(this.#fd, this.#dropped, to - this.#dropped));
  }

  /**
   * write(chunks, position), then datasync(), as one job on a thread of libuv's pool where the addon
   * is loaded (appendDurable): the fdatasync starts the moment the write ends, where the two
   * promises in turn left it waiting until the JavaScript thread got back to it, and the drop runs
   * on that thread too. 'direct' appends, and any without the addon, take the two steps.
   */
  async writeDurable(chunks: readonly Uint8Array[], position: number): Promise<void> {
    if (this.#mode !== 'direct') {
      const end = this.#checkedEnd(chunks, position);
      const to = this.#mode === 'dropped' ? alignDown(end) : 0;
      const drop = to > this.#dropped ? { offset: this.#dropped, length: to - this.#dropped } : { offset: 0, length: 0 };
      const job = appendDurable(this.#fd, chunks, position, true, drop);
      if (job !== null) {
        const problem = await job;
        this.#end = end;
        if (drop.length > 0) this.#droppedThrough(to, problem);
        return;
      }
    }
    await this.write(chunks, position);
    await this.datasync();
  }

  /** The cached pages before `to` were dropped, or `problem` says why not. */
  #droppedThrough(to: number, problem: string): void {
    this.#dropped = to;
    if (problem === '') return;
    // No addon, or the kernel refused: the pages stay cached, as they did before 'dropped'.
    this.#mode = 'cached';
    droppingFailed = true;
    modeProblem ||= `dropping written pages from the page cache failed (${problem}), so appends stay cached`;
  }

  /** The file was cut to `length` bytes (by its owner, through another descriptor). */
  truncated(length: number): void {
    this.#end = length;
    this.#tail = null;
    this.#dropped = Math.min(this.#dropped, alignDown(length));
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

  /** From now on this appender, and every direct one opened later, writes 'dropped'. */
  async #fallBack(reason: string): Promise<void> {
    noteRefused(reason);
    const buffered = await openFd(this.#path, fs.constants.O_RDWR);
    const old = this.#fd;
    this.#fd = buffered;
    this.#mode = effectiveMode('dropped');
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

