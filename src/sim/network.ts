// The simulated network: messages in flight ordered by delivery tick, with per-message loss,
// duplication and delay (delays reorder messages), and directed link cuts for partitions
// (symmetric or one-way). It is deterministic: every random choice comes from the Prng it is
// given, and ties between messages due at the same tick are broken by a random key drawn at send
// time, so reordering is part of the seed.
import type { Message, NodeId } from '../raft/index.js';
import type { Prng } from './prng.js';

/** A message on the wire, with what the simulator needs to deliver or report it. */
export interface Envelope {
  message: Message;
  /** Life (incarnation) of the sender when it sent the message; reports go only to that life. */
  senderLife: number;
  deliverAt: number;
  /** Random tie-break among messages due at the same tick (reordering). */
  order: number;
  /** Send sequence number; the last tie-break, so the order is total. */
  seq: number;
}

export interface NoiseSettings {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  duplicateRate: number;
  /** Probability that a message is delayed at all (otherwise it arrives within the same tick). */
  delayRate: number;
  /** Longest delay in ticks. */
  delayTicksMax: number;
}

export const CALM_NOISE: NoiseSettings = { dropRate: 0, duplicateRate: 0, delayRate: 0.1, delayTicksMax: 1 };

export type DropReason = 'loss' | 'partition' | 'down';

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  cut: number;
  duplicated: number;
}

/** Node ids are small; a directed link is keyed by one number. */
const LINK_KEY_SPAN = 1 << 16;

function linkKey(from: NodeId, to: NodeId): number {
  return from * LINK_KEY_SPAN + to;
}

function before(a: Envelope, b: Envelope): boolean {
  if (a.deliverAt !== b.deliverAt) return a.deliverAt < b.deliverAt;
  if (a.order !== b.order) return a.order < b.order;
  return a.seq < b.seq;
}

/** A binary min-heap of envelopes by (deliverAt, order, seq). */
class EnvelopeHeap {
  readonly #items: Envelope[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): Envelope | undefined {
    return this.#items[0];
  }

  push(e: Envelope): void {
    const items = this.#items;
    items.push(e);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Envelope | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && before(items[l]!, items[m]!)) m = l;
      if (r < items.length && before(items[r]!, items[m]!)) m = r;
      if (m === i) break;
      [items[i], items[m]] = [items[m]!, items[i]!];
      i = m;
    }
    return top;
  }

  clear(): void {
    this.#items.length = 0;
  }
}

export class SimNetwork {
  readonly #prng: Prng;
  readonly #queue = new EnvelopeHeap();
  readonly #cut = new Set<number>();
  #noise: NoiseSettings = CALM_NOISE;
  #seq = 0;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, duplicated: 0 };
  /** Called for every message that will never arrive (the simulator reports snapshots and unreachability). */
  onDrop: (e: Envelope, reason: DropReason) => void = () => {};

  constructor(prng: Prng) {
    this.#prng = prng;
  }

  get noise(): NoiseSettings {
    return this.#noise;
  }

  set noise(settings: NoiseSettings) {
    this.#noise = settings;
  }

  get inFlight(): number {
    return this.#queue.size;
  }

  /** Puts a message on the wire at tick `now`. */
  send(message: Message, senderLife: number, now: number): void {
    this.stats.sent++;
    if (this.isCut(message.from, message.to)) {
      this.stats.cut++;
      this.onDrop(this.#envelope(message, senderLife, now), 'partition');
      return;
    }
    if (this.#prng.chance(this.#noise.dropRate)) {
      this.stats.lost++;
      this.onDrop(this.#envelope(message, senderLife, now), 'loss');
      return;
    }
    this.#queue.push(this.#envelope(message, senderLife, now));
    if (this.#prng.chance(this.#noise.duplicateRate)) {
      this.stats.duplicated++;
      this.#queue.push(this.#envelope(message, senderLife, now));
    }
  }

  #envelope(message: Message, senderLife: number, now: number): Envelope {
    const n = this.#noise;
    const delay = n.delayTicksMax > 0 && this.#prng.chance(n.delayRate) ? this.#prng.range(1, n.delayTicksMax) : 0;
    return { message, senderLife, deliverAt: now + delay, order: this.#prng.nextU32(), seq: this.#seq++ };
  }

  /**
   * The next message due at or before `now` whose link is open, or undefined. Messages whose
   * link was cut while they were in flight are dropped here.
   */
  takeDue(now: number): Envelope | undefined {
    for (;;) {
      const head = this.#queue.peek();
      if (head === undefined || head.deliverAt > now) return undefined;
      this.#queue.pop();
      if (this.isCut(head.message.from, head.message.to)) {
        this.stats.cut++;
        this.onDrop(head, 'partition');
        continue;
      }
      this.stats.delivered++;
      return head;
    }
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.#cut.size > 0 && this.#cut.has(linkKey(from, to));
  }

  /** Cuts the link from `from` to `to` only (one-way). */
  cutOneWay(from: NodeId, to: NodeId): void {
    if (from !== to) this.#cut.add(linkKey(from, to));
  }

  cut(a: NodeId, b: NodeId): void {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
  }

  /** Cuts every link between different groups (nodes in no group keep all their links). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) for (const b of groups[j]!) this.cutOneWay(a, b);
      }
    }
  }

  /** Cuts `id` off from every node in `others`, both ways. */
  isolate(id: NodeId, others: readonly NodeId[]): void {
    for (const o of others) this.cut(id, o);
  }

  healLinks(): void {
    this.#cut.clear();
  }

  /** Restores every link to and from `id`. */
  reconnect(id: NodeId): void {
    for (const key of [...this.#cut]) {
      if (Math.floor(key / LINK_KEY_SPAN) === id || key % LINK_KEY_SPAN === id) this.#cut.delete(key);
    }
  }

  get cutLinks(): number {
    return this.#cut.size;
  }
}
