// The file operations the WAL uses, behind an interface so that tests (and the crash tests of
// the node) can put a fault-injecting layer in between: tear a write, fail an fsync, count
// fsyncs. Files are addressed by numeric descriptors so that the WAL can do positioned reads
// and writes without seeking. Reads of the Raft log are synchronous (LogStorage is sync), so
// `readSync` exists; everything else is asynchronous to keep the event loop free during fsync.

import fs from 'node:fs';
import { beforeSync, beforeWrite } from '../faults/index.js';

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
  /** Writes every byte of `chunks`, in order, starting at `position` (one writev where it can). */
  write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void>;
  /** Makes the file's data (and the size needed to read it) durable. */
  fdatasync(fd: number): Promise<void>;
  /** Makes the directory's entries durable (after creating or deleting a file in it). */
  fsyncDir(dir: string): Promise<void>;
  truncate(fd: number, length: number): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** Node's fs: `writev` at a position, looping over short writes. */
export class NodeFileLayer implements FileLayer {
  async mkdirp(dir: string): Promise<void> {
    await fs.promises.mkdir(dir, { recursive: true });
  }

  async readdir(dir: string): Promise<string[]> {
    return await fs.promises.readdir(dir);
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    const flags = mode === 'create' ? 'wx+' : 'r+';
    return await new Promise((resolve, reject) => {
      fs.open(path, flags, 0o644, (error, fd) => (error ? reject(error) : resolve(fd)));
    });
  }

  async close(fd: number): Promise<void> {
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
    let pending = chunks.filter((chunk) => chunk.byteLength > 0);
    let at = position;
    while (pending.length > 0) {
      const written = await writev(fd, pending, at);
      // A short write (full disk, signal) is continued from where it stopped; a write of nothing
      // would loop forever, so it is an error.
      if (written <= 0) throw new Error(`writev wrote ${written} bytes at ${at}`);
      at += written;
      pending = dropWritten(pending, written);
    }
  }

  async fdatasync(fd: number): Promise<void> {
    await beforeSync();
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
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
  }

  async unlink(path: string): Promise<void> {
    await fs.promises.unlink(path);
  }
}

function writev(fd: number, chunks: Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.writev(fd, chunks, position, (error, written) => (error ? reject(error) : resolve(written)));
  });
}

/** The chunks left after the first `written` bytes (views, no copies). */
export function dropWritten(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
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

/** The layer every WAL uses unless told otherwise. */
export const nodeFileLayer: FileLayer = new NodeFileLayer();
