// When the member compacts its WAL and how much of the log it keeps for slow followers. Pure
// bookkeeping: the node tells it the size of every applied entry and when it compacted; it
// answers whether a trigger fired and where the kept tail starts. The compaction itself (flush
// the store, record a snapshot marker, delete segments) is the node's.

import type { Entry } from '../raft/index.js';
import type { WalStats } from '../wal/index.js';

export interface CompactionOptions {
  /** Compact once the WAL holds this many bytes. */
  walBytes: number;
  /** ... or this many entries were written since the last compaction. */
  entries: number;
  /** ... or this long passed since the last compaction. */
  intervalMs: number;
  /** Entries kept below the applied index so slow followers can catch up without a snapshot. */
  keepEntries: number;
  /** ... but no more than this many payload bytes of them. */
  keepBytes: number;
}

export class CompactionPolicy {
  readonly options: CompactionOptions;
  #lastCompactionMs = performance.now();
  #walBytesAfterCompaction = 0;
  /** (index, payload bytes) of recently applied entries, to bound the kept WAL tail in bytes. */
  #recentSizes: [number, number][] = [];

  constructor(options: CompactionOptions) {
    this.options = options;
  }

  noteEntry(e: Entry): void {
    this.#recentSizes.push([e.index, e.data.byteLength]);
    // Bounded: only the last keepEntries entries can ever be in the kept tail.
    if (this.#recentSizes.length > 2 * this.options.keepEntries + 1) {
      this.#recentSizes = this.#recentSizes.slice(-this.options.keepEntries - 1);
    }
  }

  due(stats: WalStats, nowMs = performance.now()): boolean {
    // Bytes count growth since the last compaction: the kept tail and the active segment stay
    // after compacting, and must not make the trigger fire again on every Ready.
    return (
      stats.entriesSinceCompaction >= this.options.entries ||
      stats.bytes - this.#walBytesAfterCompaction >= this.options.walBytes ||
      nowMs - this.#lastCompactionMs >= this.options.intervalMs
    );
  }

  /** A compaction started now (also when it then finds nothing to do). */
  started(nowMs = performance.now()): void {
    this.#lastCompactionMs = nowMs;
  }

  /** The WAL's size once compacted. */
  finished(walBytes: number): void {
    this.#walBytesAfterCompaction = walBytes;
  }

  /**
   * The first index of the tail kept for slow followers: at most `keepEntries` entries and at
   * most `keepBytes` of payload below `applied` (with 32 MiB pages an entry count alone would
   * keep gigabytes that every restart reads back).
   */
  tailStart(applied: number): number {
    let start = applied - this.options.keepEntries;
    let bytes = 0;
    for (let i = this.#recentSizes.length - 1; i >= 0; i--) {
      const [index, size] = this.#recentSizes[i]!;
      if (index > applied) continue;
      if (index <= start) break;
      bytes += size;
      if (bytes > this.options.keepBytes) {
        start = index;
        break;
      }
    }
    this.#recentSizes = this.#recentSizes.filter(([index]) => index > start);
    return start;
  }
}
