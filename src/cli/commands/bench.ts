// `kvc bench`: put N pages with C in flight, get them all back (checking every byte), then time
// Lookups of chained keys from --lookup-concurrency callers at once (each caller one lookup at a
// time; 1 by default). Bounded by its counts: it stops by itself. Reports MB/s and pages/s for put
// and get and p50/p99 lookup latency, as a table or as JSON {"put": {"MBps", "pagesPerSec"},
// "get": {...}, "getWarm": {...}, "lookup": {"p50Ms", "p99Ms"}, "params": {..., "transfer",
// "lookupConcurrency", "lookupVia"}}. `--lookup-via shared-memory` answers the lookups from a
// same-host member's shared index (docs/CLIENT.md "Same-host lookups").
// `get` is the first read of every page (a member reads LevelDB and promotes the page into its
// memory tier). The client spreads reads over the members, so a page is in every member's tier
// only once each member has served it: `getWarm` times the rounds after the first one per
// endpoint (--get-rounds in all), which the tiers serve. `--transfer shared-memory` reads through
// the members' shared arenas where this process is on their host (docs/CLIENT.md); a member it
// cannot read that way is streamed, and a line on stderr says which and why.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { formatBytes, parseByteSize } from '../../config/index.js';
import { LIMITS } from '../../limits.js';
import type { KvcClient, PageInput, Transfer } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, integerIn, type ConnectionOptions } from '../options.js';
import { megabytesPerSecond, printJson, printLine, renderTable, round } from '../output.js';
import { ProgressBar, progressEnabled } from '../progress-bar.js';

const DEFAULT_PAGE_BYTES = 2 * 1024 * 1024;
const DEFAULT_PAGES = 100;
const PAGES_MAX = 100_000;
const DEFAULT_CONCURRENCY = 8;
const CONCURRENCY_MAX = 256;
const DEFAULT_LOOKUPS = 1_000;
/** Read rounds over all pages: the first is cold; those after one per endpoint measure the memory tier. */
const DEFAULT_GET_ROUNDS = 5;
const GET_ROUNDS_MAX = 100;
const LOOKUPS_MAX = 1_000_000;
/** Callers looking up at once; 100 is what an engine's scheduler may have waiting (issue 12). */
const DEFAULT_LOOKUP_CONCURRENCY = 1;
const LOOKUP_CONCURRENCY_MAX = 1_000;
/** Keys per timed Lookup: a prompt of 16 blocks (256 tokens in 16-token pages). */
const LOOKUP_CHAIN_KEYS = 16;
/** Distinct payloads cycled over the pages: enough to defeat caching of one buffer, little memory. */
const PAYLOAD_POOL_SIZE = 16;
/** Bench keys: 8 random bytes of the run, then the page number. */
const KEY_BYTES = 16;

interface BenchOptions extends ConnectionOptions {
  pageBytes: number;
  pages: number;
  concurrency: number;
  lookups: number;
  lookupConcurrency: number;
  getRounds: number;
  ns: string;
  keep?: boolean;
  transfer: Transfer;
  lookupVia: Transfer;
  progress?: boolean;
}

interface Phase {
  pages: number;
  bytes: number;
  elapsedMs: number;
}

export interface BenchResult {
  put: { MBps: number; pagesPerSec: number };
  get: { MBps: number; pagesPerSec: number };
  /** Read rounds after the first one per endpoint (null when --get-rounds leaves none). */
  getWarm: { MBps: number; pagesPerSec: number } | null;
  lookup: { p50Ms: number; p99Ms: number; keysPerLookup: number; lookups: number };
  params: {
    pageBytes: number;
    pages: number;
    concurrency: number;
    getRounds: number;
    lookupConcurrency: number;
    transfer: Transfer;
    lookupVia: Transfer;
    endpoints: string[];
  };
}

function parseTransfer(text: string): Transfer {
  if (text !== 'grpc' && text !== 'shared-memory') throw new InvalidArgumentError(`expected grpc or shared-memory, got "${text}"`);
  return text;
}

function parsePageBytes(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < 1 || bytes > LIMITS.page.bytesMax) {
    throw new InvalidArgumentError(`expected a size from 1 to ${LIMITS.page.bytesMax} bytes (e.g. 2MiB), got "${text}"`);
  }
  return bytes;
}

export function registerBench(program: Command): void {
  addConnectionOptions(program.command('bench').description('measure put and get throughput and lookup latency'))
    .option('--page-bytes <size>', 'payload bytes per page (e.g. 2MiB)', parsePageBytes, DEFAULT_PAGE_BYTES)
    .option('--pages <n>', 'pages to put and get', integerIn(1, PAGES_MAX), DEFAULT_PAGES)
    .option('--concurrency <n>', 'requests in flight', integerIn(1, CONCURRENCY_MAX), DEFAULT_CONCURRENCY)
    .option('--lookups <n>', 'timed lookups in all', integerIn(1, LOOKUPS_MAX), DEFAULT_LOOKUPS)
    .option('--lookup-concurrency <n>', 'callers looking up at once, each one lookup at a time', integerIn(1, LOOKUP_CONCURRENCY_MAX), DEFAULT_LOOKUP_CONCURRENCY)
    .option('--get-rounds <n>', 'times every page is read; the rounds after one per endpoint are timed as memory-tier reads', integerIn(1, GET_ROUNDS_MAX), DEFAULT_GET_ROUNDS)
    .option('--ns <namespace>', 'namespace to write into', 'bench')
    .option('--keep', 'keep the pages (default: drop the namespace afterwards)')
    .option('--transfer <how>', 'how gets receive page bytes: grpc, or shared-memory (same host)', parseTransfer, 'grpc' as Transfer)
    .option('--lookup-via <how>', "where lookups are answered: grpc, or shared-memory (a same-host member's shared index, no call)", parseTransfer, 'grpc' as Transfer)
    .option('--progress', 'draw progress on stderr even when it is not a terminal (default: only on one, and not with --json)')
    .action(async (o: BenchOptions) => {
      const result = await withClient(o, (client) => bench(client, o), { lookupVia: o.lookupVia });
      if (o.json) printJson(result);
      else printResult(result);
    });
}

async function bench(client: KvcClient, o: BenchOptions): Promise<BenchResult> {
  const run = randomBytes(8);
  const keys = Array.from({ length: o.pages }, (_, i) => {
    const key = new Uint8Array(KEY_BYTES);
    key.set(run, 0);
    new DataView(key.buffer).setUint32(KEY_BYTES - 4, i);
    return key;
  });
  const payloads = Array.from({ length: Math.min(PAYLOAD_POOL_SIZE, o.pages) }, () => randomFillSync(new Uint8Array(o.pageBytes)));
  await client.status(); // Connects before the clock starts.
  if (o.transfer === 'shared-memory') await reportSharedMemory(client, o.endpoints);
  if (o.lookupVia === 'shared-memory') {
    const problem = await client.sharedLookupProblem();
    if (problem !== '') process.stderr.write(`kvc bench: lookups go over gRPC, not a shared index: ${problem}\n`);
  }
  const put = await putPhase(client, o, keys, payloads);
  const get = await getPhase(client, o, keys, payloads);
  const warm: Phase = { pages: 0, bytes: 0, elapsedMs: 0 };
  for (let round = 1; round < o.getRounds; round++) {
    const phase = await getPhase(client, o, keys, payloads);
    if (round < o.endpoints.length) continue; // some member still reads a page for the first time
    warm.pages += phase.pages;
    warm.bytes += phase.bytes;
    warm.elapsedMs += phase.elapsedMs;
  }
  const latenciesMs = await lookupPhase(client, o, keys);
  if (!o.keep) {
    await client.dropNamespace(o.ns).catch((error: Error) => process.stderr.write(`kvc bench: could not drop namespace ${o.ns}: ${error.message}\n`));
  }
  const rates = (p: Phase) => ({ MBps: round(megabytesPerSecond(p.bytes, p.elapsedMs), 1), pagesPerSec: round(p.pages / (p.elapsedMs / 1000), 1) });
  return {
    put: rates(put),
    get: rates(get),
    getWarm: warm.pages > 0 ? rates(warm) : null,
    lookup: { p50Ms: round(percentile(latenciesMs, 0.5), 3), p99Ms: round(percentile(latenciesMs, 0.99), 3), keysPerLookup: Math.min(LOOKUP_CHAIN_KEYS, o.pages), lookups: o.lookups },
    params: {
      pageBytes: o.pageBytes,
      pages: o.pages,
      concurrency: o.concurrency,
      getRounds: o.getRounds,
      lookupConcurrency: o.lookupConcurrency,
      transfer: o.transfer,
      lookupVia: o.lookupVia,
      endpoints: o.endpoints,
    },
  };
}

/** One stderr line per member that shared-memory reads cannot use (those reads are streamed). */
async function reportSharedMemory(client: KvcClient, endpoints: string[]): Promise<void> {
  for (const endpoint of endpoints) {
    const problem = await client.sharedMemoryProblem(endpoint);
    if (problem !== '') process.stderr.write(`kvc bench: ${endpoint} is read over gRPC, not shared memory: ${problem}\n`);
  }
}

function rateDetail(pageBytes: number): (done: number, elapsedMs: number) => string {
  return (done, elapsedMs) => `${round(megabytesPerSecond(done * pageBytes, elapsedMs), 1)} MB/s`;
}

async function putPhase(client: KvcClient, o: BenchOptions, keys: Uint8Array[], payloads: Uint8Array[]): Promise<Phase> {
  const bar = new ProgressBar({ label: 'put', total: keys.length, enabled: progressEnabled(o), detail: rateDetail(o.pageBytes) });
  const start = performance.now();
  await forEachConcurrently(keys.length, o.concurrency, async (i) => {
    const page: PageInput = {
      meta: { namespace: o.ns, key: keys[i]!, dtype: 'u8', shape: [o.pageBytes], tokens: LOOKUP_CHAIN_KEYS, ...(i > 0 ? { parentKey: keys[i - 1]! } : {}) },
      data: payloads[i % payloads.length]!,
    };
    const [outcome] = await client.putPages([page]);
    if (outcome && outcome.code !== '') throw new CliError(`put of page ${i} failed: ${outcome.code}: ${outcome.message}`);
    bar.tick();
  });
  const elapsedMs = performance.now() - start;
  bar.finish();
  return { pages: keys.length, bytes: keys.length * o.pageBytes, elapsedMs };
}

async function getPhase(client: KvcClient, o: BenchOptions, keys: Uint8Array[], payloads: Uint8Array[]): Promise<Phase> {
  const bar = new ProgressBar({ label: 'get', total: keys.length, enabled: progressEnabled(o), detail: rateDetail(o.pageBytes) });
  const buffers = Array.from({ length: o.concurrency }, () => new Uint8Array(o.pageBytes));
  const start = performance.now();
  await forEachConcurrently(keys.length, o.concurrency, async (i, worker) => {
    const target = buffers[worker]!;
    const { bytes } = await client.getPagesInto(o.ns, [keys[i]!], target, { transfer: o.transfer });
    const expected = payloads[i % payloads.length]!;
    if (bytes !== expected.byteLength || Buffer.compare(target, expected) !== 0) {
      throw new CliError(`page ${i} came back different from what was put (${bytes} bytes)`);
    }
    bar.tick();
  });
  const elapsedMs = performance.now() - start;
  bar.finish();
  return { pages: keys.length, bytes: keys.length * o.pageBytes, elapsedMs };
}

async function lookupPhase(client: KvcClient, o: BenchOptions, keys: Uint8Array[]): Promise<number[]> {
  const bar = new ProgressBar({ label: 'lookup', total: o.lookups, enabled: progressEnabled(o) });
  const chain = Math.min(LOOKUP_CHAIN_KEYS, keys.length);
  const latenciesMs: number[] = [];
  // Each caller takes the next lookup when its previous one answered, as an engine's request
  // handlers would; the windows are made before the clock starts.
  const windows = Array.from({ length: keys.length - chain + 1 }, (_, first) => keys.slice(first, first + chain));
  await forEachConcurrently(o.lookups, o.lookupConcurrency, async (i) => {
    const window = windows[(i * chain) % windows.length]!;
    const start = performance.now();
    const matched = await client.lookup(o.ns, window);
    latenciesMs.push(performance.now() - start);
    if (matched !== chain) throw new CliError(`lookup ${i} matched ${matched} of ${chain} stored keys`);
    bar.tick();
  });
  bar.finish();
  return latenciesMs;
}

/** Runs `task(i, worker)` for i in [0, count) with at most `concurrency` running at once. */
export async function forEachConcurrently(count: number, concurrency: number, task: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (w: number): Promise<void> => {
    try {
      while (next < count && !failed) await task(next++, w);
    } catch (error) {
      failed = true; // The other workers stop taking work; the first failure is reported.
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
}

/** The value below which a fraction `q` of `values` lie (nearest rank). */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function printResult(r: BenchResult): void {
  const { params } = r;
  printLine(
    `kvc bench: ${params.pages} pages of ${formatBytes(params.pageBytes)}, ${params.concurrency} in flight, gets over ${params.transfer}, ` +
      `${params.lookupConcurrency} lookup caller(s) over ${params.lookupVia}, against ${params.endpoints.join(',')}`,
  );
  printLine();
  const right = 'right' as const;
  printLine(
    renderTable(
      [{ header: 'PHASE' }, { header: 'MB/s', align: right }, { header: 'PAGES/s', align: right }, { header: 'p50 ms', align: right }, { header: 'p99 ms', align: right }],
      [
        ['put', String(r.put.MBps), String(r.put.pagesPerSec), '-', '-'],
        ['get (first read)', String(r.get.MBps), String(r.get.pagesPerSec), '-', '-'],
        ...(r.getWarm === null ? [] : [['get (memory tier)', String(r.getWarm.MBps), String(r.getWarm.pagesPerSec), '-', '-']]),
        [`lookup (${r.lookup.keysPerLookup} keys)`, '-', '-', String(r.lookup.p50Ms), String(r.lookup.p99Ms)],
      ],
    ),
  );
}
