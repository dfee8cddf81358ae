// An in-process transport: every member of a test cluster lives in one Node.js process, messages
// cross through the real wire codec (so nothing is shared by reference between members), and a
// test can inject faults: drop, delay, one-way or two-way partitions, and snapshot transfers cut
// after a number of chunks.
import { decodeMessage, encodeMessage } from '../codec/index.js';
import type { Message, NodeId } from '../raft/index.js';
import type { SnapshotChunk } from '../store/index.js';
import type { Transport, TransportHandler } from './transport.js';

export interface TransportFaults {
  /** Probability in [0, 1] that a message is lost. */
  dropRate: number;
  /** Extra delivery delay in ms, uniformly drawn from [0, delayMsMax]. */
  delayMsMax: number;
  /** Cut the next snapshot transfers after this many chunks (undefined: never). */
  cutSnapshotAfterChunks?: number;
}

export class InProcessTransport implements Transport {
  readonly #handlers = new Map<NodeId, TransportHandler>();
  /** Directed links that are down: `${from}>${to}`. */
  readonly #blocked = new Set<string>();
  readonly #random: () => number;
  faults: TransportFaults = { dropRate: 0, delayMsMax: 0 };
  delivered = 0;
  dropped = 0;
  /** Snapshot transfers cut by the injected fault. */
  snapshotsCut = 0;

  /** `random` is injectable so fault decisions can be replayed in tests. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  register(id: NodeId, handler: TransportHandler): void {
    this.#handlers.set(id, handler);
  }

  unregister(id: NodeId): void {
    this.#handlers.delete(id);
  }

  /** Cuts every link between the groups (both ways). `partition([1], [2, 3])`. */
  partition(...groups: NodeId[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.#blocked.add(`${x}>${y}`);
      }
    }
  }

  /** Cuts the link from `from` to `to` only. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.#blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.#blocked.clear();
  }

  #linkUp(from: NodeId, to: NodeId): boolean {
    return !this.#blocked.has(`${from}>${to}`);
  }

  send(messages: Message[]): void {
    for (const m of messages) {
      if (!this.#linkUp(m.from, m.to) || this.#random() < this.faults.dropRate) {
        this.dropped++;
        continue;
      }
      // Encode now (the sender's view at send time), decode at delivery: like bytes on a wire.
      const bytes = encodeMessage(m);
      const delayMs = this.faults.delayMsMax > 0 ? Math.floor(this.#random() * this.faults.delayMsMax) : 0;
      const deliver = (): void => {
        const handler = this.#handlers.get(m.to);
        if (handler === undefined || !this.#linkUp(m.from, m.to)) {
          this.dropped++;
          return;
        }
        this.delivered++;
        handler.onMessage(decodeMessage(bytes));
      };
      if (delayMs > 0) setTimeout(deliver, delayMs);
      else setImmediate(deliver);
    }
  }

  sendAccessReport(from: NodeId, to: NodeId, report: Uint8Array): void {
    if (!this.#linkUp(from, to)) return;
    const bytes = report.slice();
    setImmediate(() => {
      if (this.#linkUp(from, to)) this.#handlers.get(to)?.onAccessReport(from, bytes);
    });
  }

  async sendSnapshot(message: Message, chunks: AsyncIterable<SnapshotChunk>): Promise<boolean> {
    const handler = this.#handlers.get(message.to);
    if (handler === undefined || !this.#linkUp(message.from, message.to)) return false;
    const cutAfter = this.faults.cutSnapshotAfterChunks;
    const wire = decodeMessage(encodeMessage(message));
    try {
      const stream = cutAfter === undefined ? chunks : cutStream(chunks, cutAfter, () => this.snapshotsCut++);
      await handler.onSnapshot(wire, stream);
      return true;
    } catch {
      return false;
    }
  }
}

/** Yields `limit` chunks, then fails as a dropped connection would. */
async function* cutStream(chunks: AsyncIterable<SnapshotChunk>, limit: number, onCut: () => void): AsyncIterable<SnapshotChunk> {
  let count = 0;
  for await (const chunk of chunks) {
    if (count++ >= limit) {
      onCut();
      throw new Error(`snapshot transfer cut after ${limit} chunks (injected fault)`);
    }
    yield chunk;
  }
}
