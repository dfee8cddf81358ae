// The file operations the WAL uses, behind an interface so that tests (and the crash tests of
// the node) can put a fault-injecting layer in between: tear a write, fail an fsync, count
// fsyncs. Files are addressed by numeric descriptors so that the WAL can do positioned reads
// and writes without seeking. Reads of the Raft log are synchronous (LogStorage is sync), so
// `readSync` exists; everything else is asynchronous to keep the event loop free during fsync.

import fs from 'node:fs';
import { beforeSync, beforeWrite } from '../faults/index.js';
import { Appender, type AppendMode } from '../io/index.js';

export type OpenMode =
  /** An existing file, for reading and positioned writes. */
  | 'read-write'
  /** A new file for reading and writing; fails if the name is taken. */
  | 'create';

export interface FileLayer {
  /** Creates `dir` and its parents when missing. */
  mkdirp(dir: string): Promise<void>;
  /** The names (not paths) of the entries of `dir`. */
  readdir(dir: string): Promise<string[]>;
  open(path: string, mode: OpenMode): Promise<number>;
  close(fd: number): Promise<void>;
  /** The current size of an open file in bytes. */
  size(fd: number): Promise<number>;
  /** Reads up to `into.byteLength` bytes at `position`; returns how many were read (0 at EOF). */
  read(fd: number, into: Uint8Array, position: number): Promise<number>;
  readSync(fd: number, into: Uint8Array, position: number): number;
  /** Writes every byte of `chunks`, in order, starting at `position`, the end of what was written (the WAL only appends). */
  write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void>;
  /** Makes the file's data (and the size needed to read it) durable. */
  fdatasync(fd: number): Promise<void>;
  /**
   * write() then fdatasync() of the same file, where a layer can do the two as one step (the WAL
   * calls it for every synced save when present; without it, the two in turn).
   */
  writeDurable?(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void>;
  /** Makes the directory's entries durable (after creating or deleting a file in it). */
  fsyncDir(dir: string): Promise<void>;
  truncate(fd: number, length: number): Promise<void>;
  unlink(path: string): Promise<void>;
}

/**
 * Node's fs. Writes go through an Appender (src/io: through the page cache and dropped from it
 * after each fdatasync, or past it with O_DIRECT), opened at a file's first write; the WAL only
 * ever appends. A file written to is synced through its appender, which drops what the sync
 * wrote. Reads use the descriptor `open` returned, which sees what the appender wrote.
 */
export class NodeFileLayer implements FileLayer {
  readonly #mode: AppendMode | undefined;
  readonly #paths = new Map<number, string>();
  /** Per descriptor written to: its appender. */
  readonly #appenders = new Map<number, Promise<Appender>>();

  /** `mode`: how appends are written (default: the process's, src/io setAppendMode). */
  constructor(o: { mode?: AppendMode } = {}) {
    this.#mode = o.mode;
  }

  async mkdirp(dir: string): Promise<void> {
    await fs.promises.mkdir(dir, { recursive: true });
  }

  async readdir(dir: string): Promise<string[]> {
    return await fs.promises.readdir(dir);
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    const flags = mode === 'create' ? 'wx+' : 'r+';
    const fd = await new Promise<number>((resolve, reject) => {
      fs.open(path, flags, 0o644, (error, opened) => (error ? reject(error) : resolve(opened)));
    });
    this.#paths.set(fd, path);
    return fd;
  }

  async close(fd: number): Promise<void> {
    const appender = this.#appenders.get(fd);
    this.#appenders.delete(fd);
    this.#paths.delete(fd);
    await (await appender?.catch(() => undefined))?.close();
    await new Promise<void>((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve())));
  }

  async size(fd: number): Promise<number> {
    return await new Promise((resolve, reject) => {
      fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size)));
    });
  }

  async read(fd: number, into: Uint8Array, position: number): Promise<number> {
    return await new Promise((resolve, reject) => {
      fs.read(fd, into, 0, into.byteLength, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
    });
  }

  readSync(fd: number, into: Uint8Array, position: number): number {
    return fs.readSync(fd, into, 0, into.byteLength, position);
  }

  async write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
    beforeWrite('WAL write');
    await (await this.#appenderFor(fd, position)).write(chunks, position);
  }

  async fdatasync(fd: number): Promise<void> {
    await beforeSync();
    const appender = await this.#appenders.get(fd)?.catch(() => undefined);
    if (appender !== undefined) await appender.datasync();
    else await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
  }

  /** The fault hooks of write() and fdatasync(), then the appender's writeDurable (one job on libuv's pool). */
  async writeDurable(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
    beforeWrite('WAL write');
    // An injected slow sync delays the save as it would between the write and the sync.
    await beforeSync();
    await (await this.#appenderFor(fd, position)).writeDurable(chunks, position);
  }

  async fsyncDir(dir: string): Promise<void> {
    const fd = await fs.promises.open(dir, 'r');
    try {
      await fd.sync();
    } finally {
      await fd.close();
    }
  }

  async truncate(fd: number, length: number): Promise<void> {
    await new Promise<void>((resolve, reject) => fs.ftruncate(fd, length, (error) => (error ? reject(error) : resolve())));
    (await this.#appenders.get(fd)?.catch(() => undefined))?.truncated(length);
  }

  /** The appender of `fd`, opened at its first write (which appends at `position`, the file's end). */
  #appenderFor(fd: number, position: number): Promise<Appender> {
    let appender = this.#appenders.get(fd);
    if (appender === undefined) {
      const path = this.#paths.get(fd);
      if (path === undefined) throw new Error(`write to descriptor ${fd}, which this layer did not open`);
      appender = Appender.open(path, position, { mode: this.#mode });
      this.#appenders.set(fd, appender);
    }
    return appender;
  }

  async unlink(path: string): Promise<void> {
    await fs.promises.unlink(path);
  }
}

/** The layer every WAL uses unless told otherwise. */
export const nodeFileLayer: FileLayer = new NodeFileLayer();

/**
 * Node's fs through the page cache only: every file is exactly as long as what was written, which
 * tests of byte-exact tear points rely on.
 */
export const bufferedFileLayer: FileLayer = new NodeFileLayer({ mode: 'dropped' });
