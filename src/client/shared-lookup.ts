// Same-host lookups (docs/CLIENT.md "Same-host lookups"): a client with `lookupVia:
// 'shared-memory'` answers Lookup from a member's page index in shared memory (the member's side:
// src/store shared-lookup-index.ts; the layout: src/native shared-lookup.ts), with no call.
//
// Why: an engine asks Lookup on its scheduling path. Over gRPC one costs a round trip through two
// event loops (about 1 ms at p50 and 5-6 ms at p99 for one caller here, 23 ms at p99 for 100 at
// once); from shared memory it is a few hash probes (docs/BENCHMARKS.md, peers).
//
// Which member: the first of the client's endpoints whose Status lists a shared lookup index that
// this process can open and whose nonce matches (as for the shared arena: the same file, on this
// host, of the member's live run). Probing is never waited for: until a member is found, and
// whenever the index answers "busy" (the member was writing, retried a few times) or "retired"
// (the member replaced the file or stopped: probed again), the lookup goes over gRPC as before.
// The answer is that member's view, a batch at a time behind its log: what a non-linearizable
// Lookup of it answers.
//
// The member still learns what was looked up: matched keys count as accessed for eviction (a
// Lookup over gRPC marks them). Each distinct matched prefix is reported to the cluster at most
// once per ACCESS_REPORT_MS, in the background, as a Lookup whose answer nobody waits for.
//
// Cost: the keys are hashed and probed in one call into the addon (SharedLookupReader.matchKeys),
// only as far as the match goes.
import { createHash } from 'node:crypto';
import { SHARED_LOOKUP_RETIRED, SharedLookupReader } from '../native/index.js';
import type { StatusResponse__Output as StatusResponse } from '../proto/index.js';
import { PROBE_AGAIN_MS } from './shared-memory.js';

/** A matched prefix is reported as accessed at most this often. */
export const ACCESS_REPORT_MS = 1_000;
/**
 * Reports wait this long and go out together, in one batched Lookup call (lookup-batcher.ts): a
 * call costs the event loop far more than a same-host lookup, and sent one by one they were the
 * lookups' tail latency.
 */
export const REPORT_FLUSH_MS = 50;
/** Reports waiting at most; past it they are dropped (counted): eviction only learns less. */
const REPORTS_PENDING_MAX = 4_096;
/** Distinct prefixes remembered as reported; past it the memory starts afresh (reports repeat sooner). */
const REPORTED_MAX = 16_384;

/** Sends a Lookup of `keys` over gRPC (the client's batched path); its answer is not used. */
export type ReportAccess = (ns: string, keys: Uint8Array[]) => Promise<unknown>;

type Probe = { kind: 'index'; endpoint: string; reader: SharedLookupReader } | { kind: 'none'; why: string; untilMs: number };

export class SharedLookups {
  readonly #endpoints: () => readonly string[];
  readonly #status: (endpoint: string) => Promise<StatusResponse>;
  readonly #report: ReportAccess;
  #probe: Probe | undefined;
  /** The probe in progress, which others asking wait for rather than start their own. */
  #probing: Promise<void> | undefined;
  #reported = new Map<string, number>();
  #closed = false;
  #pendingReports: { ns: string; keys: Uint8Array[] }[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  /** Lookups answered here, those that went over gRPC because no index was usable or it was busy, reports dropped. */
  readonly counters = { answered: 0, fellBack: 0, busy: 0, reportsDropped: 0 };

  constructor(endpoints: () => readonly string[], status: (endpoint: string) => Promise<StatusResponse>, report: ReportAccess) {
    this.#endpoints = endpoints;
    this.#status = status;
    this.#report = report;
  }

  /** The longest stored prefix of `keys` in `ns` from the shared index, or undefined: ask over gRPC. */
  match(ns: string, keys: Uint8Array[]): number | undefined {
    const probe = this.#current();
    if (probe === undefined) {
      this.counters.fellBack++;
      return undefined;
    }
    const matched = probe.reader.matchKeys(ns, keys);
    if (matched === SHARED_LOOKUP_RETIRED) {
      // The member made a new file (its table grew) or stopped: Status names what is current.
      this.#forget(probe);
      this.counters.fellBack++;
      return undefined;
    }
    if (matched < 0) {
      this.counters.busy++;
      this.counters.fellBack++;
      return undefined;
    }
    this.counters.answered++;
    if (matched > 0) this.#noteAccess(ns, keys, matched);
    return matched;
  }

  /** The endpoint whose index answers, or why none does (tests, bench). */
  async describe(): Promise<{ endpoint: string } | { why: string }> {
    await this.#probeNow();
    const probe = this.#probe;
    if (probe?.kind === 'index') return { endpoint: probe.endpoint };
    return { why: probe?.why ?? 'not probed' };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    this.#pendingReports = [];
    if (this.#probe?.kind === 'index') this.#probe.reader.close();
    this.#probe = undefined;
  }

  #current(): Extract<Probe, { kind: 'index' }> | undefined {
    const probe = this.#probe;
    if (probe?.kind === 'index') return probe;
    if (this.#probing === undefined && (probe === undefined || Date.now() >= probe.untilMs)) void this.#probeNow();
    return undefined;
  }

  #forget(probe: Extract<Probe, { kind: 'index' }>): void {
    if (this.#probe === probe) this.#probe = undefined;
    probe.reader.close();
  }

  #probeNow(): Promise<void> {
    if (this.#closed || this.#probe?.kind === 'index') return Promise.resolve();
    this.#probing ??= (async () => {
      try {
        const found = await this.#find();
        if (this.#closed) {
          if (found.kind === 'index') found.reader.close();
          return;
        }
        this.#probe = found;
      } finally {
        this.#probing = undefined;
      }
    })();
    return this.#probing;
  }

  /** The first endpoint whose index this process can read, else why none. */
  async #find(): Promise<Probe> {
    const problems: string[] = [];
    for (const endpoint of this.#endpoints()) {
      const found = await this.#open(endpoint);
      if (found instanceof SharedLookupReader) return { kind: 'index', endpoint, reader: found };
      problems.push(`${endpoint}: ${found}`);
    }
    return { kind: 'none', why: problems.join('; ') || 'no endpoints', untilMs: Date.now() + PROBE_AGAIN_MS };
  }

  async #open(endpoint: string): Promise<SharedLookupReader | string> {
    let status: StatusResponse;
    try {
      status = await this.#status(endpoint);
    } catch (error) {
      return `Status failed: ${(error as Error).message}`;
    }
    const index = status.sharedLookup;
    if (index === undefined || index === null) return status.sharedLookupNote !== '' ? status.sharedLookupNote : 'the member keeps no shared lookup index';
    let reader: SharedLookupReader;
    try {
      reader = SharedLookupReader.open(index.path);
    } catch (error) {
      return (error as Error).message;
    }
    if (!createHash('sha256').update(reader.nonce).digest().equals(index.nonceSha256)) {
      reader.close();
      return `${index.path} has another nonce than the member's (another host, or a stale file)`;
    }
    return reader;
  }

  /** Reports `matched` as accessed, unless the same prefix was reported within ACCESS_REPORT_MS. */
  #noteAccess(ns: string, keys: Uint8Array[], matched: number): void {
    // A prefix is named by its length and last key: with chained keys (hashBlocks) the last key
    // stands for the whole prefix; where keys are not chained, two prefixes that share both only
    // share a report now and then.
    const lastKey = keys[matched - 1]!;
    const id = `${ns}\u0000${matched}\u0000${Buffer.from(lastKey.buffer, lastKey.byteOffset, lastKey.byteLength).toString('latin1')}`;
    const now = Date.now();
    const reportedAt = this.#reported.get(id);
    if (reportedAt !== undefined && now - reportedAt < ACCESS_REPORT_MS) return;
    if (this.#reported.size >= REPORTED_MAX) this.#reported = new Map();
    this.#reported.set(id, now);
    if (this.#pendingReports.length >= REPORTS_PENDING_MAX) {
      this.counters.reportsDropped++;
      return;
    }
    this.#pendingReports.push({ ns, keys: keys.slice(0, matched) });
    this.#flushTimer ??= setTimeout(() => this.#flushReports(), REPORT_FLUSH_MS).unref();
  }

  /** Sends the waiting reports in the same turn, so that the batcher puts them in as few calls as it may. */
  #flushReports(): void {
    this.#flushTimer = undefined;
    const reports = this.#pendingReports;
    this.#pendingReports = [];
    // Best effort: a report lost to a failover only leaves eviction a little less informed.
    for (const { ns, keys } of reports) this.#report(ns, keys).catch(() => undefined);
  }
}
