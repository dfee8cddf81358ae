// The chaos run's watcher: one KvcClient.watch over every member from log index 1 (the cluster
// starts empty, so the feed from 1 is its whole history), recording every change it delivers
// while the nemeses kill, pause and cut members. The client resumes across those failures by
// itself; the record (history.watch) is what checkers/watch-feed.ts verifies against the
// operations: no gap, no duplicate, log order, and the order of acknowledged puts.
import { KvcClient, type WatchEvent } from '../client/index.js';
import { hex } from './checkers/common.js';
import { sleep } from './cluster.js';
import type { WatchRecord } from './history.js';

/** How long the watcher has, once the cluster converged, to deliver up to the converged index. */
export const WATCH_CATCH_UP_MS = 15_000;

export class ChaosWatcher {
  readonly record: WatchRecord = { events: [], resumes: 0, progressIndex: 0 };
  readonly #client: KvcClient;
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;

  constructor(addresses: string[]) {
    this.#client = new KvcClient({ endpoints: addresses, backoffMaxMs: 500 });
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    try {
      const feed = this.#client.watch({ fromIndex: 1, signal: this.#stop.signal, resumesMax: 1_000, onResume: () => this.record.resumes++ });
      for await (const e of feed) this.#note(e);
    } catch (error) {
      if (!this.#stop.signal.aborted) this.record.error = error instanceof Error ? error.message : String(error);
    }
  }

  #note(e: WatchEvent): void {
    if (e.type === 'progress') {
      this.record.progressIndex = Math.max(this.record.progressIndex, e.index);
      return;
    }
    const key = hex(e.key);
    this.record.events.push({ index: e.index, type: e.type, ns: e.namespace, key, ...(e.type === 'stored' ? { crc32c: e.crc32c, bytes: e.bytes } : {}) });
  }

  /** Waits (bounded) until the feed delivered everything up to `appliedIndex`, then stops it. */
  async stop(appliedIndex: number, signal?: AbortSignal): Promise<void> {
    if (this.#stop.signal.aborted) return this.#done; // Stopped already (the run's finally block).
    const deadline = performance.now() + WATCH_CATCH_UP_MS;
    while (this.record.progressIndex < appliedIndex && this.record.error === undefined && performance.now() < deadline && signal?.aborted !== true) await sleep(100, signal);
    this.record.targetIndex = appliedIndex;
    this.#stop.abort();
    await this.#done;
    this.#client.close();
  }
}
