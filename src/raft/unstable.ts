// The part of the log not yet handed to stable storage: entries (and possibly an incoming
// snapshot) that the node driver has still to persist. Indexes: entries[i] has index offset + i.
import assert from 'node:assert/strict';
import type { Entry, Snapshot } from './types.js';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** First index of an unstable snapshot, when one is pending. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries up to `index` (with `term`) are durable: drop them from here. */
  stableTo(index: number, term: number): void {
    const stored = this.maybeTerm(index);
    // A term mismatch means the entry was replaced while being persisted; keep the new one.
    if (stored === undefined || stored !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: Entry[]): void {
    const first = entries[0]!.index;
    if (first === this.offset + this.entries.length) {
      for (const e of entries) this.entries.push(e);
    } else if (first <= this.offset) {
      // The whole unstable tail is replaced; storage must also truncate from `first` (it does on append).
      this.offset = first;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, first - this.offset);
      for (const e of entries) this.entries.push(e);
    }
  }

  /** Entries in [lo, hi), which must lie inside the unstable range. */
  slice(lo: number, hi: number): Entry[] {
    assert.ok(lo <= hi && lo >= this.offset && hi <= this.offset + this.entries.length, `unstable.slice[${lo},${hi}) out of bound`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
