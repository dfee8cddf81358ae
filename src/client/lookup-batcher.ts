// Lookups from many concurrent callers, sent together. An engine's scheduler asks for the cached
// prefix of many requests at once; one gRPC call per lookup made each caller queue behind every
// other's call overhead (measured: p99 of hundreds of ms with 100 callers, against about one call
// time when their prompts travel together). So at most `callsMax` Lookup calls are in flight, and
// lookups are sent from a microtask: those issued in the same turn of the event loop (a scheduler's
// `Promise.all` over its waiting requests, or callers answered by the same call asking again) are
// gathered first and then shared evenly among the free calls, so a burst of 100 costs one round
// trip of `callsMax` calls side by side (spread over the members) rather than a lone call first and
// the 99 others behind it. A lookup that arrives while every call is busy waits, and when one
// answers, the waiting lookups go out with it. Lookups share a call when their (namespace,
// linearizable, leaseMs) match (LookupRequest.more_prompts), bounded in prompts and keys. A lone
// caller waits for nothing but the microtask.
//
// A batch that fails (a bad key of one caller, a member that predates more_prompts) is retried
// prompt by prompt, so each caller gets its own answer or its own error.

/** One call's worth of prompts of one namespace, with the options they share. */
export interface LookupBatch {
  ns: string;
  linearizable: boolean;
  leaseMs: number;
  prompts: Uint8Array[][];
}

/** Sends one Lookup call for `batch`; resolves with each prompt's matched count, in order. */
export type SendLookups = (batch: LookupBatch) => Promise<number[]>;

export interface LookupBatcherOptions {
  /** Lookup calls in flight at once (at least 1). */
  callsMax: number;
  /** Most keys in one call, all prompts together (LIMITS.page.keysPerRequestMax). */
  keysMax: number;
  /** Most prompts in one call. */
  promptsMax: number;
}

interface Waiting {
  ns: string;
  keys: Uint8Array[];
  linearizable: boolean;
  leaseMs: number;
  resolve: (matched: number) => void;
  reject: (error: unknown) => void;
}

export class LookupBatcher {
  readonly #send: SendLookups;
  readonly #o: LookupBatcherOptions;
  #waiting: Waiting[] = [];
  #inFlight = 0;
  #pumpQueued = false;

  constructor(send: SendLookups, o: LookupBatcherOptions) {
    if (!(Number.isSafeInteger(o.callsMax) && o.callsMax >= 1)) throw new RangeError(`callsMax must be a positive integer, got ${o.callsMax}`);
    this.#send = send;
    this.#o = o;
  }

  /** The longest cached prefix of `keys` (at most keysMax of them), asked together with others when busy. */
  lookup(ns: string, keys: Uint8Array[], linearizable: boolean, leaseMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ ns, keys, linearizable, leaseMs, resolve, reject });
      if (this.#pumpQueued) return;
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    });
  }

  /** Lookups waiting for a call (for tests and figures). */
  get waiting(): number {
    return this.#waiting.length;
  }

  #pump(): void {
    while (this.#inFlight < this.#o.callsMax && this.#waiting.length > 0) {
      // An even share of what waits for each free call: side by side they finish sooner than one
      // large call, and each can be answered by another member.
      const share = Math.ceil(this.#waiting.length / (this.#o.callsMax - this.#inFlight));
      const batch = this.#take(share);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  /**
   * The oldest waiting lookup and up to `share` - 1 after it that can share its call (within
   * promptsMax and keysMax), removed from the queue in one pass.
   */
  #take(share: number): Waiting[] {
    const first = this.#waiting[0]!;
    const promptsMax = Math.min(share, this.#o.promptsMax);
    const batch = [first];
    const rest: Waiting[] = [];
    let keys = first.keys.length;
    for (let i = 1; i < this.#waiting.length; i++) {
      const w = this.#waiting[i]!;
      const fits = batch.length < promptsMax && keys + w.keys.length <= this.#o.keysMax;
      if (fits && w.ns === first.ns && w.linearizable === first.linearizable && w.leaseMs === first.leaseMs) {
        batch.push(w);
        keys += w.keys.length;
      } else {
        rest.push(w);
      }
    }
    this.#waiting = rest;
    return batch;
  }

  async #run(batch: Waiting[]): Promise<void> {
    const first = batch[0]!;
    const call = (prompts: Waiting[]): Promise<number[]> =>
      this.#send({ ns: first.ns, linearizable: first.linearizable, leaseMs: first.leaseMs, prompts: prompts.map((w) => w.keys) });
    try {
      const matched = await call(batch);
      batch.forEach((w, i) => w.resolve(matched[i]!));
    } catch (error) {
      if (batch.length === 1) return first.reject(error);
      // Each prompt alone: one caller's bad input or an old member must not fail the others.
      await Promise.all(batch.map((w) => call([w]).then(([matched]) => w.resolve(matched!), w.reject)));
    }
  }
}
