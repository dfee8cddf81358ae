// The callers waiting on this member: proposals waiting to be applied, and linearizable reads
// waiting for their ReadIndex to be confirmed and applied. Each entry has a timeout; the node
// settles entries as Readies come and fails them all when it stops or loses leadership.

import { randomInt } from 'node:crypto';
import { KvcError } from '../errors.js';
import type { ReadState } from '../raft/index.js';
import type { ApplyResult } from '../store/index.js';

interface PendingProposal {
  resolve: (result: ApplyResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface PendingRead {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** Set once the leader answered: the read may be served when applied reaches it. */
  index?: number;
}

/**
 * Proposals by sequence number: the proposer answers its caller once the entry is applied.
 *
 * Sequence numbers are u32 (the proposal header's field) and start at a random value in every
 * process. Starting at 1 after each restart, a member's proposal made before a crash, and
 * committed after it restarted, carried the same number as a new proposal and answered that
 * caller with the old command's result, before the new command was even committed.
 */
export class ProposalRegistry {
  #seq: number;
  readonly #pending = new Map<number, PendingProposal>();

  /** `lastSeq`: the number before the first one handed out (default random). */
  constructor(lastSeq: number = randomInt(0, 2 ** 32)) {
    this.#seq = lastSeq >>> 0;
  }

  /** The sequence number add() handed out last. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Registers a proposal; `enqueue` receives its sequence number. Rejects after `timeoutMs`. */
  add(timeoutMs: number, enqueue: (seq: number) => void): Promise<ApplyResult> {
    // Wraps within u32, as the entry header stores it.
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const promise = this.#register(seq, timeoutMs);
    enqueue(seq);
    return promise;
  }

  // Apart from add so that the timer's closure, alive until the proposal settles, does not hold
  // `enqueue` and with it the command (a put's payload: it outlived young-generation GCs and
  // every one freed later took a full GC; docs/BENCHMARKS.md, peers).
  #register(seq: number, timeoutMs: number): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new KvcError('KVC_DEADLINE_EXCEEDED', { detail: `proposal not applied within ${timeoutMs} ms` }));
      }, timeoutMs);
      this.#pending.set(seq, { resolve, reject, timer });
    });
  }

  settle(seq: number, result: ApplyResult | undefined, error?: Error): void {
    const pending = this.#pending.get(seq);
    if (pending === undefined) return;
    this.#pending.delete(seq);
    clearTimeout(pending.timer);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(result!);
  }

  failAll(error: () => Error): void {
    for (const seq of [...this.#pending.keys()]) this.settle(seq, undefined, error());
  }
}

/** Linearizable reads by their ReadIndex context. */
export class ReadRegistry {
  #seq = 0;
  readonly #pending = new Map<string, PendingRead>();
  readonly #prefix: string;

  constructor(memberId: number) {
    this.#prefix = `read:${memberId}:`;
  }

  /** Registers a read; `enqueue` receives its context. Rejects after `timeoutMs`. */
  add(timeoutMs: number, enqueue: (context: Uint8Array) => void): Promise<void> {
    const context = new TextEncoder().encode(`${this.#prefix}${++this.#seq}`);
    const key = Buffer.from(context).toString('latin1');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(new KvcError('KVC_DEADLINE_EXCEEDED', { detail: `read index not confirmed within ${timeoutMs} ms` }));
      }, timeoutMs);
      this.#pending.set(key, { resolve, reject, timer });
      enqueue(context);
    });
  }

  /** The leader confirmed these reads at these indexes. */
  noteReadStates(readStates: ReadState[]): void {
    for (const rs of readStates) {
      const read = this.#pending.get(Buffer.from(rs.requestCtx).toString('latin1'));
      if (read !== undefined) read.index = rs.index;
    }
  }

  /** Answers the confirmed reads whose index this member has applied. */
  serve(applied: number): void {
    for (const [key, read] of this.#pending) {
      if (read.index === undefined || read.index > applied) continue;
      this.#pending.delete(key);
      clearTimeout(read.timer);
      read.resolve();
    }
  }

  failAll(error: Error): void {
    for (const read of this.#pending.values()) {
      clearTimeout(read.timer);
      read.reject(error);
    }
    this.#pending.clear();
  }
}
