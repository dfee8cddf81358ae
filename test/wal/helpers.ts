// Shared helpers of the WAL tests: a fresh temporary directory per WAL (removed when the test
// ends), opening with a collecting logger, and reading the segment files back for the tests
// that damage them on purpose.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { EntryType } from '../../src/raft/index.js';
import type { Entry } from '../../src/raft/index.js';
import { RECORD_HEADER_BYTES, Wal } from '../../src/wal/index.js';
import type { FileLayer, OpenMode, WalOptions } from '../../src/wal/index.js';

/** A new empty directory under the OS temp dir, deleted when `t` ends. */
export function tempDir(t: Test, prefix = 'kvc-wal-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Opened {
  wal: Wal;
  lines: string[];
}

/** Opens a WAL whose log lines are collected; it is closed when `t` ends (closing twice is fine). */
export async function openWal(t: Test, options: WalOptions): Promise<Opened> {
  const lines: string[] = [];
  const wal = await Wal.open({ logger: (line) => lines.push(line), ...options });
  t.teardown(() => wal.close().catch(() => undefined));
  return { wal, lines };
}

/** An entry whose payload is `bytes` long, filled with a pattern of its index. */
export function entry(index: number, term: number, bytes = 8): Entry {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 31 + i) % 251;
  return { index, term, type: EntryType.Normal, data };
}

export function entries(first: number, count: number, term: number, bytes = 8): Entry[] {
  return Array.from({ length: count }, (_, k) => entry(first + k, term, bytes));
}

/** The segment files of `dir`, sorted (full paths). */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.wal'))
    .sort()
    .map((name) => path.join(dir, name));
}

/** The whole log as [index, term] pairs. */
export function indexTerms(wal: Wal): [number, number][] {
  return wal.entries(wal.firstIndex(), wal.lastIndex() + 1, Infinity).map((e) => [e.index, e.term]);
}

/** True when every entry in the log has the payload `entry()` gives it. */
export function payloadsIntact(wal: Wal, bytes = 8): boolean {
  return wal
    .entries(wal.firstIndex(), wal.lastIndex() + 1, Infinity)
    .every((e) => Buffer.from(e.data).equals(Buffer.from(entry(e.index, e.term, bytes).data)));
}

/** Where each record of a segment file starts (walking the length fields; no checks). */
export function recordOffsets(file: string): number[] {
  const bytes = fs.readFileSync(file);
  const offsets: number[] = [];
  let at = 0;
  while (at + RECORD_HEADER_BYTES <= bytes.byteLength) {
    offsets.push(at);
    at += RECORD_HEADER_BYTES + bytes.readUInt32LE(at);
  }
  return offsets;
}

/** XORs one byte of `file` at `offset` with 0xff. */
export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, offset);
    one[0] = one[0]! ^ 0xff;
    fs.writeSync(fd, one, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A file layer that hands every call to `inner`: tests extend it and override the calls they hold,
 * fail or log. It has no writeDurable, so the WAL writes and syncs through it in two calls.
 */
export class PassThroughFileLayer implements FileLayer {
  constructor(protected readonly inner: FileLayer) {}

  mkdirp(dir: string): Promise<void> {
    return this.inner.mkdirp(dir);
  }
  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  open(file: string, mode: OpenMode): Promise<number> {
    return this.inner.open(file, mode);
  }
  close(fd: number): Promise<void> {
    return this.inner.close(fd);
  }
  size(fd: number): Promise<number> {
    return this.inner.size(fd);
  }
  read(fd: number, into: Uint8Array, position: number): Promise<number> {
    return this.inner.read(fd, into, position);
  }
  readSync(fd: number, into: Uint8Array, position: number): number {
    return this.inner.readSync(fd, into, position);
  }
  write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
    return this.inner.write(fd, chunks, position);
  }
  fdatasync(fd: number): Promise<void> {
    return this.inner.fdatasync(fd);
  }
  fsyncDir(dir: string): Promise<void> {
    return this.inner.fsyncDir(dir);
  }
  truncate(fd: number, length: number): Promise<void> {
    return this.inner.truncate(fd, length);
  }
  unlink(file: string): Promise<void> {
    return this.inner.unlink(file);
  }
}
