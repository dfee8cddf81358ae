// The Raft log on disk. Records are appended to segment files (see record.ts for the framing);
// an in-memory index (log-index.ts) answers the synchronous LogStorage reads, holding the most
// recent entries themselves and reading older ones back with one positioned read per span of
// records, each record's checksum verified.
//
// Writes are group-committed: `save` turns one Ready (snapshot, entries, hard state) into
// records, writes them with one writev and makes them durable with ONE fdatasync; only then does
// the in-memory state change, so reads never see what is not durable. Writes are serialized in
// call order. A failed write or fsync poisons the WAL (WalFailedError on every later write):
// after a failed fsync the kernel may have dropped the dirty pages, so nothing written since the
// last good fsync can be trusted until recovery has read it back.
//
// Durability of the other calls: `createSnapshot` is synchronous (LogStorage callers need the
// snapshot at once); its record is written with the next save, compact or close. A new segment's
// name is made durable (directory fsync) when the segment is created, before any record goes in.

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { decodeEntry, encodeEntryParts, encodeHardState, isCodecError } from '../codec/index.js';
import { LIMITS } from '../limits.js';
import { EMPTY_BYTES, ENTRY_OVERHEAD_BYTES, RaftError, checkEntriesRange, emptySnapshot } from '../raft/index.js';
import type { ConfState, Entry, HardState, LogStorage, Snapshot } from '../raft/index.js';
import { READ_ADVICE, WalCorruptionError, WalFailedError } from './errors.js';
import { nodeFileLayer } from './file-layer.js';
import type { FileLayer } from './file-layer.js';
import type { LogIndex } from './log-index.js';
import {
  RECORD_HEADER_BYTES,
  RecordType,
  bodyParts,
  encodeCompactionBody,
  encodeSegmentHeaderBody,
  encodeSnapshotBody,
  isFrameDamage,
  readFrame,
  writeRecordHeader,
} from './record.js';
import type { OutgoingRecord } from './record.js';
import { recover } from './recovery.js';
import { createSegment } from './segment.js';
import type { Segment } from './segment.js';

const MIB = 1024 * 1024;
/** Most bytes read back from disk in one positioned read (one larger record is read alone). */
const READ_SPAN_BYTES_MAX = 1 * MIB;

export interface WalOptions {
  dir: string;
  /** A segment is closed once the next batch would take it past this size (default 64 MiB). */
  segmentBytes?: number;
  /** fdatasync every save (default true). Tests that do not crash the machine may turn it off. */
  fsync?: boolean;
  /** The file operations (default: node's fs); tests pass a FaultInjectingFileLayer. */
  files?: FileLayer;
  /** Truncate the log at damage found while opening instead of refusing to open (docs/WAL.md). */
  repair?: boolean;
  /** Payload bytes of the most recent entries kept in memory (default LIMITS.wal.entryCacheBytes, 64 MiB). */
  entryCacheBytes?: number;
  /** Receives one line per notable event: opening, torn tails, repairs, compactions. */
  logger?: (line: string) => void;
}

/** Where an entry's data lies in a segment file (`Wal.entryDataAt`). */
export interface EntryDataLocation {
  path: string;
  offset: number;
}

/** One Ready's worth of state to make durable. */
export interface SaveBatch {
  hardState?: HardState;
  /** New entries; any at an index the log holds replace it and everything after it. */
  entries: Entry[];
  /** A snapshot from the leader: it replaces the whole log (applied before `entries`). */
  snapshot?: Snapshot;
  /**
   * fdatasync before resolving (default true). The node passes Ready.mustSync: a batch that only
   * moves the commit index need not be durable before its messages leave (a lost commit index is
   * learned again from the leader), as etcd does. Unsynced records are made durable by the next
   * synced write to their segment, and always before a rollover leaves the segment behind, so a
   * torn record can only ever be the log's last one.
   */
  sync?: boolean;
}

export interface WalStats {
  segments: number;
  /** Bytes in all segment files. */
  bytes: number;
  /** Entries in the log after the last compaction point. */
  entriesSinceCompaction: number;
  firstIndex: number;
  lastIndex: number;
  /** Payload bytes of the entries held in memory (at most entryCacheBytes). */
  cachedBytes: number;
}

/** What a save will write, and what it changes in memory once the write is durable. */
interface SavePlan {
  records: OutgoingRecord[];
  /** The created snapshot whose record this write carries. */
  pending: Snapshot | undefined;
  snapshot: Snapshot | undefined;
  appendAt: number;
  entries: Entry[];
  /** Position of the first entry record in `records`. */
  entryStart: number;
  hardState: HardState | undefined;
}

function copyConfState(confState: ConfState): ConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}

function copySnapshot(snapshot: Snapshot): Snapshot {
  return { metadata: { ...snapshot.metadata, confState: copyConfState(snapshot.metadata.confState) }, data: snapshot.data };
}

function defaultLogger(line: string): void {
  process.stderr.write(`${line}\n`);
}

export class Wal implements LogStorage {
  readonly #dir: string;
  readonly #files: FileLayer;
  readonly #fsync: boolean;
  readonly #segmentBytes: number;
  readonly #logger: (line: string) => void;
  readonly #segments: Segment[];
  readonly #bySequence = new Map<number, Segment>();
  readonly #log: LogIndex;
  #hardState: HardState;
  #snapshot: Snapshot;
  /** A created snapshot whose record is not written yet. */
  #pendingSnapshot: Snapshot | undefined;
  /** The active segment holds records written without fdatasync (SaveBatch.sync false). */
  #activeUnsynced = false;
  #tail: Promise<unknown> = Promise.resolve();
  #failure: unknown;
  /** The directory fsync of the segment created last, until its first write has waited for it. */
  #segmentNaming: Promise<void> | undefined;
  /** Deletions of compacted segments' files, one after another (#deleteSegmentsThrough). */
  #deleting: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    options: Required<Pick<WalOptions, 'dir' | 'files' | 'fsync' | 'segmentBytes' | 'logger'>>,
    state: { segments: Segment[]; log: LogIndex; hardState: HardState; snapshot: Snapshot },
  ) {
    this.#dir = options.dir;
    this.#files = options.files;
    this.#fsync = options.fsync;
    this.#segmentBytes = options.segmentBytes;
    this.#logger = options.logger;
    this.#segments = state.segments;
    for (const segment of state.segments) this.#bySequence.set(segment.sequence, segment);
    this.#log = state.log;
    this.#hardState = state.hardState;
    this.#snapshot = state.snapshot;
  }

  /** Opens (or creates) the log in `options.dir`, recovering it from its segments. */
  static async open(options: WalOptions): Promise<Wal> {
    const resolved = {
      dir: options.dir,
      files: options.files ?? nodeFileLayer,
      fsync: options.fsync ?? true,
      segmentBytes: options.segmentBytes ?? LIMITS.wal.segmentBytes,
      logger: options.logger ?? defaultLogger,
    };
    const cacheBytesMax = options.entryCacheBytes ?? LIMITS.wal.entryCacheBytes;
    assert.ok(Number.isSafeInteger(resolved.segmentBytes) && resolved.segmentBytes > 0, 'segmentBytes must be a positive integer');
    assert.ok(Number.isSafeInteger(cacheBytesMax) && cacheBytesMax >= 0, 'entryCacheBytes must be a non-negative integer');
    const startedMs = performance.now();
    const recovered = await recover({ ...resolved, repair: options.repair ?? false, cacheBytesMax });
    const { replay } = recovered;
    const wal = new Wal(resolved, {
      segments: recovered.segments,
      log: replay.log,
      hardState: replay.hardState,
      snapshot: replay.snapshot ?? emptySnapshot(),
    });
    const stats = wal.stats();
    const held = stats.entriesSinceCompaction === 0 ? 'no entries' : `entries ${stats.firstIndex} to ${stats.lastIndex}`;
    resolved.logger(
      `wal: opened ${resolved.dir} in ${(performance.now() - startedMs).toFixed(1)} ms: ${stats.segments} segments, ` +
        `${stats.bytes} bytes, ${held} (compacted through ${stats.firstIndex - 1})`,
    );
    return wal;
  }

  // ---- LogStorage (synchronous reads) ----

  /** The saved hard state and the membership of the latest snapshot (both copies). */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.#hardState }, confState: copyConfState(this.#snapshot.metadata.confState) };
  }

  firstIndex(): number {
    return this.#log.firstIndex();
  }

  lastIndex(): number {
    return this.#log.lastIndex();
  }

  term(index: number): number {
    return this.#log.term(index);
  }

  /**
   * Entries in `[lo, hi)`, at most `maxBytes` of them by `entrySizeBytes` except that the first
   * is always returned. The array is fresh; recent entries are the objects given to `save`,
   * older ones are decoded from disk (their `data` views a buffer of up to 1 MiB).
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    checkEntriesRange(lo, hi, this.#log.dummyIndex, this.lastIndex());
    const end = lo + this.#countWithinBytes(lo, hi, maxBytes);
    const result: Entry[] = [];
    let index = lo;
    while (index < end) {
      const entry = this.#log.slot(index).entry;
      if (entry !== undefined) {
        result.push(entry);
        index++;
        continue;
      }
      const spanEnd = this.#spanEnd(index, end);
      this.#readSpan(index, spanEnd, result);
      index = spanEnd;
    }
    return result;
  }

  /**
   * Where entry `index`'s data lies on disk: the segment file's path and the offset
   * of the data's first byte (an entry record ends with its data, src/codec). Undefined when the
   * index is not in the live log. The bytes there are the entry's data exactly, and stay so while
   * the entry is in the log, unless a later save overwrites it (uncommitted entries only) or
   * damage hits the file; the store keeps page payloads there (value log, docs/ARCHITECTURE.md)
   * and checks each read against the page's crc32c.
   */
  entryDataAt(index: number): EntryDataLocation | undefined {
    if (index <= this.#log.dummyIndex || index > this.#log.lastIndex()) return undefined;
    const slot = this.#log.slot(index);
    const segment = this.#bySequence.get(slot.segment);
    if (segment === undefined) return undefined;
    return { path: segment.path, offset: slot.offset + slot.recordBytes - slot.dataBytes };
  }

  /** The most recent snapshot. Callers must not mutate it. */
  snapshot(): Snapshot {
    return this.#snapshot;
  }

  // ---- Writers ----

  /**
   * Makes one Ready durable: the snapshot (which replaces the log), the entries (which may
   * overwrite its tail) and the hard state, written in that order with one write and one
   * fdatasync. Resolves once durable; the reads then see the new state. Throws RaftError
   * 'snapshot-out-of-date' for a snapshot not newer than the current one, and fails an
   * assertion for entries that leave a gap or are not consecutive.
   */
  save(batch: SaveBatch): Promise<void> {
    return this.#serialize(async () => {
      this.#assertWritable();
      const plan = this.#planSave(batch);
      if (plan.records.length === 0) return;
      const placed = await this.#write(plan.records, batch.sync ?? true);
      this.#applySave(plan, placed);
    });
  }

  append(entries: Entry[]): Promise<void> {
    return this.save({ entries });
  }

  setHardState(hardState: HardState): Promise<void> {
    return this.save({ hardState, entries: [] });
  }

  applySnapshot(snapshot: Snapshot): Promise<void> {
    return this.save({ snapshot, entries: [] });
  }

  /** Gives a new, empty log its first membership (a snapshot at index 0 carrying `confState`). */
  bootstrap(confState: ConfState): Promise<void> {
    return this.#serialize(async () => {
      this.#assertWritable();
      const { index, confState: current } = this.#snapshot.metadata;
      const empty = this.lastIndex() === 0 && this.#log.dummyIndex === 0 && index === 0;
      assert.ok(empty && current.voters.length + current.learners.length === 0, 'bootstrap: the log is not new');
      const snapshot: Snapshot = { metadata: { index: 0, term: 0, confState: copyConfState(confState) }, data: EMPTY_BYTES };
      await this.#write([{ type: RecordType.Snapshot, body: encodeSnapshotBody({ snapshot, resetsLog: false }) }]);
      this.#snapshot = snapshot;
    });
  }

  /**
   * Records a snapshot of the state machine at `index` (in the log) and returns it; `confState`
   * undefined keeps the previous membership. The log is unchanged (call `compact`). The record
   * is written with the next save, compact or close.
   */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    this.#assertWritable();
    const current = this.#snapshot.metadata.index;
    if (index <= current) throw new RaftError('snapshot-out-of-date', `createSnapshot(${index}): not newer than ${current}`);
    assert.ok(index <= this.lastIndex(), `createSnapshot(${index}): after the last index ${this.lastIndex()}`);
    const term = this.#log.term(index);
    const membership = confState === undefined ? this.#snapshot.metadata.confState : copyConfState(confState);
    this.#snapshot = { metadata: { index, term, confState: membership }, data };
    this.#pendingSnapshot = this.#snapshot;
    return this.#snapshot;
  }

  /**
   * Drops the in-memory copies of the entries at and below `index`: no reader needs them from
   * memory any more (every follower has them and they are applied). Reads of them go to disk.
   */
  releaseCachedThrough(index: number): void {
    this.#log.uncacheThrough(index);
  }

  /**
   * Drops the entries at and below `index` (its term is kept), durably, then deletes the oldest
   * segments whose entries are all at or below it (never the one being written). The caller
   * guarantees the state machine holds everything up to `index` durably. Throws 'compacted'
   * when `index` is not above the current compaction point.
   *
   * Resolves once the compaction record is durable and the segments are out of the log; their
   * files are deleted after that, in the background (`segmentsDeleted()`), so that saves queued
   * behind a compaction do not wait for it. Deleting a 64 MiB segment and syncing the directory
   * took 46-92 ms under 1 MiB puts, 8 in flight, once a second on every member, and every
   * member's next save (the leader's, so every put) waited for it (docs/BENCHMARKS.md, thirteenth
   * session). A crash while they are deleted leaves what a crash during the deletion always left:
   * a contiguous run of the oldest segments, whose entries recovery skips as compacted.
   */
  compact(index: number): Promise<void> {
    return this.#serialize(async () => {
      this.#assertWritable();
      if (index <= this.#log.dummyIndex) {
        throw new RaftError('compacted', `compact(${index}): already compacted to ${this.#log.dummyIndex}`);
      }
      assert.ok(index <= this.lastIndex(), `compact(${index}): after the last index ${this.lastIndex()}`);
      const term = this.#log.term(index);
      const records: OutgoingRecord[] = [];
      const pending = this.#pendingRecord(records);
      records.push({ type: RecordType.Compaction, body: encodeCompactionBody({ index, term }) });
      await this.#write(records);
      if (pending !== undefined && this.#pendingSnapshot === pending) this.#pendingSnapshot = undefined;
      this.#log.compactTo(index, term);
      this.#deleteSegmentsThrough(index);
    });
  }

  /**
   * Resolves once the files of every segment compacted so far are deleted (or their deletion
   * failed: the WAL is then failed, as a failed write leaves it).
   */
  segmentsDeleted(): Promise<void> {
    return this.#deleting;
  }

  stats(): WalStats {
    let bytes = 0;
    for (const segment of this.#segments) bytes += segment.size;
    return {
      segments: this.#segments.length,
      bytes,
      entriesSinceCompaction: this.lastIndex() - this.#log.dummyIndex,
      firstIndex: this.firstIndex(),
      lastIndex: this.lastIndex(),
      cachedBytes: this.#log.cachedBytes,
    };
  }

  /** Writes a pending created snapshot (when the WAL is healthy) and closes every file. */
  close(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#closed) return;
      try {
        if (this.#failure === undefined) {
          const records: OutgoingRecord[] = [];
          if (this.#pendingRecord(records) !== undefined) await this.#write(records);
          this.#pendingSnapshot = undefined;
          // A clean stop leaves no zero tail for the next start to cut.
          if (await this.#cutPadding(this.#active)) await this.#files.fdatasync(this.#active.fd);
        }
      } finally {
        // Compacted segments' files are deleted (and their descriptors closed) before it closes.
        await this.#deleting;
        this.#closed = true;
        await Promise.allSettled(this.#segments.map((segment) => this.#files.close(segment.fd)));
      }
    });
  }

  // ---- Internals ----

  /** Runs `work` after every write queued before it. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #assertWritable(): void {
    if (this.#closed) throw new Error(`WAL ${this.#dir} is closed`);
    if (this.#failure !== undefined) throw new WalFailedError(this.#failure);
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Adds the record of the pending created snapshot, if it is still the current snapshot. */
  #pendingRecord(records: OutgoingRecord[]): Snapshot | undefined {
    const pending = this.#pendingSnapshot;
    if (pending === undefined || pending !== this.#snapshot) return undefined;
    records.push({ type: RecordType.Snapshot, body: encodeSnapshotBody({ snapshot: pending, resetsLog: false }) });
    return pending;
  }

  #planSave(batch: SaveBatch): SavePlan {
    const records: OutgoingRecord[] = [];
    const pending = this.#pendingRecord(records);
    let snapshot: Snapshot | undefined;
    if (batch.snapshot !== undefined) {
      const current = this.#snapshot.metadata.index;
      const index = batch.snapshot.metadata.index;
      if (index <= current) {
        throw new RaftError('snapshot-out-of-date', `applySnapshot(${index}): not newer than the current snapshot ${current}`);
      }
      snapshot = copySnapshot(batch.snapshot);
      records.push({ type: RecordType.Snapshot, body: encodeSnapshotBody({ snapshot, resetsLog: true }) });
    }
    const { appendAt, entries } = this.#planEntries(batch.entries, snapshot);
    const entryStart = records.length;
    for (const entry of entries) records.push({ type: RecordType.Entry, body: encodeEntryParts(entry) });
    const hardState = batch.hardState === undefined ? undefined : { ...batch.hardState };
    if (hardState !== undefined) records.push({ type: RecordType.HardState, body: encodeHardState(hardState) });
    return { records, pending, snapshot, appendAt, entries, entryStart, hardState };
  }

  /**
   * The entries of a batch that change the log (those at or below the compaction point are
   * skipped) and the index they start at; MemoryStorage's append rules, checked up front.
   */
  #planEntries(entries: Entry[], snapshot: Snapshot | undefined): { appendAt: number; entries: Entry[] } {
    const base = snapshot?.metadata;
    const first = base === undefined ? this.firstIndex() : base.index + 1;
    const last = base === undefined ? this.lastIndex() : base.index;
    if (entries.length === 0) return { appendAt: last + 1, entries: [] };
    const incomingFirst = entries[0]!.index;
    if (incomingFirst + entries.length - 1 < first) return { appendAt: last + 1, entries: [] };
    const skip = Math.max(0, first - incomingFirst);
    const appendAt = incomingFirst + skip;
    if (appendAt > last + 1) assert.fail(`append: missing log entries between the last index ${last} and ${appendAt}`);
    let previousTerm = base !== undefined && appendAt - 1 === base.index ? base.term : this.#log.term(appendAt - 1);
    for (let i = skip; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.index !== incomingFirst + i) assert.fail(`append: index ${entry.index} is not consecutive`);
      if (entry.term < previousTerm) assert.fail(`append: the term goes down at index ${entry.index}`);
      previousTerm = entry.term;
    }
    return { appendAt, entries: skip === 0 ? entries.slice() : entries.slice(skip) };
  }

  #applySave(plan: SavePlan, placed: { segment: Segment; offsets: number[] }): void {
    if (plan.pending !== undefined && this.#pendingSnapshot === plan.pending) this.#pendingSnapshot = undefined;
    if (plan.snapshot !== undefined) {
      const { index, term } = plan.snapshot.metadata;
      this.#snapshot = plan.snapshot;
      this.#pendingSnapshot = undefined;
      this.#log.reset(index, term);
    }
    if (plan.entries.length > 0) {
      if (plan.appendAt <= this.#log.lastIndex()) this.#log.truncateFrom(plan.appendAt);
      for (let k = 0; k < plan.entries.length; k++) {
        const entry = plan.entries[k]!;
        const record = plan.records[plan.entryStart + k]!;
        this.#log.push({
          term: entry.term,
          segment: placed.segment.sequence,
          offset: placed.offsets[plan.entryStart + k]!,
          recordBytes: RECORD_HEADER_BYTES + record.body.byteLength,
          dataBytes: entry.data.byteLength,
          entry,
        });
      }
      const lastIndex = plan.entries[plan.entries.length - 1]!.index;
      placed.segment.maxEntryIndex = Math.max(placed.segment.maxEntryIndex, lastIndex);
    }
    if (plan.hardState !== undefined) this.#hardState = plan.hardState;
  }

  /**
   * Appends `records` to the active segment (after rolling over to a new one when they would
   * take it past segmentBytes) with one write and one fdatasync. A new segment's first write
   * also carries its header. Returns where each record went.
   */
  async #write(records: OutgoingRecord[], sync = true): Promise<{ segment: Segment; offsets: number[] }> {
    let bytes = 0;
    for (const record of records) bytes += RECORD_HEADER_BYTES + record.body.byteLength;
    try {
      if (this.#active.size > 0 && this.#active.size + bytes > this.#segmentBytes) await this.#rollover();
      const segment = this.#active;
      const all = segment.size === 0 ? [this.#headerRecord(segment.sequence), ...records] : records;
      const { chunks, offsets, end } = frameRecords(all, segment.size);
      // A new segment's name becomes durable beside its first write (#rollover), not before it.
      const naming = this.#segmentNaming;
      this.#segmentNaming = undefined;
      await Promise.all([this.#writeChunks(segment.fd, chunks, segment.size, sync), naming]);
      // One synced write makes every earlier record of the file durable too.
      if (this.#fsync) this.#activeUnsynced = !sync;
      segment.size = end;
      return { segment, offsets: offsets.slice(all.length - records.length) };
    } catch (error) {
      this.#failure = error;
      throw error;
    }
  }

  /** The chunks written at `position`, and synced when the WAL fsyncs and `sync` says so. */
  async #writeChunks(fd: number, chunks: Uint8Array[], position: number, sync: boolean): Promise<void> {
    if (this.#fsync && sync && this.#files.writeDurable !== undefined) {
      await this.#files.writeDurable(fd, chunks, position);
      return;
    }
    await this.#files.write(fd, chunks, position);
    if (this.#fsync && sync) await this.#files.fdatasync(fd);
  }

  async #rollover(): Promise<void> {
    // The segment left behind must hold no unsynced record: after a crash a torn record is only
    // ever accepted (truncated) at the very end of the log.
    // Nor anything after its last record: recovery accepts a zero tail only in the last segment.
    const cut = await this.#cutPadding(this.#active);
    if (this.#activeUnsynced || cut) await this.#files.fdatasync(this.#active.fd);
    this.#activeUnsynced = false;
    const sequence = this.#active.sequence + 1;
    const segment = await createSegment(this.#files, this.#dir, sequence, this.lastIndex() + 1, false);
    if (this.#fsync) {
      // The directory fsync that makes the new name durable runs beside the segment's first write,
      // which waits for both before its save resolves: nothing in the segment is durable (nor
      // acknowledged) before its name is. Run first, it took 9-20 ms of a leader's save each 64 MiB.
      const naming = this.#files.fsyncDir(this.#dir);
      naming.catch(() => undefined); // awaited by the next write, or dropped with the WAL
      this.#segmentNaming = naming;
    }
    this.#segments.push(segment);
    this.#bySequence.set(sequence, segment);
  }

  /**
   * Cuts the zeros a direct append leaves after the last record (src/io pads the file to a block
   * boundary). True when the cut must be made durable: there were zeros, and the WAL fsyncs.
   */
  async #cutPadding(segment: Segment): Promise<boolean> {
    if ((await this.#files.size(segment.fd)) <= segment.size) return false;
    await this.#files.truncate(segment.fd, segment.size);
    return this.#fsync;
  }

  /** The first record of a segment: the log's state before the segment's first batch. */
  #headerRecord(sequence: number): OutgoingRecord {
    const body = encodeSegmentHeaderBody({
      sequence,
      lastIndex: this.#log.lastIndex(),
      compactIndex: this.#log.dummyIndex,
      compactTerm: this.#log.dummyTerm,
      hardState: this.#hardState,
      snapshot: this.#snapshot,
    });
    return { type: RecordType.SegmentHeader, body };
  }

  /**
   * Takes the oldest segments (never the active one) whose entries are all at or below `index`
   * out of the log now, and queues the deletion of their files behind earlier deletions.
   */
  #deleteSegmentsThrough(index: number): void {
    const doomed: Segment[] = [];
    while (this.#segments.length > 1 && this.#segments[0]!.maxEntryIndex <= index) {
      const segment = this.#segments.shift()!;
      this.#bySequence.delete(segment.sequence);
      doomed.push(segment);
    }
    if (doomed.length === 0) return;
    this.#deleting = this.#deleting.then(async () => {
      try {
        for (const segment of doomed) {
          // Oldest first, so that a crash in between leaves a contiguous run of segments.
          await this.#files.unlink(segment.path);
          await this.#files.close(segment.fd);
        }
        if (this.#fsync) await this.#files.fsyncDir(this.#dir);
        this.#logger(`wal: compacted to index ${index}; deleted ${doomed.length} segments up to ${doomed[doomed.length - 1]!.path}`);
      } catch (error) {
        // As a failed write does: the next save fails and the member stops (the files left are
        // only old segments, which the next start skips as compacted).
        this.#failure ??= error;
        this.#logger(`wal: deleting compacted segments failed: ${String(error)}`);
      }
    });
  }

  /** How many entries from `lo` fit in `maxBytes` (at least one), stopping at `hi`. */
  #countWithinBytes(lo: number, hi: number, maxBytes: number): number {
    if (hi - lo <= 1 || maxBytes === Infinity) return hi - lo;
    let bytes = this.#log.slot(lo).dataBytes + ENTRY_OVERHEAD_BYTES;
    let count = 1;
    while (lo + count < hi) {
      bytes += this.#log.slot(lo + count).dataBytes + ENTRY_OVERHEAD_BYTES;
      if (bytes > maxBytes) break;
      count++;
    }
    return count;
  }

  /** The end of the run of uncached entries from `lo` that lie back to back in one segment. */
  #spanEnd(lo: number, hi: number): number {
    const first = this.#log.slot(lo);
    let end = first.offset + first.recordBytes;
    let index = lo + 1;
    while (index < hi) {
      const slot = this.#log.slot(index);
      const contiguous = slot.entry === undefined && slot.segment === first.segment && slot.offset === end;
      if (!contiguous || end + slot.recordBytes - first.offset > READ_SPAN_BYTES_MAX) break;
      end += slot.recordBytes;
      index++;
    }
    return index;
  }

  /** Reads the records of entries [lo, hi) (back to back in one segment) and verifies each. */
  #readSpan(lo: number, hi: number, into: Entry[]): void {
    if (this.#closed) throw new Error(`WAL ${this.#dir} is closed`);
    const first = this.#log.slot(lo);
    const last = this.#log.slot(hi - 1);
    const segment = this.#bySequence.get(first.segment);
    assert.ok(segment !== undefined, `entry ${lo} is in segment ${first.segment}, which is gone`);
    const length = last.offset + last.recordBytes - first.offset;
    const buffer = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    let read = 0;
    while (read < length) {
      const got = this.#files.readSync(segment.fd, buffer.subarray(read), first.offset + read);
      if (got === 0) break;
      read += got;
    }
    if (read < length) {
      throw new WalCorruptionError(segment.path, first.offset + read, `the file ends ${length - read} bytes early`, READ_ADVICE);
    }
    for (let index = lo; index < hi; index++) {
      const slot = this.#log.slot(index);
      const at = slot.offset - first.offset;
      into.push(this.#verifiedEntry(segment, buffer.subarray(at, at + slot.recordBytes), index, slot.term, slot.offset));
    }
  }

  #verifiedEntry(segment: Segment, bytes: Uint8Array, index: number, term: number, offset: number): Entry {
    const frame = readFrame(bytes, 0);
    const fail = (reason: string, cause?: unknown): never => {
      throw new WalCorruptionError(segment.path, offset, `reading entry ${index}: ${reason}`, READ_ADVICE, { cause });
    };
    if (isFrameDamage(frame)) return fail(frame.reason);
    if (frame.type !== RecordType.Entry || frame.bytes !== bytes.byteLength) return fail('not the entry record indexed there');
    let entry: Entry;
    try {
      entry = decodeEntry(frame.body);
    } catch (error) {
      if (!isCodecError(error)) throw error;
      return fail(error.message, error);
    }
    if (entry.index !== index || entry.term !== term) {
      return fail(`the record holds entry ${entry.index} at term ${entry.term}, expected term ${term}`);
    }
    return entry;
  }
}

/** One header buffer for all records, interleaved with the bodies' parts: one writev, no body copies. */
function frameRecords(records: OutgoingRecord[], start: number): { chunks: Uint8Array[]; offsets: number[]; end: number } {
  const headers = new Uint8Array(RECORD_HEADER_BYTES * records.length);
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = start;
  for (let k = 0; k < records.length; k++) {
    const record = records[k]!;
    writeRecordHeader(headers, k * RECORD_HEADER_BYTES, record);
    chunks.push(headers.subarray(k * RECORD_HEADER_BYTES, (k + 1) * RECORD_HEADER_BYTES), ...bodyParts(record));
    offsets.push(at);
    at += RECORD_HEADER_BYTES + record.body.byteLength;
  }
  return { chunks, offsets, end: at };
}
