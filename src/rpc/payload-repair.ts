// Payload repair: a page whose own payload copy is damaged (bit rot in a blob file, found by its
// crc32c) is never served - every read verifies and answers KVC_CHECKSUM_MISMATCH - and is
// repaired from a peer's copy. After every start the member scrubs its blob payloads in the
// background, one at a time (PageStore.scrubBlobs); each damaged page is fetched from the other
// members in turn with GetPages (the client library verifies the copy's crc32c), and the store
// keeps it only when its length and crc32c match the page's own metadata (pages are immutable),
// appended anew, its ref swapped (PageStore.repairPayload). Nothing replicated changes, so the
// digest does not. A page no peer can serve yet is tried again after REPAIR_RETRY_MS, for at most
// REPAIR_ROUNDS_MAX rounds; a page deleted meanwhile needs nothing.
import { KvcClient } from '../client/index.js';
import type { ClusterNode } from '../node/index.js';

/** Rounds over the damaged pages before the repair gives up (and says so in the log). */
export const REPAIR_ROUNDS_MAX = 60;
export const REPAIR_RETRY_MS = 1_000;
/** One peer's answer for one page. */
const FETCH_DEADLINE_MS = 5_000;

export interface PayloadRepairOptions {
  node: ClusterNode;
  /** The other members' addresses, as of now. */
  peers: () => string[];
  log: (line: string) => void;
}

export class PayloadRepair {
  readonly #o: PayloadRepairOptions;
  #stopped = false;
  #done: Promise<void> | undefined;
  /** Pages repaired since the start, for tests and the log. */
  repaired = 0;

  constructor(o: PayloadRepairOptions) {
    this.#o = o;
  }

  /** Starts the scrub and the repair in the background; `stop()` ends them. */
  start(): void {
    this.#done ??= this.#run().catch((error: unknown) => {
      if (!this.#stopped) this.#o.log(`payload scrub failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Resolves when the scrub and repair have ended (done, given up or stopped). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #run(): Promise<void> {
    const damaged = await this.#o.node.scrubBlobs();
    if (this.#stopped) return;
    if (damaged.length === 0) {
      this.#o.log('payload scrub: every blob payload matches its crc32c');
      return;
    }
    this.#o.log(`payload scrub: ${damaged.length} page(s) with a damaged blob payload; never served, repairing from peers`);
    let pending = damaged;
    let gone = 0;
    for (let round = 0; round < REPAIR_ROUNDS_MAX && pending.length > 0 && !this.#stopped; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, REPAIR_RETRY_MS));
      const left: typeof pending = [];
      for (const page of pending) {
        if (this.#stopped) return;
        const outcome = await this.#repairOne(page.ns, page.key);
        if (outcome === 'repaired') this.repaired++;
        else if (outcome === 'gone') gone++;
        else left.push(page);
      }
      pending = left;
    }
    if (this.#stopped) return;
    const summary = `${this.repaired} repaired from peers, ${gone} removed meanwhile`;
    if (pending.length === 0) this.#o.log(`payload repair: done, ${summary}`);
    else this.#o.log(`payload repair: gave up on ${pending.length} page(s) after ${REPAIR_ROUNDS_MAX} rounds (${summary}); they stay unserved`);
  }

  /** Tries every peer in turn; 'failed' when none had a good copy now. */
  async #repairOne(ns: string, key: Uint8Array): Promise<'repaired' | 'gone' | 'failed'> {
    for (const address of this.#o.peers()) {
      const data = await fetchPage(address, ns, key).catch(() => undefined);
      if (data === undefined) continue;
      const outcome = await this.#o.node.repairPayload(ns, key, data);
      if (outcome !== 'mismatch') return outcome;
    }
    return 'failed';
  }
}

async function fetchPage(address: string, ns: string, key: Uint8Array): Promise<Uint8Array | undefined> {
  const client = new KvcClient({ endpoints: [address], retries: 0, deadlineMs: FETCH_DEADLINE_MS });
  try {
    for await (const page of client.getPages(ns, [key], { endpoint: address, allowPartial: true })) return page.data;
    return undefined;
  } finally {
    client.close();
  }
}
