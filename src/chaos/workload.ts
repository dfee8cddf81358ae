// The chaos workload: `clients` concurrent clients, each running one operation at a time over a
// small key space in one namespace: puts of unique pages (4 KiB to 2 MiB, mostly small, bytes from
// a seeded generator and stamped with the client and sequence number, so no two puts write the
// same bytes), gets (any replica), linearizable lookups (ReadIndex) and deletes. Every operation
// is recorded in the history (history.ts) at invocation and completed with its outcome. Half the
// gets read over same-host shared memory (the members share their arenas): the page's place in
// the member's arena under a lease, copied from the client's own mapping, or streamed when that
// cannot be; the client checks every copy, and a copy it refuses is counted on the operation.
//
// One recorded operation is one logical request with AT MOST ONE effect. A write is retried only
// after an answer that proves the attempt had no effect (a follower's redirect, "no leader yet",
// a connection that could not be made); after an attempt whose effect is uncertain (a timeout, a
// dropped connection, "leadership lost") the operation ends as `unknown`. Retrying there would
// risk a second effect (a put applied, deleted by another client, then applied again) that no
// single operation in the history could explain.
//
// Leader hints (`kvcache-leader`) come from the answering member's address book, whose entries
// for its peers are the harness's proxies: every hint is mapped back to the member it leads to
// and that member's real address is used. A member that just timed out is avoided for a moment
// (a paused leader would otherwise swallow every client's next attempt too).
import { createHash } from 'node:crypto';
import { crc32c } from '../codec/index.js';
import { KvcClient, isKvcClientError, type PageInput, type Transfer } from '../client/index.js';
import { Prng } from '../sim/index.js';
import { sleep } from './cluster.js';
import { hex } from './checkers/common.js';
import type { OpKind, Operation, PageValue } from './history.js';

export const WORKLOAD_NAMESPACE = 'chaos/model';
/** A small key space, so that operations on one key overlap and the register checks mean something. */
export const WORKLOAD_KEYS = 24;
const KEY_BYTES = 16;
/** Deadline of one attempt; a put of 2 MiB replicated to five fsyncing members fits easily. */
export const ATTEMPT_DEADLINE_MS = 2_500;
/** A whole operation (its refused attempts and backoffs included) gives up after this. */
export const OPERATION_BUDGET_MS = 6_000;
/** Pause between a client's operations: keeps the history small enough for the checker. */
export const THINK_MS_MAX = 20;
/** How long a member that timed out is passed over for writes. */
const SUSPECT_MS = 1_500;
const BACKOFF_MS_MIN = 30;
const BACKOFF_MS_MAX = 150;

/** Operation mix (weights). */
const MIX: readonly [OpKind, number][] = [
  ['put', 40],
  ['get', 20],
  ['lookup', 25],
  ['delete', 15],
];

/** Page sizes: [weight, min, max] bytes. Mostly small so runs stay fast; some up to 2 MiB. */
const SIZE_CLASSES: readonly [number, number, number][] = [
  [60, 4 * 1024, 32 * 1024],
  [30, 32 * 1024, 256 * 1024],
  [10, 256 * 1024, 2 * 1024 * 1024],
];

/** The mean size of a page the workload writes, from SIZE_CLASSES (about 169 KiB). */
export const PAGE_BYTES_MEAN =
  SIZE_CLASSES.reduce((sum, [weight, lo, hi]) => sum + (weight * (lo + hi)) / 2, 0) / SIZE_CLASSES.reduce((sum, [weight]) => sum + weight, 0);
/**
 * With a small budget, the key space is sized to hold this many budgets of pages at the mean size.
 * Puts outnumber deletes 40 to 15, so about three keys in four hold a page at any time: the pages
 * the workload keeps want about twice the budget, and evictions run for most of a run.
 */
export const BUDGET_KEY_SPACE_RATIO = 3;
/** The most keys a workload uses: the finals read every key from every member, one at a time. */
export const WORKLOAD_KEYS_MAX = 4_096;

/**
 * Keys for a run with `budgetBytes`: the default key space (24 keys of pages, about 4 MiB) never
 * reaches a budget of 32 MiB or more, so without more keys nothing would be evicted.
 */
export function keysForBudget(budgetBytes: number): number {
  const keys = Math.ceil((BUDGET_KEY_SPACE_RATIO * budgetBytes) / PAGE_BYTES_MEAN);
  return Math.min(WORKLOAD_KEYS_MAX, Math.max(WORKLOAD_KEYS, keys));
}

export interface WorkloadOptions {
  clients: number;
  seed: number;
  keys?: number;
  /** Member ids reads may go to (every configured member; one that is down fails fast). */
  members: number[];
  /** A member's real address. */
  addressOf: (id: number) => string;
  /** The member a (real or proxy) address leads to. */
  memberAt: (address: string) => number | undefined;
  /** The harness's clock. */
  now?: () => number;
}

/** What an attempt's failure says about the write's effect. */
type Failure = { effect: 'none'; leader?: number } | { effect: 'maybe' };

export class Workload {
  readonly operations: Operation[] = [];
  readonly keys: Uint8Array[];
  readonly #o: WorkloadOptions;
  readonly #now: () => number;
  readonly #clients = new Map<string, KvcClient>();
  readonly #suspectUntil = new Map<number, number>();
  #leader: number | undefined;
  #rotation = 0;
  #stopped = false;
  #running: Promise<void>[] = [];
  #lastOkWriteInvokeMs = -Infinity;

  constructor(o: WorkloadOptions) {
    this.#o = o;
    this.#now = o.now ?? (() => performance.now());
    this.keys = Array.from({ length: o.keys ?? WORKLOAD_KEYS }, (_, i) =>
      new Uint8Array(createHash('sha256').update(`kvc-chaos-key/${o.seed}/${i}`).digest().subarray(0, KEY_BYTES)),
    );
  }

  start(): void {
    const root = new Prng(this.#o.seed ^ 0x5eed);
    for (let c = 0; c < this.#o.clients; c++) this.#running.push(this.#client(c, root.fork()));
  }

  /** Stops issuing operations and waits for those in flight (each is bounded by OPERATION_BUDGET_MS). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /** Invocation time of the latest write that succeeded (-Infinity if none). */
  get lastOkWriteInvokeMs(): number {
    return this.#lastOkWriteInvokeMs;
  }

  async #client(client: number, prng: Prng): Promise<void> {
    let seq = 0;
    while (!this.#stopped) {
      const kind = weighted(prng, MIX);
      const keyIndex = prng.int(this.keys.length);
      const op: Operation = {
        id: this.operations.length,
        client,
        kind,
        ns: WORKLOAD_NAMESPACE,
        key: hex(this.keys[keyIndex]!),
        invokeMs: this.#now(),
        outcome: 'unknown',
      };
      this.operations.push(op);
      const key = this.keys[keyIndex]!;
      if (kind === 'put') await this.#put(op, key, makePage(prng, client, seq++, this.#o.seed));
      else if (kind === 'delete') await this.#delete(op, key);
      else if (kind === 'lookup') await this.#lookup(op, key, prng);
      else await this.#get(op, key, prng);
      op.completeMs ??= this.#now();
      if ((kind === 'put' || kind === 'delete') && op.outcome === 'ok') this.#lastOkWriteInvokeMs = Math.max(this.#lastOkWriteInvokeMs, op.invokeMs);
      await sleep(prng.int(THINK_MS_MAX + 1));
    }
  }

  async #put(op: Operation, key: Uint8Array, data: Uint8Array): Promise<void> {
    op.value = { crc32c: crc32c(data), bytes: data.byteLength };
    const page: PageInput = { meta: { namespace: WORKLOAD_NAMESPACE, key, dtype: 'u8', shape: [data.byteLength], tokens: 16 }, data };
    await this.#write(op, async (client) => {
      const [outcome] = await client.putPages([page], { deadlineMs: ATTEMPT_DEADLINE_MS });
      if (outcome === undefined || outcome.code === '') return { result: 'stored' as const };
      if (outcome.code === 'KVC_EXISTS_DIFFERENT') return { result: 'exists-different' as const };
      // The page was refused when applied (quota, size): certainly not stored.
      return { error: outcome.code };
    });
  }

  async #delete(op: Operation, key: Uint8Array): Promise<void> {
    await this.#write(op, async (client) => {
      await client.deletePages(WORKLOAD_NAMESPACE, [key]);
      return { result: 'deleted' as const };
    });
  }

  /**
   * Runs a write's attempts: to the leader hint, following redirects, backing off after other
   * refusals, until an answer, an uncertain failure, or the operation's budget.
   */
  async #write(op: Operation, attempt: (client: KvcClient) => Promise<{ result?: Operation['result']; error?: string }>): Promise<void> {
    const giveUpMs = op.invokeMs + OPERATION_BUDGET_MS;
    let target = this.#writeTarget();
    for (;;) {
      op.member = target;
      try {
        const answer = await attempt(this.#clientFor(target));
        this.#leader = target;
        if (answer.result !== undefined) {
          op.outcome = 'ok';
          op.result = answer.result;
        } else {
          op.outcome = 'fail';
          op.error = answer.error ?? 'refused';
        }
        return;
      } catch (error) {
        const failure = this.#classify(error, target);
        op.error = errorCode(error);
        if (failure.effect === 'maybe') {
          op.outcome = 'unknown';
          return;
        }
        if (this.#now() >= giveUpMs || this.#stopped) {
          op.outcome = 'fail';
          return;
        }
        if (failure.leader !== undefined && failure.leader !== target && !this.#suspect(failure.leader)) {
          target = failure.leader;
          continue;
        }
        this.#leader = undefined;
        await sleep(BACKOFF_MS_MIN + Math.floor(Math.random() * (BACKOFF_MS_MAX - BACKOFF_MS_MIN)));
        target = this.#writeTarget(target);
      }
    }
  }

  async #lookup(op: Operation, key: Uint8Array, prng: Prng): Promise<void> {
    const target = prng.pick(this.#o.members);
    op.member = target;
    try {
      const address = this.#o.addressOf(target);
      const matched = await this.#clientFor(target).lookup(WORKLOAD_NAMESPACE, [key], { linearizable: true, endpoint: address });
      op.outcome = 'ok';
      op.result = matched > 0 ? 'present' : 'absent';
    } catch (error) {
      // A read has no effect: a failed one is simply not an observation.
      op.outcome = 'fail';
      op.error = errorCode(error);
    }
  }

  async #get(op: Operation, key: Uint8Array, prng: Prng): Promise<void> {
    const target = prng.pick(this.#o.members);
    op.member = target;
    const transfer: Transfer = prng.int(2) === 0 ? 'shared-memory' : 'grpc';
    if (transfer === 'shared-memory') op.transfer = transfer;
    // Over shared memory, a client of this workload client's own: it runs one operation at a
    // time, so what its counters gained during this get is this get's.
    const client = this.#clientFor(target, transfer, transfer === 'shared-memory' ? op.client : undefined);
    const refusedBefore = client.sharedCopiesRefused;
    const copiesBefore = client.sharedCopies;
    try {
      const address = this.#o.addressOf(target);
      let read: PageValue | undefined;
      for await (const page of client.getPages(WORKLOAD_NAMESPACE, [key], { endpoint: address, allowPartial: true, deadlineMs: ATTEMPT_DEADLINE_MS })) {
        // The harness's own checksum of what arrived, not the one the member claims.
        read = { crc32c: crc32c(page.data), bytes: page.data.byteLength };
      }
      op.outcome = 'ok';
      op.result = read === undefined ? 'absent' : 'found';
      if (read !== undefined) op.read = read;
    } catch (error) {
      op.outcome = 'fail';
      op.error = errorCode(error);
    } finally {
      if (client.sharedCopies > copiesBefore) op.copied = true;
      if (client.sharedCopiesRefused > refusedBefore) op.copyRefused = true;
    }
  }

  /** What a failed write attempt at `target` says about its effect (see the header). */
  #classify(error: unknown, target: number): Failure {
    if (!isKvcClientError(error)) return { effect: 'maybe' };
    const message = error.message;
    if (error.code === 'KVC_DEADLINE_EXCEEDED' || error.code === 'KVC_UNAVAILABLE') this.#suspectUntil.set(target, this.#now() + SUSPECT_MS);
    const hinted = error.leader === undefined ? undefined : this.#o.memberAt(error.leader);
    // requireLeader()/propose() on a member that is not the leader: refused before proposing.
    if (error.code === 'KVC_NOT_LEADER' && message.includes('leader is member')) return { effect: 'none', ...(hinted === undefined ? {} : { leader: hinted }) };
    if (error.code === 'KVC_NO_LEADER' && /knows no leader yet|is starting|is stopped\b/.test(message)) return { effect: 'none' };
    // grpc-js's words for a call that never left this process (retry.ts relies on them too).
    if (error.code === 'KVC_UNAVAILABLE' && message.includes('No connection established')) return { effect: 'none' };
    return { effect: 'maybe' };
  }

  /** The leader hint if usable, else the next member in rotation (skipping `not` and suspects). */
  #writeTarget(not?: number): number {
    if (this.#leader !== undefined && this.#leader !== not && !this.#suspect(this.#leader)) return this.#leader;
    const members = this.#o.members;
    for (let i = 0; i < members.length; i++) {
      const candidate = members[this.#rotation++ % members.length]!;
      if (candidate !== not && !this.#suspect(candidate)) return candidate;
    }
    return members[this.#rotation++ % members.length]!;
  }

  #suspect(id: number): boolean {
    return (this.#suspectUntil.get(id) ?? -Infinity) > this.#now();
  }

  #clientFor(id: number, transfer: Transfer = 'grpc', owner?: number): KvcClient {
    const name = `${id}/${transfer}/${owner ?? 'shared'}`;
    let client = this.#clients.get(name);
    if (client === undefined) {
      // One endpoint, no retries of its own (not even while waiting out an election: the harness
      // classifies each attempt's error, and a later refusal must not hide an earlier attempt that
      // may have taken effect), no checksum check of streamed pages (the harness checks what
      // arrives; copies from shared memory the client checks whatever this says).
      client = new KvcClient({ endpoints: [this.#o.addressOf(id)], retries: 0, leaderWaitMs: 0, deadlineMs: ATTEMPT_DEADLINE_MS, verifyChecksums: false, transfer });
      this.#clients.set(name, client);
    }
    return client;
  }
}

function weighted<T>(prng: Prng, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((sum, [, weight]) => sum + weight, 0);
  let pick = prng.int(total);
  for (const [value, weight] of table) {
    if (pick < weight) return value;
    pick -= weight;
  }
  return table[table.length - 1]![0];
}

/** A unique page: seeded bytes, the first 16 stamped with seed, client and sequence number. */
export function makePage(prng: Prng, client: number, seq: number, seed: number): Uint8Array {
  const sizeClass = weighted(prng, SIZE_CLASSES.map(([weight, lo, hi]) => [[lo, hi] as const, weight] as const));
  const bytes = prng.range(sizeClass[0], sizeClass[1]);
  const data = new Uint8Array(bytes);
  const words = new Uint32Array(data.buffer, 0, bytes >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = prng.nextU32();
  for (let i = words.length * 4; i < bytes; i++) data[i] = prng.nextU32() & 0xff;
  const stamp = new DataView(data.buffer);
  stamp.setUint32(0, 0x6b766321); // "kvc!"
  stamp.setUint32(4, seed >>> 0);
  stamp.setUint32(8, client);
  stamp.setUint32(12, seq);
  return data;
}

function errorCode(error: unknown): string {
  if (isKvcClientError(error)) return error.code;
  return error instanceof Error ? error.message : String(error);
}

