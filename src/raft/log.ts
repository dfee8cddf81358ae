// The Raft log as the core sees it: stable storage underneath, the unstable tail on top, and the
// commit and apply cursors. Invariant: applied <= committed <= lastIndex, and committed never
// moves back (a broken invariant is a bug and asserts).
import assert from 'node:assert/strict';
import { Unstable } from './unstable.js';
import { RaftError, entrySizeBytes, type Entry, type LogStorage, type Snapshot } from './types.js';

export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** Keeps the longest prefix of `entries` within `maxBytes`, and always the first entry. */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length === 0 || maxBytes >= NO_LIMIT) return entries;
  let size = entrySizeBytes(entries[0]!);
  let keep = 1;
  for (; keep < entries.length; keep++) {
    size += entrySizeBytes(entries[keep]!);
    if (size > maxBytes) break;
  }
  return keep === entries.length ? entries : entries.slice(0, keep);
}

export function payloadBytes(entries: Entry[]): number {
  let size = 0;
  for (const e of entries) size += e.data.byteLength;
  return size;
}

export class RaftLog {
  readonly storage: LogStorage;
  readonly unstable: Unstable;
  /** Highest index known to be committed on a quorum. */
  committed: number;
  /** Highest index handed to the application to apply. */
  applied: number;
  readonly #maxCommittedBytesPerReady: number;

  constructor(storage: LogStorage, maxCommittedBytesPerReady: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.#maxCommittedBytesPerReady = maxCommittedBytesPerReady > 0 ? maxCommittedBytesPerReady : NO_LIMIT;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry `index`; throws RaftError 'compacted' / 'unavailable' outside [firstIndex-1, lastIndex]. */
  term(index: number): number {
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== undefined) return unstableTerm;
    if (index + 1 < this.firstIndex()) throw new RaftError('compacted');
    if (index > this.lastIndex()) throw new RaftError('unavailable');
    return this.storage.term(index);
  }

  /** Like term(), but 0 when the entry is compacted or not there. */
  termOrZero(index: number): number {
    // Bounds first: followers ask about the index past their log for every new entry, and
    // building an exception there was a third of the replication CPU (bench raft profile).
    const unstableTerm = this.unstable.maybeTerm(index);
    if (unstableTerm !== undefined) return unstableTerm;
    if (index + 1 < this.firstIndex() || index > this.lastIndex()) return 0;
    try {
      return this.term(index);
    } catch (err) {
      if (err instanceof RaftError && (err.code === 'compacted' || err.code === 'unavailable')) return 0;
      throw err;
    }
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.termOrZero(index) === term;
  }

  /**
   * A follower's append: if the entry at `index` has `logTerm`, append `entries` after it
   * (truncating a conflicting tail) and commit up to min(commit, last new index). Returns the last
   * new index, or undefined when the previous entry does not match.
   */
  maybeAppend(index: number, logTerm: number, commit: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert.ok(conflict > this.committed, `entry ${conflict} conflicts with committed entry ${this.committed}`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNewIndex));
    return lastNewIndex;
  }

  append(entries: Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assert.ok(entries[0]!.index - 1 >= this.committed, `append at ${entries[0]!.index} below committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** Index of the first entry whose term differs from ours (or is new); 0 when all match. */
  findConflict(entries: Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term: where a leader should
   * probe next after a rejection (fast log backtracking). A compacted index answers term 0.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (let i = index; ; i--) {
      let ourTerm: number;
      try {
        ourTerm = this.term(i);
      } catch (err) {
        if (err instanceof RaftError && (err.code === 'compacted' || err.code === 'unavailable')) return [i, 0];
        throw err;
      }
      if (ourTerm <= term) return [i, ourTerm];
    }
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.length === 0 ? [] : this.unstable.entries.slice();
  }

  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== undefined) return false;
    return this.committed > this.applied;
  }

  /** Committed entries not yet applied, limited in bytes (always at least one when there are any). */
  nextCommittedEntries(): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(this.applied + 1, this.committed + 1, this.#maxCommittedBytesPerReady);
  }

  /** Committed entries from `lo` through `hi` (both inclusive, clamped to the commit index), limited in bytes as a Ready's are. */
  committedEntriesBetween(lo: number, hi: number): Entry[] {
    const last = Math.min(hi, this.committed);
    if (lo > last) return [];
    return this.slice(lo, last + 1, this.#maxCommittedBytesPerReady);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert.ok(index <= this.lastIndex(), `commit ${index} is past the last index ${this.lastIndex()}: log corrupted, truncated or lost?`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert.ok(index <= this.committed && index >= this.applied, `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Entries from `index` to the end, at most `maxBytes` (the first always). */
  entriesFrom(index: number, maxBytes: number): Entry[] {
    const last = this.lastIndex();
    if (index > last) return [];
    return this.slice(index, last + 1, maxBytes);
  }

  isUpToDate(lastIndex: number, term: number): boolean {
    const ourLastTerm = this.lastTerm();
    return term > ourLastTerm || (term === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /** Leader's commit rule: commit `index` only if its entry is of the leader's current `term`. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** Entries in [lo, hi), from storage then the unstable tail, limited to `maxBytes`. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert.ok(lo <= hi, `invalid slice ${lo} > ${hi}`);
    if (lo < this.firstIndex()) throw new RaftError('compacted');
    assert.ok(hi <= this.lastIndex() + 1, `slice[${lo},${hi}) out of bound [${this.firstIndex()},${this.lastIndex()}]`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let stored: Entry[] = [];
    if (lo < offset) {
      const storedHi = Math.min(hi, offset);
      stored = this.storage.entries(lo, storedHi, maxBytes);
      if (stored.length < storedHi - lo) return stored;
      if (hi <= offset) return limitSize(stored, maxBytes);
    }
    const fresh = this.unstable.slice(Math.max(lo, offset), hi);
    return limitSize(stored.length === 0 ? fresh : stored.concat(fresh), maxBytes);
  }

  /** Every entry from firstIndex (for tests and debugging). */
  allEntries(): Entry[] {
    return this.entriesFrom(this.firstIndex(), NO_LIMIT);
  }
}
