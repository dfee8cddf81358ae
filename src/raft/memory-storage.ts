// An in-memory Raft log with etcd's MemoryStorage semantics. The simulator and the tests use it
// as the "disk" of a node: a crash drops the RawNode and keeps this object.
//
// Layout: a dummy position at `#dummyIndex` holds the term of the last compacted entry (the
// snapshot's index and term on a fresh or restored log), so `term(firstIndex() - 1)` always
// answers. Live entries sit in `#entries` from position `#head` on: `#entries[#head + k]` has
// index `#dummyIndex + 1 + k`. Compaction moves `#head` forward (dropping the compacted entries'
// references at once) and reclaims the dead prefix of the array once it is the larger half, so
// appends and compactions stay amortized O(1) per entry even with hundreds of thousands of entries.
//
// Ownership: entry objects passed to `append` are stored as they are (never copied) and the
// arrays returned by `entries()` are fresh, so the caller may keep or change those arrays but
// must not mutate the entry objects in them.

import assert from 'node:assert/strict';
import { EMPTY_BYTES, EntryType, RaftError, checkEntriesRange, checkTermRange, emptyHardState, entrySizeBytes } from './types.js';
import type { ConfState, Entry, HardState, LogStorage, Snapshot } from './types.js';

/** Dead array slots tolerated before compaction copies the live entries to a new array. */
const RECLAIM_DEAD_SLOTS_MIN = 1024;

/**
 * What a compacted slot holds until the array is reclaimed, so that compacted entries (and their
 * payloads, up to 32 MiB each) are released at once instead of at the next reclaim.
 */
const COMPACTED_SLOT: Entry = Object.freeze({ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES });

function copyConfState(confState: ConfState): ConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}

export class MemoryStorage implements LogStorage {
  #hardState: HardState = emptyHardState();
  #snapshot: Snapshot;
  #dummyIndex = 0;
  #dummyTerm = 0;
  #entries: Entry[] = [];
  #head = 0;

  /** A fresh log whose snapshot (index 0, term 0) carries `confState` (no members when absent). */
  static create(confState?: ConfState): MemoryStorage {
    return new MemoryStorage(confState);
  }

  constructor(confState?: ConfState) {
    const initial = confState === undefined ? { voters: [], learners: [] } : copyConfState(confState);
    this.#snapshot = { metadata: { index: 0, term: 0, confState: initial }, data: EMPTY_BYTES };
  }

  /** The saved hard state and the membership of the latest snapshot (both copies). */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.#hardState }, confState: copyConfState(this.#snapshot.metadata.confState) };
  }

  firstIndex(): number {
    return this.#dummyIndex + 1;
  }

  lastIndex(): number {
    return this.#dummyIndex + this.#entries.length - this.#head;
  }

  term(index: number): number {
    checkTermRange(index, this.#dummyIndex, this.lastIndex());
    if (index === this.#dummyIndex) return this.#dummyTerm;
    return this.#entries[this.#position(index)]!.term;
  }

  /**
   * Entries in `[lo, hi)`, at most `maxBytes` of them by `entrySizeBytes` except that the first
   * entry is always returned. The array is fresh; the entry objects are the stored ones.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    checkEntriesRange(lo, hi, this.#dummyIndex, this.lastIndex());
    const start = this.#position(lo);
    let end = this.#position(hi);
    // The core passes Number.MAX_SAFE_INTEGER (or Infinity) for "no limit": skip the byte count.
    if (end - start > 1 && maxBytes < Number.MAX_SAFE_INTEGER) {
      end = start + this.#countWithinBytes(start, end, maxBytes);
    }
    return this.#entries.slice(start, end);
  }

  /** The most recent snapshot. Callers must not mutate it. */
  snapshot(): Snapshot {
    return this.#snapshot;
  }

  setHardState(hardState: HardState): void {
    this.#hardState = { ...hardState };
  }

  /**
   * Appends `entries` (consecutive indexes). Entries at or below the compacted prefix are
   * ignored; an entry at an index the log already holds replaces it and everything after it.
   * A gap after the last index is a bug in the caller and fails an assertion.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const incomingFirst = entries[0]!.index;
    const incomingLast = incomingFirst + entries.length - 1;
    if (incomingLast < first) return;
    const skip = Math.max(0, first - incomingFirst);
    const appendAt = incomingFirst + skip;
    if (appendAt > this.lastIndex() + 1) {
      assert.fail(`append: missing log entries between the last index ${this.lastIndex()} and ${appendAt}`);
    }
    // Returned arrays are copies, so truncating in place cannot change what a caller holds.
    this.#entries.length = this.#position(appendAt);
    // The checks are plain comparisons so that the loop allocates nothing per entry.
    let previousTerm = this.term(appendAt - 1);
    for (let i = skip; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.index !== incomingFirst + i) assert.fail(`append: index ${entry.index} is not consecutive`);
      if (entry.term < previousTerm) assert.fail(`append: the term goes down at index ${entry.index}`);
      previousTerm = entry.term;
      this.#entries.push(entry);
    }
  }

  /**
   * Replaces the whole log with `snapshot`: the log becomes empty after the snapshot's index.
   * Throws 'snapshot-out-of-date' unless the snapshot is newer than the current one.
   */
  applySnapshot(snapshot: Snapshot): void {
    const current = this.#snapshot.metadata.index;
    if (snapshot.metadata.index <= current) {
      throw new RaftError(
        'snapshot-out-of-date',
        `applySnapshot(${snapshot.metadata.index}): not newer than the current snapshot ${current}`,
      );
    }
    this.#snapshot = {
      metadata: { ...snapshot.metadata, confState: copyConfState(snapshot.metadata.confState) },
      data: snapshot.data,
    };
    this.#dummyIndex = snapshot.metadata.index;
    this.#dummyTerm = snapshot.metadata.term;
    this.#entries = [];
    this.#head = 0;
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be in the log) and returns
   * it; `confState` undefined keeps the previous snapshot's membership. The log is unchanged:
   * call `compact` afterwards to drop the entries the snapshot covers.
   */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    const current = this.#snapshot.metadata.index;
    if (index <= current) {
      throw new RaftError('snapshot-out-of-date', `createSnapshot(${index}): not newer than ${current}`);
    }
    assert.ok(index <= this.lastIndex(), `createSnapshot(${index}): after the last index ${this.lastIndex()}`);
    const membership = confState === undefined ? this.#snapshot.metadata.confState : copyConfState(confState);
    this.#snapshot = { metadata: { index, term: this.term(index), confState: membership }, data };
    return this.#snapshot;
  }

  /**
   * Drops the entries below `compactIndex`; `compactIndex` becomes the dummy position holding its
   * term. Throws 'compacted' when it is not above the current dummy position. The caller keeps
   * a snapshot at or above `compactIndex` so that lagging followers can still be caught up.
   */
  compact(compactIndex: number): void {
    if (compactIndex <= this.#dummyIndex) {
      throw new RaftError('compacted', `compact(${compactIndex}): already compacted to ${this.#dummyIndex}`);
    }
    assert.ok(compactIndex <= this.lastIndex(), `compact(${compactIndex}): after the last index ${this.lastIndex()}`);
    this.#dummyTerm = this.term(compactIndex);
    const head = this.#position(compactIndex) + 1;
    this.#entries.fill(COMPACTED_SLOT, this.#head, head);
    this.#head = head;
    this.#dummyIndex = compactIndex;
    if (this.#head >= RECLAIM_DEAD_SLOTS_MIN && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Array position of log index `index` (> dummy index), or of the slot just after the log. */
  #position(index: number): number {
    return this.#head + index - this.#dummyIndex - 1;
  }

  /** How many entries from array position `start` fit in `maxBytes` (at least one). */
  #countWithinBytes(start: number, end: number, maxBytes: number): number {
    let bytes = entrySizeBytes(this.#entries[start]!);
    let count = 1;
    while (start + count < end) {
      bytes += entrySizeBytes(this.#entries[start + count]!);
      if (bytes > maxBytes) break;
      count++;
    }
    return count;
  }
}
