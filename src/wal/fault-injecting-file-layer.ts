// A FileLayer for crash tests: it passes every call to a real layer, records the fsyncs and
// writes, and on request (1) tears the next write — writes only a prefix of its bytes and then
// "crashes", after which every call fails as if the process were gone — or (2) fails the next
// fdatasync without syncing, the way a disk error does. A test then opens the same directory
// with a fresh layer, which is what a restarted process sees. The torn prefix is a prefix of the
// bytes in order, which is what a crash during an append leaves on the file systems we run on.

import { nodeFileLayer } from './file-layer.js';
import type { FileLayer, OpenMode } from './file-layer.js';

export const SIMULATED_CRASH_CODE = 'KVC_SIMULATED_CRASH';
export const SIMULATED_IO_ERROR_CODE = 'EIO';

/** Thrown by every call once the layer has "crashed". */
export class SimulatedCrashError extends Error {
  readonly code = SIMULATED_CRASH_CODE;
  constructor(what: string) {
    super(`simulated crash: ${what}`);
    this.name = 'SimulatedCrashError';
  }
}

export interface SyncRecord {
  kind: 'fdatasync' | 'fsyncDir';
  path: string;
}

export interface WriteRecord {
  path: string;
  position: number;
  bytes: number;
}

/** How much of the next write survives: a byte count, or one computed from the write's size. */
export type TearPoint = number | ((writeBytes: number) => number);

export class FaultInjectingFileLayer implements FileLayer {
  readonly #inner: FileLayer;
  readonly #paths = new Map<number, string>();
  #tear: TearPoint | undefined;
  #failFsync: Error | undefined;
  #crashed = false;
  /** Every fdatasync and directory fsync that reached the disk, in order. */
  readonly syncs: SyncRecord[] = [];
  /** Every write that reached the disk (a torn one with the bytes that were kept). */
  readonly writes: WriteRecord[] = [];

  constructor(inner: FileLayer = nodeFileLayer) {
    this.#inner = inner;
  }

  get crashed(): boolean {
    return this.#crashed;
  }

  /** The next write keeps only its first `keep` bytes (clamped to its size), then the layer crashes. */
  tearNextWrite(keep: TearPoint): void {
    this.#tear = keep;
  }

  /** The next fdatasync fails with EIO (or `error`) and syncs nothing. */
  failNextFsync(error?: Error): void {
    this.#failFsync = error ?? Object.assign(new Error('EIO: simulated fsync failure'), { code: SIMULATED_IO_ERROR_CODE });
  }

  /** Every later call fails, as if the process had died. */
  crash(): void {
    this.#crashed = true;
  }

  /** fdatasync calls made on files whose name ends with `suffix` (default: all). */
  fdatasyncCount(suffix = ''): number {
    return this.syncs.filter((sync) => sync.kind === 'fdatasync' && sync.path.endsWith(suffix)).length;
  }

  async mkdirp(dir: string): Promise<void> {
    this.#alive('mkdirp');
    await this.#inner.mkdirp(dir);
  }

  async readdir(dir: string): Promise<string[]> {
    this.#alive('readdir');
    return await this.#inner.readdir(dir);
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    this.#alive('open');
    const fd = await this.#inner.open(path, mode);
    this.#paths.set(fd, path);
    return fd;
  }

  async close(fd: number): Promise<void> {
    // Closing after a crash is what the OS does anyway; it lets the test release descriptors.
    this.#paths.delete(fd);
    await this.#inner.close(fd);
  }

  async size(fd: number): Promise<number> {
    this.#alive('size');
    return await this.#inner.size(fd);
  }

  async read(fd: number, into: Uint8Array, position: number): Promise<number> {
    this.#alive('read');
    return await this.#inner.read(fd, into, position);
  }

  readSync(fd: number, into: Uint8Array, position: number): number {
    this.#alive('readSync');
    return this.#inner.readSync(fd, into, position);
  }

  async write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
    this.#alive('write');
    const path = this.#pathOf(fd);
    const tear = this.#tear;
    if (tear === undefined) {
      await this.#inner.write(fd, chunks, position);
      this.writes.push({ path, position, bytes: totalBytes(chunks) });
      return;
    }
    this.#tear = undefined;
    const total = totalBytes(chunks);
    const keep = Math.max(0, Math.min(total, typeof tear === 'number' ? tear : tear(total)));
    await this.#inner.write(fd, prefixOf(chunks, keep), position);
    this.writes.push({ path, position, bytes: keep });
    this.#crashed = true;
    throw new SimulatedCrashError(`write to ${path} torn after ${keep} of ${total} bytes`);
  }

  async fdatasync(fd: number): Promise<void> {
    this.#alive('fdatasync');
    const failure = this.#failFsync;
    if (failure !== undefined) {
      this.#failFsync = undefined;
      throw failure;
    }
    await this.#inner.fdatasync(fd);
    this.syncs.push({ kind: 'fdatasync', path: this.#pathOf(fd) });
  }

  async fsyncDir(dir: string): Promise<void> {
    this.#alive('fsyncDir');
    await this.#inner.fsyncDir(dir);
    this.syncs.push({ kind: 'fsyncDir', path: dir });
  }

  async truncate(fd: number, length: number): Promise<void> {
    this.#alive('truncate');
    await this.#inner.truncate(fd, length);
  }

  async unlink(path: string): Promise<void> {
    this.#alive('unlink');
    await this.#inner.unlink(path);
  }

  #alive(what: string): void {
    if (this.#crashed) throw new SimulatedCrashError(`${what} after the crash`);
  }

  #pathOf(fd: number): string {
    return this.#paths.get(fd) ?? `fd ${fd}`;
  }
}

function totalBytes(chunks: readonly Uint8Array[]): number {
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  return total;
}

/** The first `keep` bytes of `chunks`, as views. */
function prefixOf(chunks: readonly Uint8Array[], keep: number): Uint8Array[] {
  const prefix: Uint8Array[] = [];
  let left = keep;
  for (const chunk of chunks) {
    if (left === 0) break;
    const part = chunk.byteLength <= left ? chunk : chunk.subarray(0, left);
    prefix.push(part);
    left -= part.byteLength;
  }
  return prefix;
}
