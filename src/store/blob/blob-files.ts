// The store's blob files: page payloads at or above LIMITS.store.blobThresholdBytes, appended to
// `<store dir>/blobs/NNNNNN.blob` and indexed by 'b' records in LevelDB (blob-ref.ts). Keeping
// MiB-sized values out of LevelDB keeps them out of its compactions, which rewrote each one many
// times. The directory lives inside the store directory, so a snapshot install swaps it whole.
//
// Rules:
//   - Appends go to the one active file, at offsets reserved in call order; a new active file is
//     started at open (so a torn tail left by a crash is never appended to) and once the active
//     file holds `fileBytes`. `append` with `sync` fdatasyncs before it returns: the caller writes
//     the LevelDB batch holding the refs only after that, so a ref never points at bytes that are
//     not on disk. Bytes appended but never indexed (a crash in between) are garbage, nothing more.
//   - A member appends without `sync` (its WAL makes a put durable) and calls `sync()` before the
//     WAL drops entries: that returns a BlobMark, "every byte before here is on disk", which the
//     store records. After a power loss, refs past the recorded mark may point at bytes that never
//     reached the disk; the store checks exactly those at open (page-store.ts) and the member
//     rewrites the damaged ones from its WAL. Rotation fdatasyncs the file it leaves, and `sync()`
//     the directory, so a mark in file F vouches for every file before F too.
//   - Live bytes per file are tracked in memory (rebuilt at open from the 'b' records); size minus
//     live is garbage, which GC (blob-gc.ts) reclaims by moving live payloads and retiring files.
//   - Value log: a payload that already lies in a WAL segment (the put's entry, durable there
//     before the store applies it) is not written again. The segment file is hard-linked into the
//     folder under the next file id, once, and the ref points into it: the WAL's name and the
//     store's are two names of one file, each dropped by its owner (WAL compaction, blob GC).
//     Refs only go into the segment linked last (entries are applied in log order, and the log's
//     segments follow it), so every earlier linked file is closed to new refs, and a GC candidate
//     like any other. Where the link fails (another filesystem, no hard links) the payload is
//     appended as before.
//   - A retired file is deleted once no read that might still hold one of its refs is running:
//     every read pins the current epoch before it reads a ref; retiring bumps the epoch, and the
//     file goes when every pin taken at or before its retirement is released.

import assert from 'node:assert/strict';
import type { FileHandle } from 'node:fs/promises';
import { link, mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../../codec/index.js';
import { KvcError } from '../../errors.js';
import { beforeSync, beforeWrite } from '../../faults/index.js';
import { Appender, DirectReader } from '../../io/index.js';
import type { BlobRef } from './blob-ref.js';

/** Readers kept open; older idle ones are closed (each costs one or two file descriptors). */
const READERS_MAX = 32;
/** `NNNNNN.blob`: payloads appended here; `NNNNNN.wal`: a WAL segment linked in (value log). */
const FILE_NAME = /^(\d{6,})\.(blob|wal)$/;

/** A payload's bytes where they already lie in a WAL segment file. */
export interface WalSpan {
  path: string;
  offset: number;
}

/** A payload to place: appended to the active file, or (with `inWal`) referenced where it is. */
export interface BlobPayload {
  data: Uint8Array;
  crc32c: number;
  inWal?: WalSpan | undefined;
}

export interface BlobFilesOptions {
  /** Where the active file rotates (LIMITS.store.blobFileBytes). */
  fileBytes: number;
}

export interface BlobStats {
  /** Bytes in blob files, garbage included. */
  bytes: number;
  /** Bytes in blob files that no ref points to. */
  garbageBytes: number;
  files: number;
  gcRuns: number;
  /** How many of `files` are WAL segments linked in (value log). */
  walFiles: number;
  /** Why payloads are appended although they lie in the WAL (a link failed); '' when they are not. */
  walLinksRefused: string;
}

/**
 * Where the blob files were last made durable: every byte of every file numbered below `fileId`,
 * and the first `size` bytes of file `fileId`, are on disk. {0, 0} vouches for nothing.
 */
export interface BlobMark {
  fileId: number;
  size: number;
}

/** True when `ref`'s bytes lie within what `mark` vouches for. */
export function durableUnder(ref: BlobRef, mark: BlobMark): boolean {
  return ref.fileId < mark.fileId || (ref.fileId === mark.fileId && ref.offset + ref.length <= mark.size);
}

const MARK_BYTES = 16;

export function encodeBlobMark(mark: BlobMark): Uint8Array {
  const out = new Uint8Array(MARK_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(mark.fileId));
  view.setBigUint64(8, BigInt(mark.size));
  return out;
}

export function decodeBlobMark(bytes: Uint8Array): BlobMark {
  assert.equal(bytes.byteLength, MARK_BYTES, `a blob mark of ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { fileId: Number(view.getBigUint64(0)), size: Number(view.getBigUint64(8)) };
}

interface BlobFile {
  id: number;
  /** A WAL segment linked in (`NNNNNN.wal`), not a file of appends. */
  linked: boolean;
  /** Bytes written (or reserved for an append in progress). */
  size: number;
  /** Bytes some committed ref points to. */
  live: number;
  /** A linked file's inode: the WAL segment's own, which a later link of it shares. */
  ino?: number;
}

interface ActiveFile {
  file: BlobFile;
  handle: FileHandle;
  appender: Appender;
}

export function blobDir(storeDir: string): string {
  return join(storeDir, 'blobs');
}

function fileName(dir: string, id: number, linked = false): string {
  return join(dir, `${String(id).padStart(6, '0')}.${linked ? 'wal' : 'blob'}`);
}

export class BlobFiles {
  readonly #dir: string;
  readonly #fileBytes: number;
  readonly #files = new Map<number, BlobFile>();
  /** Per file: a reader (past the page cache where it can). */
  readonly #readers = new Map<number, DirectReader>();
  /** The file appends go to: `appender` writes and syncs (src/io), `handle` cuts a direct append's padding. */
  #active: ActiveFile | undefined;
  /** Appends and rotations, one at a time, in call order. */
  #appendTail: Promise<unknown> = Promise.resolve();
  #epoch = 0;
  readonly #pins = new Map<number, number>();
  #retired: { id: number; epoch: number }[] = [];
  #readsInFlight = new Map<number, number>();
  gcRuns = 0;
  /** WAL segments linked in, by their WAL path, and the one linked last (the only one that still takes refs). */
  readonly #linked = new Map<string, BlobFile>();
  #newestLinked: number | undefined;
  /** The file GC is collecting (between gcCandidate and the end of that collection): it takes no new refs. */
  #collecting: number | undefined;
  #linksRefused = '';
  /**
   * The next file id: above every file this folder held since open and the one the blob mark
   * names (every way into #files reserves its id), so a file never takes the id of one retired
   * or lost.
   */
  #nextId = 1;

  private constructor(dir: string, o: BlobFilesOptions) {
    this.#dir = dir;
    this.#fileBytes = o.fileBytes;
  }

  /** Opens the blob files of the store at `storeDir` (creating the folder). Live bytes start at 0: call `addLive` per ref. */
  static async open(storeDir: string, o: BlobFilesOptions): Promise<BlobFiles> {
    const dir = blobDir(storeDir);
    await mkdir(dir, { recursive: true });
    const blobs = new BlobFiles(dir, o);
    for (const name of await readdir(dir)) {
      const match = FILE_NAME.exec(name);
      if (match === null) continue;
      const id = Number(match[1]);
      const { size, ino } = await stat(join(dir, name));
      const linked = match[2] === 'wal';
      blobs.#files.set(id, { id, size, live: 0, linked, ...(linked ? { ino } : {}) });
      blobs.reserveIdsThrough(id);
    }
    return blobs;
  }

  /**
   * Counts a committed ref's bytes as live; asserts that they lie inside their file, unless
   * `unsynced` (a ref past the last BlobMark, whose bytes a power loss may have taken: the file
   * is then counted as long as the ref says, and a read of it fails its crc32c).
   */
  addLive(ref: BlobRef, unsynced = false): void {
    let file = this.#files.get(ref.fileId);
    const end = ref.offset + ref.length;
    if (unsynced && (file === undefined || end > file.size)) {
      file ??= { id: ref.fileId, size: 0, live: 0, linked: false };
      this.reserveIdsThrough(ref.fileId);
      file.size = Math.max(file.size, end);
      this.#files.set(file.id, file);
    }
    assert.ok(file !== undefined && end <= file.size, `blob ref ${ref.fileId}@${ref.offset}+${ref.length} points past the bytes on disk`);
    file.live += ref.length;
  }

  /**
   * True when file `id` is a WAL segment linked in: its bytes were made durable by the WAL before
   * any ref to them was written, so the blob mark does not concern them.
   */
  walLinked(id: number): boolean {
    return this.#files.get(id)?.linked ?? false;
  }

  /** The id of a new file: never that of a file this folder held, even one deleted since. */
  #takeId(): number {
    return this.#nextId++;
  }

  /**
   * No new file takes an id at or below `id`: a blob mark names a file that GC may have deleted
   * since, and a new file under its id would be taken as synced up to the mark's size.
   */
  reserveIdsThrough(id: number): void {
    this.#nextId = Math.max(this.#nextId, id + 1);
  }

  /** True when `ref`'s bytes lie inside a file the folder holds (as far as its size at open says). */
  covers(ref: BlobRef): boolean {
    const file = this.#files.get(ref.fileId);
    return file !== undefined && ref.offset + ref.length <= file.size;
  }

  /** The mark of every file as it is now: what `syncFilesFrom` then makes true. */
  endMark(): BlobMark {
    const last = Math.max(0, ...this.#files.keys());
    return { fileId: last, size: this.#files.get(last)?.size ?? 0 };
  }

  /**
   * fdatasyncs the files numbered `fileId` and up, and the directory: at open, after a crash,
   * what the last run wrote past its mark may still be only in the page cache. Before any append.
   */
  async syncFilesFrom(fileId: number): Promise<void> {
    assert.equal(this.#active, undefined, 'syncFilesFrom runs before the first append');
    for (const id of [...this.#files.keys()].filter((id) => id >= fileId).sort((a, b) => a - b)) {
      let handle: FileHandle;
      try {
        handle = await open(this.#pathOf(id), 'r+');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // a file a ref names but the disk lost
        throw error;
      }
      try {
        await handle.datasync();
      } finally {
        await handle.close();
      }
    }
    await fsyncDirectory(this.#dir);
  }

  /** A ref was deleted or moved: its bytes are garbage now. */
  dropLive(ref: BlobRef): void {
    const file = this.#files.get(ref.fileId);
    assert.ok(file !== undefined && file.live >= ref.length, `blob file ${ref.fileId} loses more live bytes than it holds`);
    file.live -= ref.length;
  }

  /**
   * Appends the payloads (with their crc32c) to the active file in one append and returns their
   * refs; with `sync` the file is fdatasynced first. The caller owns counting them live once a
   * batch holding the refs is durable.
   */
  append(payloads: { data: Uint8Array; crc32c: number }[], sync: boolean): Promise<BlobRef[]> {
    return this.place(payloads, sync);
  }

  /**
   * Refs for the payloads, in order: those with `inWal` point into their WAL segment, linked in
   * first if it is not yet; the others are appended as `append` does. The caller guarantees that
   * a WAL span holds the payload durably (the store applies only entries its WAL made durable).
   */
  place(payloads: BlobPayload[], sync: boolean): Promise<BlobRef[]> {
    const run = this.#appendTail.then(() => this.#placeNow(payloads, sync));
    this.#appendTail = run.catch(() => undefined);
    return run;
  }

  async #placeNow(payloads: BlobPayload[], sync: boolean): Promise<BlobRef[]> {
    const refs: (BlobRef | undefined)[] = [];
    const appended: BlobPayload[] = [];
    for (const payload of payloads) {
      const fileId = payload.inWal === undefined ? undefined : await this.#linkedFileId(payload.inWal.path);
      if (fileId === undefined) {
        refs.push(undefined);
        appended.push(payload);
        continue;
      }
      const { offset } = payload.inWal!;
      const file = this.#files.get(fileId)!;
      file.size = Math.max(file.size, offset + payload.data.byteLength);
      refs.push({ fileId, offset, length: payload.data.byteLength, crc32c: payload.crc32c });
    }
    const fresh = await this.#appendNow(appended, sync);
    let next = 0;
    return refs.map((ref) => ref ?? fresh[next++]!);
  }

  /**
   * The file id under which the WAL segment at `walPath` is linked into the folder, linking it
   * now (and making the name durable) if it is not yet; undefined when links are refused here.
   * After a restart the segment still being written is linked in already, under a name found at
   * open: that link takes the new refs too (found by its inode), unless GC is collecting it or has
   * retired it, so the segment's bytes are counted once and GC does not copy the payloads put
   * since the restart out of a second name whose older part looks like garbage. Taking new refs
   * makes it the newest linked file, which GC leaves alone.
   */
  async #linkedFileId(walPath: string): Promise<number | undefined> {
    const known = this.#linked.get(walPath);
    if (known !== undefined && this.#files.get(known.id) === known && known.id !== this.#collecting) return known.id;
    if (this.#linksRefused !== '') return undefined;
    const { ino } = await stat(walPath);
    const earlier = this.#linkOf(ino);
    if (earlier !== undefined) {
      this.#linked.set(walPath, earlier);
      this.#newestLinked = earlier.id;
      return earlier.id;
    }
    const id = this.#takeId();
    try {
      beforeWrite('blob link');
      await link(walPath, fileName(this.#dir, id, true));
      await fsyncDirectory(this.#dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another filesystem, or none with hard links: append, as without a WAL. Anything else is
      // a real failure (a full disk, an I/O error) and fails the apply.
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw error;
      this.#linksRefused = `off: linking ${walPath} into ${this.#dir} failed (${code}); page payloads are written to blob files as well as the WAL`;
      return undefined;
    }
    const file = { id, size: 0, live: 0, linked: true, ino };
    this.#files.set(id, file);
    this.#linked.set(walPath, file);
    this.#newestLinked = id;
    return id;
  }

  /** Retired, waiting for the reads and pins that may still use it before it is deleted. */
  #isRetired(id: number): boolean {
    return this.#retired.some((r) => r.id === id);
  }

  /** The newest linked file with inode `ino` that may take new refs (not retired, not being collected). */
  #linkOf(ino: number): BlobFile | undefined {
    let found: BlobFile | undefined;
    for (const file of this.#files.values()) {
      if (!file.linked || file.ino !== ino || file.id === this.#collecting || this.#isRetired(file.id)) continue;
      if (found === undefined || file.id > found.id) found = file;
    }
    return found;
  }

  async #appendNow(payloads: { data: Uint8Array; crc32c: number }[], sync: boolean): Promise<BlobRef[]> {
    if (payloads.length === 0) return [];
    beforeWrite('blob append');
    const total = payloads.reduce((sum, p) => sum + p.data.byteLength, 0);
    if (this.#active === undefined || this.#active.file.size >= this.#fileBytes) await this.#rotate(sync);
    const { file, appender } = this.#active!;
    const start = file.size;
    file.size += total;
    await appender.write(payloads.map((p) => p.data), start);
    if (sync) {
      await beforeSync();
      await appender.datasync();
    }
    let offset = start;
    return payloads.map(({ data, crc32c: crc }) => {
      const ref = { fileId: file.id, offset, length: data.byteLength, crc32c: crc };
      offset += data.byteLength;
      return ref;
    });
  }

  /** Starts a new active file; the old one stays readable and becomes a GC candidate. */
  async #rotate(sync: boolean): Promise<void> {
    const id = this.#takeId();
    const path = fileName(this.#dir, id);
    const handle = await open(path, 'wx');
    const appender = await Appender.open(path, 0);
    if (sync) await fsyncDirectory(this.#dir);
    const previous = this.#active;
    const file = { id, size: 0, live: 0, linked: false };
    this.#files.set(id, file);
    this.#active = { file, handle, appender };
    if (previous !== undefined) {
      // Unsynced appends (a snapshot install syncs once at the end) must not be lost with the
      // handle; a direct append's zero padding past the last payload goes first.
      await closeActive(previous, true);
      // An old active file that never took a byte that stayed is no use to anyone.
      if (previous.file.size === 0) this.retire(previous.file.id);
    }
  }

  /**
   * Makes every append so far durable (one fdatasync of the active file and its directory) and
   * returns the mark that now holds. Runs in the append queue: no append moves meanwhile.
   */
  sync(): Promise<BlobMark> {
    const run = this.#appendTail.then(async (): Promise<BlobMark> => {
      // No append since open: syncFilesFrom made the files there are durable.
      if (this.#active === undefined) return this.endMark();
      const mark = { fileId: this.#active.file.id, size: this.#active.file.size };
      await beforeSync();
      await this.#active.appender.datasync();
      await fsyncDirectory(this.#dir);
      return mark;
    });
    this.#appendTail = run.catch(() => undefined);
    return run;
  }

  /** The id of the active file (`undefined` before the first append). */
  activeFileId(): number | undefined {
    return this.#active?.file.id;
  }

  /** Pins the current epoch: files retired from now on are kept until `unpin`. Take it before reading refs. */
  pin(): number {
    const epoch = this.#epoch;
    this.#pins.set(epoch, (this.#pins.get(epoch) ?? 0) + 1);
    return epoch;
  }

  unpin(epoch: number): void {
    const count = this.#pins.get(epoch);
    assert.ok(count !== undefined && count > 0, 'unpin without a pin');
    if (count === 1) this.#pins.delete(epoch);
    else this.#pins.set(epoch, count - 1);
    this.#deleteRetired();
  }

  /** Reads a payload and verifies it against its ref; a damaged or missing range is KVC_CHECKSUM_MISMATCH. */
  async read(ref: BlobRef): Promise<Uint8Array> {
    const out = new Uint8Array(ref.length);
    this.#readsInFlight.set(ref.fileId, (this.#readsInFlight.get(ref.fileId) ?? 0) + 1);
    try {
      const reader = await this.#reader(ref.fileId);
      const done = await reader.read(out, ref.offset);
      if (done !== ref.length || crc32c(out) !== ref.crc32c) {
        throw new KvcError('KVC_CHECKSUM_MISMATCH', { detail: `blob file ${ref.fileId} at ${ref.offset}: ${done} of ${ref.length} bytes, crc32c ${done === ref.length ? 'differs' : 'not checked'}` });
      }
      return out;
    } catch (error) {
      if (error instanceof KvcError) throw error;
      throw new KvcError('KVC_CHECKSUM_MISMATCH', { detail: `blob file ${ref.fileId} unreadable`, cause: error });
    } finally {
      const left = this.#readsInFlight.get(ref.fileId)! - 1;
      if (left === 0) this.#readsInFlight.delete(ref.fileId);
      else this.#readsInFlight.set(ref.fileId, left);
      if (this.#retired.length > 0) this.#deleteRetired();
    }
  }

  async #reader(id: number): Promise<DirectReader> {
    const cached = this.#readers.get(id);
    if (cached !== undefined) return cached;
    const reader = await DirectReader.open(this.#pathOf(id));
    const raced = this.#readers.get(id);
    if (raced !== undefined) {
      await reader.close();
      return raced;
    }
    this.#readers.set(id, reader);
    for (const [oldId, old] of this.#readers) {
      if (this.#readers.size <= READERS_MAX) break;
      if (this.#readsInFlight.has(oldId) || oldId === id) continue;
      this.#readers.delete(oldId);
      void old.close().catch(() => undefined);
    }
    return reader;
  }

  /** The path of file `id` (a file a ref names but the folder lacks is taken as appended). */
  #pathOf(id: number): string {
    return fileName(this.#dir, id, this.#files.get(id)?.linked ?? false);
  }

  /** Marks a (non-active) file for deletion once the reads that may use it are done. */
  retire(id: number): void {
    assert.ok(id !== this.#active?.file.id, 'the active blob file cannot be retired');
    this.#retired.push({ id, epoch: this.#epoch });
    this.#epoch++;
    this.#deleteRetired();
  }

  #deleteRetired(): void {
    const oldestPin = this.#pins.size === 0 ? Infinity : Math.min(...this.#pins.keys());
    const due = this.#retired.filter((r) => r.epoch < oldestPin && !this.#readsInFlight.has(r.id));
    if (due.length === 0) return;
    this.#retired = this.#retired.filter((r) => !due.includes(r));
    for (const { id } of due) {
      const path = this.#pathOf(id);
      this.#files.delete(id);
      const reader = this.#readers.get(id);
      this.#readers.delete(id);
      void (async () => {
        await reader?.close().catch(() => undefined);
        await unlink(path).catch(() => undefined);
      })();
    }
  }

  /**
   * The non-active file with the smallest live fraction below `liveRatio`, or undefined. It takes
   * no new refs from now until `collectionEnded` (or its retirement).
   */
  gcCandidate(liveRatio: number): { id: number; live: number; size: number } | undefined {
    let best: BlobFile | undefined;
    for (const file of this.#files.values()) {
      if (file.id === this.#active?.file.id || file.id === this.#newestLinked || this.#isRetired(file.id)) continue;
      if (file.live >= file.size * liveRatio) continue;
      if (best === undefined || file.live / Math.max(1, file.size) < best.live / Math.max(1, best.size)) best = file;
    }
    if (best === undefined) return undefined;
    this.#collecting = best.id;
    return { ...best };
  }

  /** GC is done with file `id` (collected and retired, or given up). */
  collectionEnded(id: number): void {
    if (this.#collecting === id) this.#collecting = undefined;
  }

  stats(): BlobStats {
    let bytes = 0;
    let live = 0;
    let walFiles = 0;
    for (const file of this.#files.values()) {
      bytes += file.size;
      live += file.live;
      if (file.linked) walFiles++;
    }
    return { bytes, garbageBytes: bytes - live, files: this.#files.size, gcRuns: this.gcRuns, walFiles, walLinksRefused: this.#linksRefused };
  }

  async close(): Promise<void> {
    await this.#appendTail;
    const readers = [...this.#readers.values()];
    const active = this.#active;
    this.#readers.clear();
    this.#active = undefined;
    await Promise.all([...readers.map((r) => r.close().catch(() => undefined)), ...(active === undefined ? [] : [closeActive(active, false).catch(() => undefined)])]);
  }
}

/** Closes an active file, cutting off a direct append's padding first (and with `sync`, fdatasyncing it). */
async function closeActive(active: ActiveFile, sync: boolean): Promise<void> {
  try {
    if (active.appender.direct) {
      await active.handle.truncate(active.file.size);
      active.appender.truncated(active.file.size);
    }
    if (sync) await active.appender.datasync();
  } finally {
    await active.appender.close();
    await active.handle.close();
  }
}

async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
