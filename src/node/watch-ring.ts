// The member's bounded memory of recent cache events, from which Watch streams are served
// (src/rpc/watch-service.ts). The store appends each applied batch's events once the batch is
// durable; watchers read by log index. Events are kept in groups, one per log entry that changed
// the page set, oldest first; past `eventsMax` events or `bytesMax` bytes the oldest groups are
// dropped, and `oldestIndex()` moves past them. It is memory only: after a restart, or when a
// snapshot install replaces the store, the ring starts empty at the applied index the member has
// then, and a watcher asking for anything older gets KVC_WATCH_COMPACTED and relists.
//
// Appending never waits for watchers: a slow watcher only falls behind (and is cut by its stream
// handler past `LIMITS.watch.lagEventsMax`), so watchers can never slow the apply path.
import assert from 'node:assert/strict';
import { cacheEventBytes, type CacheEvent } from '../store/index.js';

interface EventGroup {
  index: number;
  events: readonly CacheEvent[];
  bytes: number;
  /** Events in the ring before this group (since the ring started): lag is a difference of these. */
  seq: number;
}

/** The ring's bounds and the limits of the feeds that read it (LIMITS.watch by default). */
export interface WatchRingOptions {
  eventsMax: number;
  bytesMax: number;
  /** A reader this many events behind the newest is cut (the stream handler checks it). */
  lagEventsMax: number;
  /** Most readers (Watch streams) at once. */
  watchersMax: number;
  /** Most events a reader sends in one message (whole log entries). */
  messageEventsMax: number;
}

export interface WatchRingStats {
  /** The oldest log index a watch can start from. */
  oldestIndex: number;
  appliedIndex: number;
  events: number;
  bytes: number;
}

export class WatchRing {
  readonly #eventsMax: number;
  readonly #bytesMax: number;
  readonly lagEventsMax: number;
  readonly watchersMax: number;
  readonly messageEventsMax: number;
  /** Groups from `#head` on are live; the array is cut when half of it is dead. */
  #groups: EventGroup[] = [];
  #head = 0;
  #events = 0;
  #bytes = 0;
  /** Events ever appended (since the ring started); the next group's `seq`. */
  #seq = 0;
  /** Every change at or below this index is gone from the ring (or was before it started). */
  #compactedThrough: number;
  #appliedIndex: number;
  /** Bumped by reset(): a reader holding an older epoch lost its place. */
  #epoch = 0;
  readonly #listeners = new Set<() => void>();

  constructor(appliedIndex: number, o: WatchRingOptions) {
    assert.ok(o.eventsMax > 0 && o.bytesMax > 0 && o.watchersMax > 0 && o.messageEventsMax > 0, 'watch ring limits must be positive');
    assert.ok(o.lagEventsMax > 0 && o.lagEventsMax < o.eventsMax, 'a slow reader must be cut before the ring drops what it has not read');
    this.#eventsMax = o.eventsMax;
    this.#bytesMax = o.bytesMax;
    this.lagEventsMax = o.lagEventsMax;
    this.watchersMax = o.watchersMax;
    this.messageEventsMax = o.messageEventsMax;
    this.#compactedThrough = appliedIndex;
    this.#appliedIndex = appliedIndex;
  }

  get epoch(): number {
    return this.#epoch;
  }

  appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** The oldest index a watcher can start from: every change from it on is in the ring. */
  oldestIndex(): number {
    return this.#compactedThrough + 1;
  }

  stats(): WatchRingStats {
    return { oldestIndex: this.oldestIndex(), appliedIndex: this.#appliedIndex, events: this.#events, bytes: this.#bytes };
  }

  /** One applied batch: its events (any number of entries, in log order) and the applied index after it. */
  append(events: readonly CacheEvent[], appliedIndex: number): void {
    assert.ok(appliedIndex >= this.#appliedIndex, `watch ring: applied index went back from ${this.#appliedIndex} to ${appliedIndex}`);
    let start = 0;
    while (start < events.length) {
      const index = events[start]!.index;
      assert.ok(index > this.#appliedIndex && index <= appliedIndex, `watch ring: event index ${index} outside (${this.#appliedIndex}, ${appliedIndex}]`);
      let end = start + 1;
      while (end < events.length && events[end]!.index === index) end++;
      const group = events.slice(start, end);
      const bytes = group.reduce((sum, e) => sum + cacheEventBytes(e), 0);
      this.#groups.push({ index, events: group, bytes, seq: this.#seq });
      this.#seq += group.length;
      this.#events += group.length;
      this.#bytes += bytes;
      start = end;
    }
    this.#appliedIndex = appliedIndex;
    this.#trim();
    this.#notify();
  }

  /** The state was replaced (snapshot install): nothing before `appliedIndex` can be served any more. */
  reset(appliedIndex: number): void {
    this.#groups = [];
    this.#head = 0;
    this.#events = 0;
    this.#bytes = 0;
    this.#compactedThrough = appliedIndex;
    this.#appliedIndex = appliedIndex;
    this.#epoch++;
    this.#notify();
  }

  /**
   * Groups with index >= `fromIndex`, whole, until `eventsMax` events are taken (at least one
   * group, however large). `fromIndex` must be at least oldestIndex().
   */
  read(fromIndex: number, eventsMax: number): { index: number; events: readonly CacheEvent[] }[] {
    assert.ok(fromIndex >= this.oldestIndex(), 'watch ring: read before the oldest index');
    const out: { index: number; events: readonly CacheEvent[] }[] = [];
    let taken = 0;
    for (let i = this.#firstGroupAtOrAfter(fromIndex); i < this.#groups.length; i++) {
      const group = this.#groups[i]!;
      if (out.length > 0 && taken + group.events.length > eventsMax) break;
      out.push({ index: group.index, events: group.events });
      taken += group.events.length;
    }
    return out;
  }

  /** Events in the ring at index >= `fromIndex`: how far a watcher that reads from there is behind. */
  eventsFrom(fromIndex: number): number {
    const i = this.#firstGroupAtOrAfter(fromIndex);
    return i < this.#groups.length ? this.#seq - this.#groups[i]!.seq : 0;
  }

  /** Subscribers: the Watch streams this member serves. */
  watchers(): number {
    return this.#listeners.size;
  }

  /** Calls `listener` after every append and reset; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #firstGroupAtOrAfter(index: number): number {
    let lo = this.#head;
    let hi = this.#groups.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#groups[mid]!.index < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #trim(): void {
    while (this.#head < this.#groups.length && (this.#events > this.#eventsMax || this.#bytes > this.#bytesMax)) {
      const group = this.#groups[this.#head++]!;
      this.#events -= group.events.length;
      this.#bytes -= group.bytes;
      this.#compactedThrough = group.index;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#groups.length) {
      this.#groups = this.#groups.slice(this.#head);
      this.#head = 0;
    }
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
