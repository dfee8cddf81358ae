// The callers waiting on this member: proposals waiting to be applied, and linearizable reads
// waiting for their ReadIndex to be confirmed and applied. Each entry has a timeout; the node
// settles entries as Readies come and fails them all when it stops or loses leadership.

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

/** Proposals by sequence number: the proposer answers its caller once the entry is applied. */
export class ProposalRegistry {
  #seq = 0;
  readonly #pending = new Map<number, PendingProposal>();

  /** Registers a proposal; `enqueue` receives its sequence number. Rejects after `timeoutMs`. */
  add(timeoutMs: number, enqueue: (seq: number) => void): Promise<ApplyResult> {
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new KvcError('KVC_DEADLINE_EXCEEDED', { detail: `proposal not applied within ${timeoutMs} ms` }));
      }, timeoutMs);
      this.#pending.set(seq, { resolve, reject, timer });
      enqueue(seq);
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
