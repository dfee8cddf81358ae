// Payload repair: a page whose own payload copy is damaged (bit rot in a blob file or a LevelDB
// record, found by its crc32c) is never served - every read verifies and answers
// KVC_CHECKSUM_MISMATCH - and is repaired from a peer's copy. After every start the member scrubs
// its blob payloads in the background, one at a time (PageStore.scrubBlobs), and a read that finds
// a damaged page reports it (`report`). Each damaged page is fetched from the other members in
// turn with GetPages (the client library verifies the copy's crc32c), and the store keeps it only
// when its length and crc32c match the page's own metadata (pages are immutable), appended anew,
// its ref swapped (PageStore.repairPayload). Nothing replicated changes, so the digest does not.
// A page no peer can serve yet is tried again after LIMITS.repair.retryMs, for at most
// LIMITS.repair.roundsMax rounds; a page deleted meanwhile needs nothing.
import { KvcClient } from '../client/index.js';
import { LIMITS } from '../limits.js';
import type { ClusterNode } from '../node/index.js';

export interface PayloadRepairOptions {
  node: ClusterNode;
  /** The other members' addresses, as of now. */
  peers: () => string[];
  log: (line: string) => void;
  /**
   * The member's TLS identity when it serves TLS: the repair dials its peers with it, and a
   * member's certificate may read pages without a token (auth.ts authorize).
   */
  tls?: () => { ca: Buffer; cert: Buffer; key: Buffer };
}

interface DamagedPage {
  ns: string;
  key: Uint8Array;
}

export class PayloadRepair {
  readonly #o: PayloadRepairOptions;
  readonly #pending = new Map<string, DamagedPage>();
  #stopped = false;
  #scrub: Promise<void> | undefined;
  #draining: Promise<void> | undefined;
  /** Pages repaired since the start, for tests and the log. */
  repaired = 0;

  constructor(o: PayloadRepairOptions) {
    this.#o = o;
  }

  /** Starts the scrub, and the repair of what it finds, in the background; `stop()` ends them. */
  start(): void {
    this.#scrub ??= this.#scrubAndRepair().catch((error: unknown) => {
      if (!this.#stopped) this.#o.log(`payload scrub failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** A read found this page damaged: repair it (once per report while it waits). */
  report(ns: string, key: Uint8Array): void {
    if (this.#stopped || this.#pending.size >= LIMITS.repair.pendingMax) return;
    const id = `${ns}\u0000${Buffer.from(key).toString('hex')}`;
    if (this.#pending.has(id)) return;
    this.#pending.set(id, { ns, key });
    this.#o.log(`payload repair: a read found page ${Buffer.from(key).toString('hex')} in namespace ${ns} damaged; repairing from peers`);
    void this.#drain();
  }

  /** Resolves when the scrub and every repair so far have ended (done, given up or stopped). */
  async settled(): Promise<void> {
    await this.#scrub;
    while (this.#draining !== undefined) await this.#draining;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.settled();
  }

  async #scrubAndRepair(): Promise<void> {
    const damaged = await this.#o.node.scrubBlobs();
    if (this.#stopped) return;
    if (damaged.length === 0) {
      this.#o.log('payload scrub: every blob payload matches its crc32c');
      return;
    }
    this.#o.log(`payload scrub: ${damaged.length} page(s) with a damaged blob payload; never served, repairing from peers`);
    for (const page of damaged) this.#pending.set(`${page.ns}\u0000${Buffer.from(page.key).toString('hex')}`, page);
    await this.#drain();
  }

  #drain(): Promise<void> {
    this.#draining ??= this.#drainNow().finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  async #drainNow(): Promise<void> {
    let repaired = 0;
    let gone = 0;
    for (let round = 0; round < LIMITS.repair.roundsMax && this.#pending.size > 0 && !this.#stopped; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, LIMITS.repair.retryMs));
      for (const [id, page] of [...this.#pending]) {
        if (this.#stopped) return;
        const outcome = await this.#repairOne(page.ns, page.key);
        if (outcome === 'failed') continue;
        this.#pending.delete(id);
        if (outcome === 'repaired') repaired++;
        else gone++;
      }
    }
    if (this.#stopped) return;
    this.repaired += repaired;
    const summary = `${repaired} repaired from peers, ${gone} removed meanwhile`;
    if (this.#pending.size === 0) this.#o.log(`payload repair: done, ${summary}`);
    else this.#o.log(`payload repair: gave up on ${this.#pending.size} page(s) after ${LIMITS.repair.roundsMax} rounds (${summary}); they stay unserved`);
    this.#pending.clear();
  }

  /** Tries every peer in turn; 'failed' when none had a good copy now. */
  async #repairOne(ns: string, key: Uint8Array): Promise<'repaired' | 'gone' | 'failed'> {
    for (const address of this.#o.peers()) {
      const data = await fetchPage(address, ns, key, this.#o.tls?.()).catch(() => undefined);
      if (data === undefined) continue;
      const outcome = await this.#o.node.repairPayload(ns, key, data);
      if (outcome !== 'mismatch') return outcome;
    }
    return 'failed';
  }
}

async function fetchPage(address: string, ns: string, key: Uint8Array, tls?: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<Uint8Array | undefined> {
  const client = new KvcClient({ endpoints: [address], retries: 0, deadlineMs: LIMITS.repair.fetchDeadlineMs, ...(tls === undefined ? {} : { tls }) });
  try {
    for await (const page of client.getPages(ns, [key], { endpoint: address, allowPartial: true })) return page.data;
    return undefined;
  } finally {
    client.close();
  }
}
