// The in-memory index of the live Raft log: for every entry its term and where its record lies
// (segment, offset, bytes), its payload size (for byte limits without a read), and — for the
// most recent entries, up to a byte budget — the entry object itself, so the common reads
// (entries just appended, about to be sent or applied) never touch the disk.
//
// Layout as in MemoryStorage: a dummy position at `dummyIndex` holds the term of the last
// compacted entry; live slots sit in `#slots` from `#head` on (`#slots[#head + k]` is index
// `dummyIndex + 1 + k`). The cache is a suffix of the log: slots from `#cacheFloor` on may hold
// their entry, slots below it never do; appending past the budget evicts from the floor up, and
// the member raises the floor past what every follower has and it applied (uncacheThrough).

import assert from 'node:assert/strict';
import { ENTRY_OVERHEAD_BYTES, checkTermRange } from '../raft/index.js';
import type { Entry } from '../raft/index.js';

/** Dead array slots tolerated before compaction copies the live slots to a new array. */
const RECLAIM_DEAD_SLOTS_MIN = 1024;

export interface Slot {
  term: number;
  /** Sequence number of the segment holding the record. */
  segment: number;
  /** Where the record starts in the segment file. */
  offset: number;
  /** Header plus body. */
  recordBytes: number;
  /** The payload size, so byte limits need no read. */
  dataBytes: number;
  /** The entry itself while it is in the cache. */
  entry: Entry | undefined;
}

export class LogIndex {
  #dummyIndex = 0;
  #dummyTerm = 0;
  #slots: Slot[] = [];
  #head = 0;
  readonly #cacheBytesMax: number;
  #cacheBytes = 0;
  #cacheFloor = 0;

  constructor(cacheBytesMax: number) {
    this.#cacheBytesMax = cacheBytesMax;
  }

  get dummyIndex(): number {
    return this.#dummyIndex;
  }

  /** The term at the dummy position (NaN while recovery does not know it yet). */
  get dummyTerm(): number {
    return this.#dummyTerm;
  }

  get cachedBytes(): number {
    return this.#cacheBytes;
  }

  firstIndex(): number {
    return this.#dummyIndex + 1;
  }

  lastIndex(): number {
    return this.#dummyIndex + this.#slots.length - this.#head;
  }

  term(index: number): number {
    checkTermRange(index, this.#dummyIndex, this.lastIndex());
    if (index === this.#dummyIndex) return this.#dummyTerm;
    return this.#slots[this.#position(index)]!.term;
  }

  /** The slot of a live index (dummyIndex < index <= lastIndex). */
  slot(index: number): Slot {
    assert.ok(index > this.#dummyIndex && index <= this.lastIndex(), `slot(${index}): not in the live log`);
    return this.#slots[this.#position(index)]!;
  }

  /** An empty log whose dummy position is `index` with `term`. */
  reset(index: number, term: number): void {
    this.#dummyIndex = index;
    this.#dummyTerm = term;
    this.#slots = [];
    this.#head = 0;
    this.#cacheBytes = 0;
    this.#cacheFloor = 0;
  }

  /** Drops the slots at and after `index` (dummyIndex < index <= lastIndex + 1). */
  truncateFrom(index: number): void {
    assert.ok(index > this.#dummyIndex && index <= this.lastIndex() + 1, `truncateFrom(${index}): not in the log`);
    const keep = this.#position(index);
    for (let p = Math.max(keep, this.#cacheFloor); p < this.#slots.length; p++) this.#uncache(this.#slots[p]!);
    this.#slots.length = keep;
    this.#cacheFloor = Math.min(this.#cacheFloor, keep);
  }

  /** Appends the slot of index lastIndex + 1; a slot with an entry joins the cache. */
  push(slot: Slot): void {
    if (slot.entry === undefined) {
      // The cache is a suffix of the log: an uncached slot ends it (only recovery pushes these).
      for (let p = this.#cacheFloor; p < this.#slots.length; p++) this.#uncache(this.#slots[p]!);
      this.#cacheFloor = this.#slots.length + 1;
    } else {
      this.#cacheBytes += slot.dataBytes + ENTRY_OVERHEAD_BYTES;
    }
    this.#slots.push(slot);
    this.#evictOverBudget();
  }

  /**
   * Moves the dummy position up to `index` (dummyIndex <= index <= lastIndex) with `term`,
   * dropping the slots at and below it.
   */
  compactTo(index: number, term: number): void {
    assert.ok(index >= this.#dummyIndex && index <= this.lastIndex(), `compactTo(${index}): not in the log`);
    const newHead = this.#position(index) + 1;
    for (let p = Math.max(this.#head, this.#cacheFloor); p < newHead; p++) this.#uncache(this.#slots[p]!);
    this.#head = newHead;
    this.#cacheFloor = Math.max(this.#cacheFloor, newHead);
    this.#dummyIndex = index;
    this.#dummyTerm = term;
    if (this.#head >= RECLAIM_DEAD_SLOTS_MIN && this.#head * 2 >= this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#cacheFloor -= this.#head;
      this.#head = 0;
    }
  }

  /** Drops the cached entries at and below `index` (the cache stays a suffix of the log). */
  uncacheThrough(index: number): void {
    if (index <= this.#dummyIndex) return;
    const end = this.#position(Math.min(index, this.lastIndex())) + 1;
    for (let p = this.#cacheFloor; p < end; p++) this.#uncache(this.#slots[p]!);
    this.#cacheFloor = Math.max(this.#cacheFloor, end);
  }

  #evictOverBudget(): void {
    while (this.#cacheBytes > this.#cacheBytesMax && this.#cacheFloor < this.#slots.length) {
      this.#uncache(this.#slots[this.#cacheFloor]!);
      this.#cacheFloor++;
    }
  }

  #uncache(slot: Slot): void {
    if (slot.entry === undefined) return;
    this.#cacheBytes -= slot.dataBytes + ENTRY_OVERHEAD_BYTES;
    slot.entry = undefined;
  }

  /** Array position of log index `index` (> dummy index), or of the slot just after the log. */
  #position(index: number): number {
    return this.#head + index - this.#dummyIndex - 1;
  }
}
