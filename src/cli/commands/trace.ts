// `kvc trace replay FILE`: replays a Mooncake-format request trace (trace-records.ts) against a
// running cluster, as an inference worker with a prefix cache would: per request, one Lookup of its
// chain of block keys, a GetPages of the matched prefix (every byte checked against the block's
// deterministic payload, trace-blocks.ts), and a PutPages of the blocks after it. Bounded: it stops
// when the requests are done. Reports the block hit ratio, throughput, lookup p99 and the pages the
// cluster evicted meanwhile, and with --offline the hit ratios of an infinite cache and of a plain
// LRU over the same requests (trace-offline.ts), as a table or as one JSON line
// {"requests","blockRefs","blockHits","hitRatio","requestsPerSec","getMBps","putMBps",
//  "evictedPages","putsRefused","lookupP99Ms","offline":{"infinite","lru","capacityBlocks"}|null}.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { formatBytes, parseByteSize } from '../../config/index.js';
import { LIMITS } from '../../limits.js';
import type { KvcClient, PageInput } from '../../client/index.js';
import { CliError, describeError } from '../cli-error.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, integerIn, type ConnectionOptions } from '../options.js';
import { megabytesPerSecond, printJson, printLine, renderTable, round } from '../output.js';
import { ProgressBar, progressEnabled } from '../progress-bar.js';
import { sleep } from '../stop-signal.js';
import { blockKey, blockPayload } from '../trace-blocks.js';
import { infiniteCacheHits, lruCacheHits } from '../trace-offline.js';
import { readTrace, TRACE_BLOCK_TOKENS, TRACE_REQUESTS_MAX, TraceFormatError, type TraceRequest } from '../trace-records.js';
import { forEachConcurrently, percentile } from './bench.js';

const DEFAULT_PAGE_BYTES = 64 * 1024;
/** Requests in flight at most: each holds its prefix pages in memory until they are checked. */
const CONCURRENCY_MAX = 64;
/** Fastest replay relative to the trace's clock (0 means no pacing at all). */
const SPEED_MAX = 1_000_000;
/** Blocks of the --offline LRU at most (its Map costs about 100 bytes a block). */
const OFFLINE_BLOCKS_MAX = 100_000_000;
const QUOTA_EXHAUSTED = 'KVC_QUOTA_EXHAUSTED';

interface TraceOptions extends ConnectionOptions {
  ns: string;
  pageBytes: number;
  limit?: number;
  concurrency: number;
  speed: number;
  offline?: number;
  keep?: boolean;
  progress?: boolean;
}

export interface TraceResult {
  requests: number;
  blockRefs: number;
  blockHits: number;
  hitRatio: number;
  requestsPerSec: number;
  getMBps: number;
  putMBps: number;
  evictedPages: number;
  putsRefused: number;
  lookupP99Ms: number;
  offline: { infinite: number; lru: number; capacityBlocks: number } | null;
}

/** Counters of one replay, shared by its workers. */
interface ReplayStats {
  blockRefs: number;
  blockHits: number;
  putsRefused: number;
  getBytes: number;
  putBytes: number;
  lookupMs: number[];
  get: BusyClock;
  put: BusyClock;
}

/**
 * The time during which at least one call of a kind was in flight. Throughput is bytes over this
 * time: with one request at a time it is the sum of the calls' wall times, and with several it does
 * not count overlapping calls twice (which would understate the rate) nor the time between calls
 * (lookups, payload generation, checking), which would understate it too.
 */
export class BusyClock {
  #inFlight = 0;
  #sinceMs = 0;
  #busyMs = 0;

  begin(): void {
    if (this.#inFlight++ === 0) this.#sinceMs = performance.now();
  }

  end(): void {
    if (--this.#inFlight === 0) this.#busyMs += performance.now() - this.#sinceMs;
  }

  get busyMs(): number {
    return this.#busyMs;
  }
}

function parsePageBytes(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < 1 || bytes > LIMITS.page.bytesMax) {
    throw new InvalidArgumentError(`expected a size from 1 to ${LIMITS.page.bytesMax} bytes (e.g. 64KiB), got "${text}"`);
  }
  return bytes;
}

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (text.trim() === '' || !Number.isFinite(speed) || speed < 0 || speed > SPEED_MAX) {
    throw new InvalidArgumentError(`expected a number from 0 (as fast as possible) to ${SPEED_MAX}, got "${text}"`);
  }
  return speed;
}

export function registerTrace(program: Command): void {
  const trace = program.command('trace').description('replay request traces against a cluster');
  addConnectionOptions(trace.command('replay').description('replay a Mooncake-format JSONL trace: lookup, get the cached prefix, put the rest'))
    .argument('<file>', 'trace, one {"timestamp","input_length","output_length","hash_ids"} object per line')
    .option('--ns <namespace>', 'namespace to replay into', 'trace')
    .option('--page-bytes <size>', 'payload bytes per 512-token block (e.g. 64KiB)', parsePageBytes, DEFAULT_PAGE_BYTES)
    .option('--limit <n>', 'replay only the first n requests', integerIn(1, TRACE_REQUESTS_MAX))
    .option('--concurrency <n>', 'requests in flight (1: in trace order, one at a time)', integerIn(1, CONCURRENCY_MAX), 1)
    .option('--speed <x>', "pace by the trace's timestamps x times faster (0: as fast as possible)", parseSpeed, 0)
    .option('--offline <blocks>', 'also compute the hit ratios of an infinite cache and of an LRU of this many blocks', integerIn(1, OFFLINE_BLOCKS_MAX))
    .option('--keep', 'keep the pages (default: drop the namespace afterwards, so the next replay starts cold)')
    .option('--progress', 'draw progress on stderr even when it is not a terminal (default: only on one, and not with --json)')
    .action(async (file: string, o: TraceOptions) => {
      const requests = await loadTrace(file, o.limit);
      const result = await withClient(o, (client) => replay(client, requests, o));
      if (o.json) printJson(result);
      else printResult(result, file, o);
    });
}

async function loadTrace(file: string, limit: number | undefined): Promise<TraceRequest[]> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    return await readTrace(lines, limit);
  } catch (error) {
    if (error instanceof TraceFormatError) throw new CliError(`${file} ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new CliError(`cannot read trace: ${(error as Error).message}`);
    throw error;
  } finally {
    lines.close();
  }
}

async function replay(client: KvcClient, requests: TraceRequest[], o: TraceOptions): Promise<TraceResult> {
  const stats: ReplayStats = { blockRefs: 0, blockHits: 0, putsRefused: 0, getBytes: 0, putBytes: 0, lookupMs: [], get: new BusyClock(), put: new BusyClock() };
  const evictedBefore = await evictedPages(client); // Also connects before the clock starts.
  const bar = new ProgressBar({
    label: 'replay',
    total: requests.length,
    enabled: progressEnabled(o),
    detail: () => `hit ratio ${round(stats.blockRefs === 0 ? 0 : stats.blockHits / stats.blockRefs, 3)}`,
  });
  const startMs = performance.now();
  const firstTimestampMs = requests[0]?.timestampMs ?? 0;
  await forEachConcurrently(requests.length, o.concurrency, async (i) => {
    const request = requests[i]!;
    const waitMs = o.speed === 0 ? 0 : startMs + (request.timestampMs - firstTimestampMs) / o.speed - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    await replayRequest(client, request, o, stats);
    bar.tick();
  });
  const elapsedMs = performance.now() - startMs;
  bar.finish();
  const evictedAfter = await evictedPages(client);
  if (!o.keep) {
    await client.dropNamespace(o.ns).catch((error: Error) => process.stderr.write(`kvc trace replay: could not drop namespace ${o.ns}: ${error.message}\n`));
  }
  return {
    requests: requests.length,
    blockRefs: stats.blockRefs,
    blockHits: stats.blockHits,
    hitRatio: stats.blockRefs === 0 ? 0 : stats.blockHits / stats.blockRefs,
    requestsPerSec: round(requests.length / (elapsedMs / 1000), 1),
    getMBps: round(megabytesPerSecond(stats.getBytes, stats.get.busyMs), 1),
    putMBps: round(megabytesPerSecond(stats.putBytes, stats.put.busyMs), 1),
    evictedPages: Math.max(0, evictedAfter - evictedBefore),
    putsRefused: stats.putsRefused,
    lookupP99Ms: round(percentile(stats.lookupMs, 0.99), 3),
    offline: offlineHitRatios(requests, o.offline),
  };
}

/** The most pages any member reports evicted: the counter is replicated, so members differ only by lag. */
async function evictedPages(client: KvcClient): Promise<number> {
  const { members } = await client.clusterStatus();
  if (members.length === 0) throw new CliError(`no member answered Status at ${client.endpoints().join(',')}`);
  return Math.max(...members.map((m) => m.evictedPages));
}

function offlineHitRatios(requests: TraceRequest[], capacityBlocks: number | undefined): TraceResult['offline'] {
  if (capacityBlocks === undefined) return null;
  const chains = requests.map((r) => r.hashIds);
  return { infinite: infiniteCacheHits(chains).hitRatio, lru: lruCacheHits(chains, capacityBlocks).hitRatio, capacityBlocks };
}

/** One request: Lookup its chain, read and check the matched prefix, put the blocks after it. */
async function replayRequest(client: KvcClient, request: TraceRequest, o: TraceOptions, stats: ReplayStats): Promise<void> {
  const keys = request.hashIds.map((id) => blockKey(o.ns, id));
  stats.blockRefs += keys.length;
  if (keys.length === 0) return;
  try {
    const lookupStartMs = performance.now();
    const matched = await client.lookup(o.ns, keys);
    stats.lookupMs.push(performance.now() - lookupStartMs);
    const served = matched === 0 ? 0 : await getPrefix(client, request, keys.slice(0, matched), o, stats);
    stats.blockHits += served;
    await putRest(client, request, keys, served, o, stats);
  } catch (error) {
    // The client's errors name the code and member; the request's line says where in the trace.
    if ((await import('../../client/index.js')).isKvcClientError(error)) throw new CliError(`request on line ${request.line}: ${describeError(error)}`);
    throw error;
  }
}

/**
 * Reads the matched prefix and checks every byte; returns how many blocks were served. A page
 * evicted between the Lookup and the get ends the read early (allowPartial), and the blocks from
 * there on are put again like any miss.
 */
async function getPrefix(client: KvcClient, request: TraceRequest, keys: Uint8Array[], o: TraceOptions, stats: ReplayStats): Promise<number> {
  const pages: Uint8Array[] = [];
  // The clock covers the call from its start to its last page, the client's crc32c checks
  // included; the comparison with the expected payloads below is ours, so it stays outside.
  stats.get.begin();
  try {
    for await (const page of client.getPages(o.ns, keys, { allowPartial: true })) pages.push(page.data);
  } finally {
    stats.get.end();
  }
  pages.forEach((data, i) => {
    const id = request.hashIds[i]!;
    stats.getBytes += data.byteLength;
    if (data.byteLength !== o.pageBytes || Buffer.compare(data, blockPayload(id, o.pageBytes)) !== 0) {
      throw new CliError(
        `request on line ${request.line}: block ${id} came back different from what was put (${data.byteLength} bytes, expected ${o.pageBytes}); ` +
          `does namespace ${o.ns} hold pages of another --page-bytes?`,
      );
    }
  });
  return pages.length;
}

/** Puts blocks [from, end) of the request, each chained to the block before it. */
async function putRest(client: KvcClient, request: TraceRequest, keys: Uint8Array[], from: number, o: TraceOptions, stats: ReplayStats): Promise<void> {
  if (from === keys.length) return;
  const pages: PageInput[] = [];
  for (let i = from; i < keys.length; i++) {
    pages.push({
      meta: { namespace: o.ns, key: keys[i]!, dtype: 'u8', shape: [o.pageBytes], tokens: TRACE_BLOCK_TOKENS, ...(i > 0 ? { parentKey: keys[i - 1]! } : {}) },
      data: blockPayload(request.hashIds[i]!, o.pageBytes),
    });
  }
  // The clock covers the PutPages call only: the payloads above are made before it starts.
  stats.put.begin();
  let outcomes;
  try {
    outcomes = await client.putPages(pages);
  } finally {
    stats.put.end();
  }
  stats.putBytes += pages.length * o.pageBytes;
  for (const [j, outcome] of outcomes.entries()) {
    if (outcome.code === QUOTA_EXHAUSTED) stats.putsRefused++;
    else if (outcome.code !== '') {
      throw new CliError(`request on line ${request.line}: put of block ${request.hashIds[from + j]} failed: ${outcome.code}: ${outcome.message}`);
    }
  }
}

function printResult(r: TraceResult, file: string, o: TraceOptions): void {
  const pacing = o.speed === 0 ? 'as fast as possible' : `at ${o.speed}x the trace's pace`;
  printLine(`kvc trace replay: ${r.requests} requests of ${file}, ${formatBytes(o.pageBytes)} per block, ${o.concurrency} in flight, ${pacing}, against ${o.endpoints.join(',')}`);
  printLine();
  const rows: string[][] = [
    ['requests', String(r.requests)],
    ['block refs', String(r.blockRefs)],
    ['block hits', String(r.blockHits)],
    ['hit ratio', String(round(r.hitRatio, 4))],
    ['requests/s', String(r.requestsPerSec)],
    ['get MB/s', String(r.getMBps)],
    ['put MB/s', String(r.putMBps)],
    ['lookup p99 ms', String(r.lookupP99Ms)],
    ['evicted pages', String(r.evictedPages)],
    ['puts refused', String(r.putsRefused)],
  ];
  if (r.offline !== null) {
    rows.push(['offline hit ratio, infinite cache', String(round(r.offline.infinite, 4))]);
    rows.push([`offline hit ratio, LRU of ${r.offline.capacityBlocks} blocks`, String(round(r.offline.lru, 4))]);
  }
  printLine(renderTable([{ header: 'FIGURE' }, { header: 'VALUE', align: 'right' }], rows));
}
