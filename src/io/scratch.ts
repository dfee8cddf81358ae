// What direct appends and direct reads share: the process-wide switch, aligned scratch memory,
// and positioned I/O on raw descriptors.
//
// Scratch memory: a WebAssembly memory is a mapping of its own (V8 reserves it with mmap), so its
// buffer starts on a page boundary: aligned memory with no native code. Should a runtime ever
// place it otherwise, the first direct write or read fails with EINVAL and the caller falls back
// to the page cache. Buffers are reused: fresh memory is what made buffered writes expensive on
// the machines we measured (docs/BENCHMARKS.md, "Direct I/O").

import fs from 'node:fs';
import { LIMITS } from '../limits.js';

/** The alignment of offsets, lengths and memory. */
export const DIRECT_BLOCK_BYTES = LIMITS.io.directBlockBytes;
/** A write or read goes through scratch memory in pieces of at most this many bytes. */
export const DIRECT_SCRATCH_BYTES = LIMITS.io.directScratchBytes;
const WASM_PAGE_BYTES = 65_536;

/** Why direct I/O is off for the whole process ('' while it is on): turned off, or it failed. */
let refusedBecause = process.env.KVC_DIRECT_IO === '0' ? 'off: KVC_DIRECT_IO=0' : '';

/** Turns direct appends and reads on or off for files opened from now on. */
export function setDirectIo(on: boolean): void {
  refusedBecause = on ? '' : 'off';
}

/** '' when files opened now are written and read past the page cache, else why not. */
export function directIoProblem(): string {
  return refusedBecause;
}

/** Direct I/O failed in a way that will fail again (alignment, memory): files opened later use the page cache. */
export function noteRefused(reason: string): void {
  refusedBecause ||= reason;
}

/**
 * The first file whose filesystem refused O_DIRECT at open ('' if none): that file went through
 * the page cache, while files on other filesystems may still go direct, so the switch stays on.
 */
let filesystemRefusal = '';

/**
 * Whether this process's files go past the page cache, for Status: not when the switch is off,
 * nor when some filesystem refused O_DIRECT (its files are buffered); `reason` says why not.
 */
export function directSwitchStatus(): { enabled: boolean; reason: string } {
  const reason = refusedBecause || filesystemRefusal;
  return { enabled: reason === '', reason };
}

// ---- Aligned scratch memory ----

type WasmMemoryConstructor = new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;

const kept: Uint8Array[] = [];
/** Scratch buffers that exist (in use or kept). */
let allocated = 0;

function allocate(): Uint8Array {
  const pages = DIRECT_SCRATCH_BYTES / WASM_PAGE_BYTES;
  const scratch = new Uint8Array(new WasmMemory({ initial: pages, maximum: pages }).buffer);
  allocated++;
  return scratch;
}

/** A scratch buffer for a write (always one); throws a RangeError when V8 cannot map one. */
export function acquireScratch(): Uint8Array {
  return kept.pop() ?? allocate();
}

/** A scratch buffer for a read, or null when LIMITS.io.directScratchBuffersMax exist and all are in use. */
export function tryAcquireScratch(): Uint8Array | null {
  const scratch = kept.pop();
  if (scratch !== undefined) return scratch;
  return allocated < LIMITS.io.directScratchBuffersMax ? allocate() : null;
}

export function releaseScratch(scratch: Uint8Array): void {
  if (kept.length < LIMITS.io.directScratchBuffersMax) {
    kept.push(scratch);
    return;
  }
  allocated--; // garbage: V8 unmaps it
}

// ---- Positioned I/O ----

export function alignDown(n: number): number {
  return n - (n % DIRECT_BLOCK_BYTES);
}

export function alignUp(n: number): number {
  return Math.ceil(n / DIRECT_BLOCK_BYTES) * DIRECT_BLOCK_BYTES;
}

export function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

/** Opens with O_DIRECT added; null where the filesystem refuses it (then the caller opens without). */
export async function openDirect(path: string, flags: number): Promise<number | null> {
  if (directIoProblem() !== '' || fs.constants.O_DIRECT === undefined) return null;
  try {
    return await openFd(path, flags | fs.constants.O_DIRECT);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' || code === 'EOPNOTSUPP') {
      // This filesystem, not the process.
      filesystemRefusal ||= `the filesystem of ${path} refused O_DIRECT (${code})`;
      return null;
    }
    throw error;
  }
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve())));
}

export function pwrite(fd: number, buffer: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buffer, 0, buffer.byteLength, position, (error, written) => (error ? reject(error) : resolve(written)));
  });
}

export function pread(fd: number, buffer: Uint8Array, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, length, position, (error, read) => (error ? reject(error) : resolve(read)));
  });
}
