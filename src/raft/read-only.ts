// ReadIndex bookkeeping on the leader (Raft thesis §6.4): each read request remembers the commit
// index when it arrived; once a quorum acknowledges a heartbeat carrying its context, every read
// queued up to it may be served at that index.
import type { Message, NodeId, ReadOnlyOption } from './types.js';

export interface ReadIndexStatus {
  request: Message;
  index: number;
  acks: Set<NodeId>;
}

/** Read contexts are opaque bytes; a latin1 string is an exact, cheap map key for them. */
export function contextKey(context: Uint8Array): string {
  return Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString('latin1');
}

export class ReadOnly {
  readonly option: ReadOnlyOption;
  readonly #pending = new Map<string, ReadIndexStatus>();
  #queue: string[] = [];

  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /** Queues a read request (its context is `request.context`) at commit index `index`. */
  addRequest(index: number, request: Message): void {
    const key = contextKey(request.context!);
    if (this.#pending.has(key)) return;
    this.#pending.set(key, { request, index, acks: new Set() });
    this.#queue.push(key);
  }

  /** Records a heartbeat acknowledgement; returns the acks so far, or undefined for an unknown context. */
  recvAck(id: NodeId, context: Uint8Array): Set<NodeId> | undefined {
    const status = this.#pending.get(contextKey(context));
    if (status === undefined) return undefined;
    status.acks.add(id);
    return status.acks;
  }

  /** Dequeues every request up to and including the one with `context`, in arrival order. */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const at = this.#queue.indexOf(key);
    if (at < 0) return [];
    const done = this.#queue.slice(0, at + 1);
    this.#queue = this.#queue.slice(at + 1);
    return done.map((k) => {
      const status = this.#pending.get(k)!;
      this.#pending.delete(k);
      return status;
    });
  }

  lastPendingRequestContext(): Uint8Array | undefined {
    if (this.#queue.length === 0) return undefined;
    return this.#pending.get(this.#queue[this.#queue.length - 1]!)!.request.context;
  }

  pendingCount(): number {
    return this.#queue.length;
  }
}
