// Rebuilds the log's state from its records, in the order they were written. Later records win:
// an entry at an index the log already holds replaces it and everything after it (the Raft
// tail overwrite), a compaction record drops what it covers, a snapshot applied from a leader
// replaces the whole log.
//
// Older segments may have been deleted by compaction, so the first segment replayed may begin
// in the middle of the log: its header says the log then ran from `compactIndex` + 1 to
// `lastIndex`, but those entries are in the deleted files. Replay therefore tracks a *hole*: a
// range of indexes whose entries are unknown, between the known compaction point and the
// lowest entry seen since. Compaction only deletes segments whose entries are all covered by a
// compaction record that is still on disk, so in a sound log a later compaction record (or an
// applied snapshot) always closes the hole; one still open at the end means a segment is missing.
//
// Every contradiction is a ReplayError; recovery reports it as damage at the record.

import type { Entry, HardState, Snapshot } from '../raft/index.js';
import { LogIndex } from './log-index.js';
import type { Slot } from './log-index.js';
import type { CompactionBody, SegmentHeaderBody, SnapshotBody } from './record.js';

export class ReplayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** Where an entry record lies, as the index stores it. */
export type EntryLocation = Omit<Slot, 'term' | 'dataBytes' | 'entry'>;

export class Replay {
  /** The entries; its dummy position is the bottom of the hole while there is one. */
  readonly log: LogIndex;
  hardState: HardState = { term: 0, vote: 0, commit: 0 };
  snapshot: Snapshot | undefined;
  /** The known compaction point: entries at and below it are gone for good. */
  compactIndex = 0;
  compactTerm = 0;
  #started = false;

  constructor(cacheBytesMax: number) {
    this.log = new LogIndex(cacheBytesMax);
  }

  /** True while some indexes between the compaction point and the known entries are unknown. */
  get hasHole(): boolean {
    return this.log.dummyIndex > this.compactIndex;
  }

  header(header: SegmentHeaderBody, sequence: number): void {
    if (header.sequence !== sequence) {
      throw new ReplayError(`the header says segment ${header.sequence}, the file name says ${sequence}`);
    }
    if (header.compactIndex > header.lastIndex) {
      throw new ReplayError(`compaction point ${header.compactIndex} after the last index ${header.lastIndex}`);
    }
    // The previous segments are here: the header must agree with what they built.
    if (this.#started && (header.lastIndex !== this.log.lastIndex() || header.compactIndex !== this.compactIndex)) {
      throw new ReplayError(
        `the header says the log was (${header.compactIndex}, ${header.lastIndex}], the segments before ` +
          `it give (${this.compactIndex}, ${this.log.lastIndex()}]: a segment is missing or out of order`,
      );
    }
    this.#takeSnapshot(header.snapshot, true);
    this.hardState = header.hardState;
    if (this.#started) return;
    this.#started = true;
    this.compactIndex = header.compactIndex;
    this.compactTerm = header.compactTerm;
    // The entries (compactIndex, lastIndex] are in older segments that may have been deleted.
    this.log.reset(header.lastIndex, this.#termBelow(header.lastIndex + 1));
  }

  entry(entry: Entry, location: EntryLocation): void {
    const { index, term } = entry;
    if (index <= this.compactIndex) {
      throw new ReplayError(`entry ${index} at or below the compaction point ${this.compactIndex}`);
    }
    if (index > this.log.lastIndex() + 1) {
      throw new ReplayError(`entry ${index} after the last index ${this.log.lastIndex()}: the log has a gap`);
    }
    // Checked before anything changes, so that a rejected record leaves the state of the
    // records before it (repair truncates there).
    const intoHole = index <= this.log.dummyIndex;
    const previousTerm = intoHole ? this.#termBelow(index) : this.log.term(index - 1);
    if (term < previousTerm) throw new ReplayError(`entry ${index} has term ${term}, below ${previousTerm} before it`);
    if (intoHole) {
      // An overwrite reaching into the hole: everything from `index` on is replaced, so the
      // hole now ends just below it.
      this.log.reset(index - 1, previousTerm);
    } else if (index <= this.log.lastIndex()) {
      this.log.truncateFrom(index);
    }
    this.log.push({ ...location, term, dataBytes: entry.data.byteLength, entry: undefined });
  }

  /** The term of `index - 1` when it is the compaction point, else unknown (NaN) in the hole. */
  #termBelow(index: number): number {
    return index - 1 === this.compactIndex ? this.compactTerm : Number.NaN;
  }

  hardStateRecord(hardState: HardState): void {
    this.hardState = hardState;
  }

  snapshotRecord({ snapshot, resetsLog }: SnapshotBody): void {
    const { index, term } = snapshot.metadata;
    if (!resetsLog) {
      // A snapshot of the local state machine: the log is unchanged.
      if (index > this.log.lastIndex()) throw new ReplayError(`created snapshot ${index} after the last index`);
      if (index > this.log.dummyIndex && this.log.term(index) !== term) {
        throw new ReplayError(`created snapshot ${index} has term ${term}, the log has ${this.log.term(index)}`);
      }
      this.#takeSnapshot(snapshot, true);
      return;
    }
    this.#takeSnapshot(snapshot, false);
    this.compactIndex = index;
    this.compactTerm = term;
    this.log.reset(index, term);
  }

  compaction({ index, term }: CompactionBody): void {
    if (index <= this.compactIndex) throw new ReplayError(`compaction to ${index}, already compacted to ${this.compactIndex}`);
    if (index > this.log.lastIndex()) throw new ReplayError(`compaction to ${index} after the last index ${this.log.lastIndex()}`);
    if (index > this.log.dummyIndex && this.log.term(index) !== term) {
      throw new ReplayError(`compaction to ${index} with term ${term}, the log has ${this.log.term(index)}`);
    }
    this.compactIndex = index;
    this.compactTerm = term;
    // At or above the hole's top the hole closes; below it, the hole only shrinks.
    if (index >= this.log.dummyIndex) this.log.compactTo(index, term);
  }

  #takeSnapshot(snapshot: Snapshot, equalIsFine: boolean): void {
    const current = this.snapshot?.metadata.index ?? -1;
    const index = snapshot.metadata.index;
    if (index < current || (index === current && !equalIsFine)) {
      throw new ReplayError(`snapshot ${index} is not newer than snapshot ${current} before it`);
    }
    this.snapshot = snapshot;
  }
}
