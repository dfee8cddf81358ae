// The read side of the `peers` benchmark (issue 12 item 6), in one run on one machine: Redis (Debian's
// redis-server, started here; skipped with one line when it is not on PATH) GET and SET of 2 MiB
// values with 8 in flight, MGET of 16 of them, and EXISTS of 16 keys pipelined at 1 and 100
// concurrent callers; the ceilings (grpc-js streaming a static buffer between two processes, plain
// TCP, memcpy); and ours: GetPages of 2 MiB pages with 8 in flight from a `kvc dev` cluster of 3
// member processes, first read (LevelDB / blob files), from the memory tier, and over same-host
// shared memory one and 16 pages per call (oursOverSharedMemory: measured when every member's
// shared arena can be read from here), and Lookup of 16 keys at 1 and 100 concurrent callers
// (closed loop: each caller asks again once answered) and in rounds of 100 issued together (an
// inference scheduler asking for all its waiting requests at once), Redis's EXISTS beside each.
// Every loop is bounded in count and seconds.
import path from 'node:path';
import { KvcClient } from '../../src/client/index.js';
import { encodeLookupBatch } from '../../src/client/lookup-request.js';
import { startKvcDev, type KvcDevCluster } from './kvc-dev-cluster.js';
import { MIB, formatBytes, quantile, round, seconds, withTempDir } from './measure.js';
import { BENCH_NS, PageGenerator, benchPageKey } from './pages.js';
import { driveInflight, findOnPath, type InflightRun } from './peers-helpers.js';
import { cpuMeter, removingOnExit } from './processes.js';
import { memcpyCeiling, rawGrpcCeiling, rawTcpCeiling, startRawUnary } from './raw-ceilings.js';
import { redisVersion, startRedis, type RedisServer } from './redis-server.js';

export const READ_PAGE_BYTES = 2 * MIB;
const INFLIGHT = 8;
/** Pages stored (128 MiB): they fit every member's memory tier (256 MiB arena in `kvc dev`). */
const STORED_PAGES = 64;
/** Keys per Lookup / per EXISTS pipeline: a prompt of 16 blocks. */
const LOOKUP_KEYS = 16;
const LOOKUP_CONCURRENCIES = [1, 100];
/** Lookups per round of the "issued together" rows: all sent at once, the round ends when all are answered. */
const LOOKUPS_TOGETHER = 100;
/** The shapes of the lookup rows: callers in a closed loop, or rounds of lookups issued together. */
const CLOSED_LOOP = 'closed loop';
const TOGETHER = 'issued together';
/**
 * Pages per call of the batched reads (Redis MGET, ours over shared memory): an inference worker
 * reads a whole prefix at once; 16 pages of 2 MiB are a prompt of 16 blocks.
 */
const PAGES_PER_BATCH = 16;
/** Seconds per measured case unless --seconds says otherwise. */
export const DEFAULT_READ_SECONDS = 5;
/** Most calls per case, whatever the seconds. */
const READS_MAX = 4000;
const LOOKUPS_MAX = 20_000;
const RAW_BYTES_MAX = 16 * 1024 * MIB;
const BYTES_PER_MB = 1_000_000;
const MILLISECONDS_PER_SECOND = 1000;
const TOKENS_PER_PAGE = 16;

export type Row = Record<string, number | string>;

interface Bounds {
  durationMs: number;
}

/** A measured loop and the CPU it cost: the servers' (summed) and this process's (the client). */
interface Measured {
  run: InflightRun;
  serverCpuMs: number;
  clientCpuMs: number;
}

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / BYTES_PER_MB / seconds(ms);
}

/** CPU ms per MiB of `bytes` moved, server side and client side (NaN without bytes). */
function cpuPerMiB(bytes: number, cpu: { serverCpuMs: number; clientCpuMs: number }): Row {
  const mib = bytes / MIB;
  return { serverCpuMsPerMiB: round(cpu.serverCpuMs / mib, 2), clientCpuMsPerMiB: round(cpu.clientCpuMs / mib, 2) };
}

function readRow(system: string, what: string, m: Measured, pagesPerCall = 1): Row {
  const run = m.run;
  return {
    kind: 'read',
    system,
    what,
    pageBytes: READ_PAGE_BYTES,
    pagesPerCall,
    inflight: INFLIGHT,
    reads: run.puts,
    seconds: round(seconds(run.elapsedMs), 2),
    MBps: round(mbPerSecond(run.bytes, run.elapsedMs), 1),
    latencyMsP50: round(quantile(run.latenciesMs, 0.5), 2),
    latencyMsP99: round(quantile(run.latenciesMs, 0.99), 2),
    ...cpuPerMiB(run.bytes, m),
  };
}

function streamRow(system: string, what: string, bytes: number, elapsedMs: number): Row {
  return { kind: 'read', system, what, pageBytes: READ_PAGE_BYTES, bytes, seconds: round(seconds(elapsedMs), 2), MBps: round(mbPerSecond(bytes, elapsedMs), 1) };
}

function lookupRow(system: string, what: string, concurrency: number, m: Measured, shape = CLOSED_LOOP): Row {
  const run = m.run;
  return {
    kind: 'lookup',
    system,
    what,
    keys: LOOKUP_KEYS,
    shape,
    concurrency,
    calls: run.puts,
    callsPerSec: round(run.puts / seconds(run.elapsedMs), 0),
    latencyMsP50: round(quantile(run.latenciesMs, 0.5), 3),
    latencyMsP99: round(quantile(run.latenciesMs, 0.99), 3),
    serverCpuUsPerCall: round((m.serverCpuMs * 1000) / run.puts, 0),
    clientCpuUsPerCall: round((m.clientCpuMs * 1000) / run.puts, 0),
  };
}

/**
 * Runs `op(i)` with `inflight` at a time: a short warm-up (JIT, connections), then the measured
 * loop, metering the CPU of the server processes `pids` and of this one.
 */
export async function measured(
  op: (i: number) => Promise<void>,
  bytesPerOp: number,
  inflight: number,
  callsMax: number,
  b: Bounds,
  pids: number[],
  warmUpCalls = 2 * inflight,
): Promise<Measured> {
  await driveInflight(op, bytesPerOp, { first: 0, inflight, putsMax: warmUpCalls, durationMsMax: b.durationMs });
  const cpu = cpuMeter(pids);
  const run = await driveInflight(op, bytesPerOp, { first: 0, inflight, putsMax: callsMax, durationMsMax: b.durationMs });
  return { run, ...cpu() };
}

/**
 * Rounds of `together` calls of `op` issued at once (each round waits for all its answers): warm-up
 * rounds of `callsMax` calls, then rounds until `callsMax` calls or the seconds are spent. Each call's latency
 * runs from the round's start to its own answer; the CPU of `pids` and of this process is metered.
 */
export async function measuredRounds(op: (i: number) => Promise<void>, together: number, callsMax: number, b: Bounds, pids: number[]): Promise<Measured> {
  const latenciesMs: number[] = [];
  let next = 0;
  const round = async (record: boolean): Promise<void> => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: together }, async () => {
        await op(next++);
        if (record) latenciesMs.push(performance.now() - started);
      }),
    );
  };
  // Warm-up: as many calls as are measured (bounded by the seconds), as lookupShapes's loops do.
  const warmUpStarted = performance.now();
  while (next < callsMax && performance.now() - warmUpStarted < b.durationMs) await round(false);
  const cpu = cpuMeter(pids);
  const started = performance.now();
  while (latenciesMs.length < callsMax && performance.now() - started < b.durationMs) await round(true);
  const elapsedMs = performance.now() - started;
  return { run: { puts: latenciesMs.length, bytes: 0, elapsedMs, latenciesMs }, ...cpu() };
}

/**
 * `op` timed in every Lookup shape: closed loops of each of LOOKUP_CONCURRENCIES callers, then rounds
 * issued together. Each closed loop first runs as many calls as it measures (bounded by the
 * seconds): a same-host lookup takes microseconds, and a short warm-up left the JIT's first tiers in
 * its p99.
 */
async function lookupShapes(system: string, what: string, op: (i: number) => Promise<void>, b: Bounds, pids: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const concurrency of LOOKUP_CONCURRENCIES) rows.push(lookupRow(system, what, concurrency, await measured(op, 0, concurrency, LOOKUPS_MAX, b, pids, LOOKUPS_MAX)));
  rows.push(lookupRow(system, what, LOOKUPS_TOGETHER, await measuredRounds(op, LOOKUPS_TOGETHER, LOOKUPS_MAX, b, pids), TOGETHER));
  return rows;
}

async function measureRedis(redis: RedisServer, pages: PageGenerator, b: Bounds): Promise<Row[]> {
  const key = (i: number): string => `bench:${i % STORED_PAGES}`;
  const values = Array.from({ length: STORED_PAGES }, (_, i) => {
    const data = pages.payload(i);
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  });
  const set = await measured(async (i) => void (await redis.client.set(key(i), values[i % STORED_PAGES]!)), READ_PAGE_BYTES, INFLIGHT, READS_MAX, b, [redis.pid]);
  const get = await measured(
    async (i) => {
      const value = await redis.client.getBuffer(key(i));
      if (value?.byteLength !== READ_PAGE_BYTES) throw new Error(`redis GET ${key(i)} returned ${value?.byteLength} bytes`);
    },
    READ_PAGE_BYTES,
    INFLIGHT,
    READS_MAX,
    b,
    [redis.pid],
  );
  const batchKeys = (i: number): string[] => Array.from({ length: PAGES_PER_BATCH }, (_, k) => key(i * PAGES_PER_BATCH + k));
  const mget = await measured(
    async (i) => {
      const values = await redis.client.mgetBuffer(...batchKeys(i));
      if (values.length !== PAGES_PER_BATCH || values.some((value) => value?.byteLength !== READ_PAGE_BYTES)) throw new Error(`redis MGET of ${PAGES_PER_BATCH} keys returned short values`);
    },
    PAGES_PER_BATCH * READ_PAGE_BYTES,
    INFLIGHT,
    READS_MAX / PAGES_PER_BATCH,
    b,
    [redis.pid],
  );
  const rows = [readRow('redis', 'SET', set), readRow('redis', 'GET', get), readRow('redis', REDIS_MGET, mget, PAGES_PER_BATCH)];
  const exists = async (i: number): Promise<void> => {
    const pipeline = redis.client.pipeline();
    for (let k = 0; k < LOOKUP_KEYS; k++) pipeline.exists(key(i + k));
    const answers = await pipeline.exec();
    if (answers?.length !== LOOKUP_KEYS || answers.some(([error, found]) => error !== null || found !== 1)) throw new Error('redis EXISTS missed a stored key');
  };
  const what = `EXISTS × ${LOOKUP_KEYS}, pipelined`;
  rows.push(...(await lookupShapes('redis', what, exists, b, [redis.pid])));
  return rows;
}

async function measureCeilings(b: Bounds, progress: (line: string) => void): Promise<Row[]> {
  progress('peers read: raw grpc-js streaming between two processes');
  const grpc = await rawGrpcCeiling({ inflight: INFLIGHT, putsMax: READS_MAX, durationMsMax: b.durationMs });
  progress('peers read: raw TCP between two processes, memcpy');
  const tcp = await rawTcpCeiling(RAW_BYTES_MAX, b.durationMs);
  const memcpy = memcpyCeiling(RAW_BYTES_MAX, Math.min(b.durationMs, MILLISECONDS_PER_SECOND));
  progress('peers read: raw grpc-js unary round trips (the floor of a Lookup)');
  return [
    readRow('raw grpc-js', 'server stream of a static buffer, 1 MiB messages, to another process', grpc),
    { ...streamRow('raw TCP', 'one connection, another process', tcp.bytes, tcp.elapsedMs), ...cpuPerMiB(tcp.bytes, tcp) },
    streamRow('memcpy', 'Buffer.copy into a preallocated buffer', memcpy.bytes, memcpy.elapsedMs),
    ...(await rawUnaryRows(b)),
  ];
}

/** The request of one Lookup of LOOKUP_KEYS bench keys, as the client encodes it. */
function lookupRequestBytes(): number {
  const keys = Array.from({ length: LOOKUP_KEYS }, (_, k) => benchPageKey(k));
  return encodeLookupBatch({ ns: BENCH_NS, linearizable: false, leaseMs: 0, prompts: [keys] }).byteLength;
}

/** grpc-js unary round trips of a Lookup's size between two processes, in the shapes Lookup is measured in. */
async function rawUnaryRows(b: Bounds): Promise<Row[]> {
  const requestBytes = lookupRequestBytes();
  const raw = await startRawUnary(requestBytes);
  try {
    const what = `${RAW_UNARY} (${requestBytes}-byte request, 2-byte answer)`;
    const op = (): Promise<void> => raw.call();
    return await lookupShapes('raw grpc-js', what, op, b, [raw.pid]);
  } finally {
    await raw.stop();
  }
}

async function fill(client: KvcClient, pages: PageGenerator): Promise<void> {
  const put = async (i: number): Promise<void> => {
    const meta = {
      namespace: BENCH_NS,
      key: benchPageKey(i),
      dtype: 'u8' as const,
      shape: [READ_PAGE_BYTES],
      tokens: TOKENS_PER_PAGE,
      ...(i > 0 ? { parentKey: benchPageKey(i - 1) } : {}),
    };
    const [outcome] = await client.putPages([{ meta, data: pages.payload(i) }]);
    if (outcome === undefined || outcome.code !== '') throw new Error(`put ${i} refused: ${outcome?.code} ${outcome?.message}`);
  };
  await driveInflight(put, READ_PAGE_BYTES, { first: 0, inflight: INFLIGHT, putsMax: STORED_PAGES, durationMsMax: Number.POSITIVE_INFINITY });
}

/** Reads of page i % STORED_PAGES into one of `INFLIGHT` preallocated buffers; the client verifies each crc32c. */
function pageReader(client: KvcClient, endpoint?: string): (i: number) => Promise<void> {
  const targets = Array.from({ length: INFLIGHT }, () => new Uint8Array(READ_PAGE_BYTES));
  const options = endpoint === undefined ? {} : { endpoint };
  return async (i) => {
    const { bytes } = await client.getPagesInto(BENCH_NS, [benchPageKey(i % STORED_PAGES)], targets[i % INFLIGHT]!, options);
    if (bytes !== READ_PAGE_BYTES) throw new Error(`GetPages of page ${i} returned ${bytes} bytes`);
  };
}

/**
 * Ours over same-host shared memory (issue 12 item 3): GetPages answered with places in the
 * members' shared arenas, copied from the client's read-only mappings and crc32c-checked, one
 * page per call and PAGES_PER_BATCH per call (as Redis GET and MGET). Only measured when every
 * member can be read that way from here (sharedMemoryProblem() is empty for each), so a streamed
 * fallback is never labelled shared memory; otherwise skipped with why.
 */
export async function oursOverSharedMemory(cluster: KvcDevCluster, b: Bounds): Promise<{ rows: Row[] } | { skipped: string }> {
  const problems = await Promise.all(cluster.endpoints.map(async (endpoint) => [endpoint, await cluster.client.sharedMemoryProblem(endpoint)] as const));
  const unusable = problems.filter(([, problem]) => problem !== '');
  if (unusable.length > 0) return { skipped: `ours over shared memory: not measured: ${unusable.map(([endpoint, problem]) => `${endpoint}: ${problem}`).join('; ')}` };
  const rows: Row[] = [];
  for (const pagesPerCall of [1, PAGES_PER_BATCH]) {
    const callBytes = pagesPerCall * READ_PAGE_BYTES;
    const targets = Array.from({ length: INFLIGHT }, () => new Uint8Array(callBytes));
    const read = async (i: number): Promise<void> => {
      const keys = Array.from({ length: pagesPerCall }, (_, k) => benchPageKey((i * pagesPerCall + k) % STORED_PAGES));
      const { bytes } = await cluster.client.getPagesInto(BENCH_NS, keys, targets[i % INFLIGHT]!, { transfer: 'shared-memory' });
      if (bytes !== callBytes) throw new Error(`GetPages over shared memory of call ${i} returned ${bytes} bytes`);
    };
    const m = await measured(read, callBytes, INFLIGHT, READS_MAX / pagesPerCall, b, cluster.memberPids);
    rows.push(readRow('ours', pagesPerCall === 1 ? OURS_SHARED : OURS_SHARED_BATCH, m, pagesPerCall));
  }
  return { rows };
}

/**
 * Lookup from the page index a member keeps in shared memory (a client made with lookupVia
 * 'shared-memory', docs/CLIENT.md "Same-host lookups"), in the same shapes as over gRPC. Every
 * answer is checked; the note says how many went over gRPC instead (index busy or not found).
 */
async function oursSharedLookups(cluster: KvcDevCluster, b: Bounds): Promise<{ rows: Row[]; note: string } | { note: string }> {
  const client = new KvcClient({ endpoints: [...cluster.endpoints], lookupVia: 'shared-memory' });
  try {
    const problem = await client.sharedLookupProblem();
    if (problem !== '') return { note: `ours, same-host Lookup: not measured: ${problem}` };
    const windows = lookupWindows();
    const lookup = async (i: number): Promise<void> => {
      const keys = windows[i % windows.length]!;
      const matched = await client.lookup(BENCH_NS, keys);
      if (matched !== LOOKUP_KEYS) throw new Error(`same-host Lookup matched ${matched} of ${LOOKUP_KEYS} stored keys`);
    };
    const rows = await lookupShapes('ours', OURS_SHARED_LOOKUP, lookup, b, cluster.memberPids);
    const c = client.sharedLookupCounters!;
    return { rows, note: `Same-host Lookup: ${c.answered} answered from the shared index, ${c.fellBack} over gRPC instead (${c.busy} of them because the member was writing the index).` };
  } finally {
    client.close();
  }
}

/**
 * The key lists the Lookup rows ask for: every window of LOOKUP_KEYS consecutive stored pages, made
 * once, so that a row times the lookup and not the making of its keys (which, 16 small typed arrays
 * per call, cost more than a same-host lookup itself).
 */
function lookupWindows(): Uint8Array[][] {
  return Array.from({ length: STORED_PAGES - LOOKUP_KEYS + 1 }, (_, first) => Array.from({ length: LOOKUP_KEYS }, (_, k) => benchPageKey(first + k)));
}

const OURS_SHARED_LOOKUP = `Lookup of ${LOOKUP_KEYS} keys, shared memory (same host)`;
const REDIS_MGET = `MGET × ${PAGES_PER_BATCH}`;
const RAW_UNARY = 'unary call to another process, identity serializers';
const OURS_SHARED = 'GetPages, shared memory (same host)';
const OURS_SHARED_BATCH = `GetPages, shared memory (same host), ${PAGES_PER_BATCH} pages per call`;

/** A `kvc dev` cluster in a temp dir for `body`, stopped and removed afterwards. */
function withCluster<T>(progress: (line: string) => void, body: (cluster: KvcDevCluster) => Promise<T>): Promise<T> {
  return withTempDir('kvc-bench-peers-read-', (dir) =>
    removingOnExit(dir, async () => {
      // On a machine shared with other sessions a start may be cut short (a signal, a port lost
      // to another process); one more try in a fresh dir, then the failure stands.
      const cluster = await startKvcDev(path.join(dir, 'dev')).catch((error: Error) => {
        progress(`peers read: kvc dev did not come up (${error.message.split('\n')[0]}); trying once more`);
        return startKvcDev(path.join(dir, 'dev-again'));
      });
      try {
        return await body(cluster);
      } finally {
        await cluster.stop();
      }
    }),
  );
}

/** Every member reads every page once, so that each serves them from its memory tier afterwards. */
async function warmEveryTier(cluster: KvcDevCluster): Promise<void> {
  for (const endpoint of cluster.endpoints) {
    await driveInflight(pageReader(cluster.client, endpoint), READ_PAGE_BYTES, { first: 0, inflight: INFLIGHT, putsMax: STORED_PAGES, durationMsMax: Number.POSITIVE_INFINITY });
  }
}

async function measureOurs(pages: PageGenerator, b: Bounds, progress: (line: string) => void): Promise<{ rows: Row[]; notes: string[] }> {
  return withCluster(progress, async (cluster) => {
    progress(`peers read: ours, storing ${STORED_PAGES} pages of ${formatBytes(READ_PAGE_BYTES)}`);
    await fill(cluster.client, pages);
    // First reads: every page once, spread over the members by the client, each from LevelDB.
    const coldCpu = cpuMeter(cluster.memberPids);
    const coldRun = await driveInflight(pageReader(cluster.client), READ_PAGE_BYTES, { first: 0, inflight: INFLIGHT, putsMax: STORED_PAGES, durationMsMax: b.durationMs });
    const cold: Measured = { run: coldRun, ...coldCpu() };
    progress('peers read: ours, warming every member\'s memory tier');
    await warmEveryTier(cluster);
    progress('peers read: ours, GetPages from the memory tier, Lookup');
    const warm = await measured(pageReader(cluster.client), READ_PAGE_BYTES, INFLIGHT, READS_MAX, b, cluster.memberPids);
    const rows = [readRow('ours', 'GetPages, first read (LevelDB)', cold), readRow('ours', 'GetPages, memory tier', warm)];
    const notes: string[] = [];
    const shared = await oursOverSharedMemory(cluster, b);
    if ('rows' in shared) rows.push(...shared.rows);
    else notes.push(shared.skipped);
    const windows = lookupWindows();
    const lookup = async (i: number): Promise<void> => {
      const keys = windows[i % windows.length]!;
      const matched = await cluster.client.lookup(BENCH_NS, keys);
      if (matched !== LOOKUP_KEYS) throw new Error(`Lookup matched ${matched} of ${LOOKUP_KEYS} stored keys`);
    };
    const what = `Lookup of ${LOOKUP_KEYS} keys`;
    rows.push(...(await lookupShapes('ours', what, lookup, b, cluster.memberPids)));
    const sharedLookups = await oursSharedLookups(cluster, b);
    if ('rows' in sharedLookups) rows.push(...sharedLookups.rows);
    notes.push(sharedLookups.note);
    return { rows, notes };
  });
}

/** Client channel settings compared by `--part client` (issue 12 item 4); the first is the default. */
const CLIENT_SETTINGS: { name: string; connectionsPerMember: number; windowBytes: number }[] = [
  { name: 'default: 1 connection per member, 16 MiB window', connectionsPerMember: 1, windowBytes: 16 * MIB },
  { name: '2 connections per member', connectionsPerMember: 2, windowBytes: 16 * MIB },
  { name: '4 connections per member', connectionsPerMember: 4, windowBytes: 16 * MIB },
  { name: '1 MiB window', connectionsPerMember: 1, windowBytes: 1 * MIB },
  { name: '64 MiB window', connectionsPerMember: 1, windowBytes: 64 * MIB },
];
/** Each setting is measured this many times, interleaved with the others, against load drifting. */
const CLIENT_SETTING_PASSES = 2;

/**
 * Memory-tier GetPages (8 in flight) through clients with other HTTP/2 settings, against one
 * cluster. grpc-js takes no client frame size (SETTINGS_MAX_FRAME_SIZE stays 16 KiB), so frames
 * are not among them.
 */
export async function measureClientSettings(secondsPerCase: number | undefined, progress: (line: string) => void): Promise<Row[]> {
  const b: Bounds = { durationMs: (secondsPerCase ?? DEFAULT_READ_SECONDS) * MILLISECONDS_PER_SECOND };
  const pages = new PageGenerator(READ_PAGE_BYTES);
  return withCluster(progress, async (cluster) => {
    progress(`peers client settings: storing ${STORED_PAGES} pages, warming every member's memory tier`);
    await fill(cluster.client, pages);
    await warmEveryTier(cluster);
    const runs = new Map<string, Measured[]>();
    for (let pass = 0; pass < CLIENT_SETTING_PASSES; pass++) {
      for (const setting of CLIENT_SETTINGS) {
        progress(`peers client settings: ${setting.name}, pass ${pass + 1}`);
        const client = new KvcClient({
          endpoints: cluster.endpoints,
          connectionsPerMember: setting.connectionsPerMember,
          channelOptions: { 'grpc-node.flow_control_window': setting.windowBytes },
        });
        try {
          const m = await measured(pageReader(client), READ_PAGE_BYTES, INFLIGHT, READS_MAX, b, cluster.memberPids);
          runs.set(setting.name, [...(runs.get(setting.name) ?? []), m]);
        } finally {
          client.close();
        }
      }
    }
    const baseline = mbPerSecondOf(runs.get(CLIENT_SETTINGS[0]!.name)!);
    return CLIENT_SETTINGS.map((setting) => {
      const m = runs.get(setting.name)!;
      const merged: Measured = {
        run: { puts: sum(m, (x) => x.run.puts), bytes: sum(m, (x) => x.run.bytes), elapsedMs: sum(m, (x) => x.run.elapsedMs), latenciesMs: m.flatMap((x) => x.run.latenciesMs) },
        serverCpuMs: sum(m, (x) => x.serverCpuMs),
        clientCpuMs: sum(m, (x) => x.clientCpuMs),
      };
      const row = readRow('ours', setting.name, merged);
      return { ...row, kind: 'client-setting', perPass: m.map((x) => round(mbPerSecond(x.run.bytes, x.run.elapsedMs), 1)).join(' / '), overDefault: round(mbPerSecondOf(m) / baseline, 3) };
    });
  });
}

function sum(items: Measured[], of: (m: Measured) => number): number {
  return items.reduce((total, m) => total + of(m), 0);
}

function mbPerSecondOf(items: Measured[]): number {
  return mbPerSecond(sum(items, (m) => m.run.bytes), sum(items, (m) => m.run.elapsedMs));
}

export function clientSettingsTable(rows: Row[]): string {
  return [
    '| client setting | reads | MB/s | per pass | ÷ default | p99 ms | server CPU ms / MiB | client CPU ms / MiB |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.what} | ${r.reads} | **${r.MBps}** | ${r.perPass} | ${r.overDefault}× | ${r.latencyMsP99} | ${r.serverCpuMsPerMiB} | ${r.clientCpuMsPerMiB} |`),
  ].join('\n');
}

function withRatios(rows: Row[]): Row[] {
  const find = (system: string, what: string): Row | undefined => rows.find((r) => r.system === system && r.what === what);
  const redisGet = find('redis', 'GET');
  const redisMget = find('redis', REDIS_MGET);
  const rawGrpc = rows.find((r) => r.system === 'raw grpc-js');
  return rows.map((r) => {
    if (r.kind === 'read' && r.system === 'ours') {
      const ratios: Row = {};
      if (redisGet !== undefined) ratios.overRedisGet = round((r.MBps as number) / (redisGet.MBps as number), 3);
      // Many pages per call against Redis's many keys per call, the same shape.
      if (redisMget !== undefined && r.pagesPerCall === PAGES_PER_BATCH) ratios.overRedisMget = round((r.MBps as number) / (redisMget.MBps as number), 3);
      if (rawGrpc !== undefined) ratios.overRawGrpc = round((r.MBps as number) / (rawGrpc.MBps as number), 3);
      // Issue 12's other same-host target: at least half of a memcpy of the same bytes.
      const memcpy = rows.find((x) => x.system === 'memcpy');
      if (memcpy !== undefined && String(r.what).includes('shared memory')) ratios.overMemcpy = round((r.MBps as number) / (memcpy.MBps as number), 4);
      return { ...r, ...ratios };
    }
    if (r.kind === 'lookup' && r.system === 'ours') {
      const same = (system: string): Row | undefined => rows.find((x) => x.kind === 'lookup' && x.system === system && x.concurrency === r.concurrency && x.shape === r.shape);
      const ratios: Row = {};
      const redis = same('redis');
      if (redis !== undefined) ratios.p99OverRedis = round((r.latencyMsP99 as number) / (redis.latencyMsP99 as number), 2);
      // The floor: grpc-js's own round trip in the same shape, with nothing looked up.
      const raw = same('raw grpc-js');
      if (raw !== undefined) ratios.p99OverRawUnary = round((r.latencyMsP99 as number) / (raw.latencyMsP99 as number), 2);
      return { ...r, ...ratios };
    }
    return r;
  });
}

export function readTables(rows: Row[]): string {
  const cell = (value: number | string | undefined, suffix = ''): string => (value === undefined ? '–' : `${value}${suffix}`);
  const reads = rows
    .filter((r) => r.kind === 'read')
    .map(
      (r) =>
        `| ${r.system} | ${r.what} | ${cell(r.inflight)} | ${cell(r.reads)} | ${r.seconds} | **${r.MBps}** | ${cell(r.latencyMsP50)} | ${cell(r.latencyMsP99)} | ${cell(r.serverCpuMsPerMiB)} | ${cell(r.clientCpuMsPerMiB)} | ${cell(r.overRedisGet, '×')} | ${cell(r.overRedisMget, '×')} | ${cell(r.overRawGrpc, '×')} | ${cell(r.overMemcpy, '×')} |`,
    );
  const lookups = rows
    .filter((r) => r.kind === 'lookup')
    .map((r) => `| ${r.system} | ${r.what} | ${r.concurrency}${r.shape === TOGETHER ? ' together' : ''} | ${r.calls} | ${r.callsPerSec} | ${r.latencyMsP50} | **${r.latencyMsP99}** | ${r.serverCpuUsPerCall} | ${r.clientCpuUsPerCall} | ${cell(r.p99OverRedis, '×')} | ${cell(r.p99OverRawUnary, '×')} |`);
  return [
    `| system | read (${formatBytes(READ_PAGE_BYTES)} pages) | in flight | calls | s | MB/s | p50 ms | p99 ms | server CPU ms / MiB | client CPU ms / MiB | ÷ Redis GET | ÷ Redis ${REDIS_MGET} | ÷ raw grpc-js | ÷ memcpy |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...reads,
    '',
    '| system | lookup | callers | calls | calls/s | p50 ms | p99 ms | server CPU µs / call | client CPU µs / call | p99 ÷ Redis | p99 ÷ raw grpc-js |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...lookups,
  ].join('\n');
}

function readNotes(redisNote: string, durationMs: number): string[] {
  return [
    redisNote,
    `Ours: \`kvc dev\` (3 member processes, 256 MiB memory tier each), ${STORED_PAGES} pages of ${formatBytes(READ_PAGE_BYTES)} put first; src/client getPagesInto one page per call into a preallocated buffer (crc32c verified), ${INFLIGHT} calls in flight, reads spread over the members. "First read": every page once, each member reading its own LevelDB/blob files (the OS page cache may hold them). "Memory tier": after every member has read every page.`,
    `Shared memory (same host): getPagesInto with transfer 'shared-memory', from the member whose arena the client mapped first (the client's default: the same-host member; here all three are on the host), pages from 256 KiB copied on libuv's pool, so on both cores (the memcpy row is one thread).`,
    `Batched: Redis MGET of ${PAGES_PER_BATCH} keys and ours getPagesInto ${PAGES_PER_BATCH} pages per call over shared memory (a prompt's whole prefix at once), ${INFLIGHT} calls in flight, "calls" counting calls, p50/p99 per call; ÷ Redis ${REDIS_MGET} compares these two.`,
    `Lookup: ${LOOKUP_KEYS} stored keys per call (every window of ${LOOKUP_KEYS} consecutive stored pages, each window's keys made once), KvcClient.lookup, answered by any member from its in-memory index; "shared memory (same host)": a KvcClient with lookupVia 'shared-memory', answering from a member's index in a shared-memory file with no call; Redis: a pipeline of ${LOOKUP_KEYS} EXISTS. Callers 1 and 100: each caller waits for its answer before its next call (closed loop). "${LOOKUPS_TOGETHER} together": rounds of ${LOOKUPS_TOGETHER} calls issued at once (a scheduler asking for all its waiting requests), each call's latency from the round's start to its answer, the next round once all are answered.`,
    `Raw grpc-js: raw-server.ts in its own process, the member's server options and the client's channel options, identity serializers, ${INFLIGHT} calls in flight, each one ${formatBytes(READ_PAGE_BYTES)} page in 1 MiB messages copied into a preallocated buffer. Raw grpc-js unary: the same server process, a unary method with identity serializers that answers a Lookup-sized request with 2 bytes, in the Lookup shapes (1 and ${LOOKUP_CONCURRENCIES.at(-1)} callers, ${LOOKUPS_TOGETHER} together), one channel: the floor of a Lookup's round trip on this machine (nothing decoded, nothing looked up). Raw TCP: one connection, bytes counted; its server CPU is the sending process's, its client CPU the receiving (bench) process's, per MiB moved: what a transport costs below any protocol. memcpy: Buffer.copy of ${formatBytes(READ_PAGE_BYTES)} pages from a 64 MiB source into one preallocated buffer.`,
    'CPU: user + system time of the server processes (summed over our three members) and of the bench process (the client), from /proc/<pid>/stat and process.cpuUsage, per MiB read or per call; on a shared machine it moves far less than throughput does.',
    `Every case: a warm-up (${LOOKUPS_MAX} lookups for a Lookup row, a few calls otherwise), then at most ${seconds(durationMs)} s (--seconds) or ${READS_MAX} reads / ${LOOKUPS_MAX} lookups.`,
    'Targets (issue 12, not asserted): GetPages from the memory tier ≥ 0.9 × raw grpc-js; same-host shared memory ≥ 1.5 × Redis GET and ≥ 0.5 × memcpy; Lookup p99 ≤ 1 ms at 100 concurrent.',
  ];
}

/** The whole read side: rows (with ratios), and notes. */
export async function measureReads(secondsPerCase: number | undefined, progress: (line: string) => void): Promise<{ rows: Row[]; notes: string[] }> {
  const b: Bounds = { durationMs: (secondsPerCase ?? DEFAULT_READ_SECONDS) * MILLISECONDS_PER_SECOND };
  const pages = new PageGenerator(READ_PAGE_BYTES);
  const rows: Row[] = [];
  const binary = findOnPath('redis-server');
  let redisNote: string;
  if (binary === undefined) {
    redisNote = 'redis: not measured, `redis-server` is not on PATH (Debian: apt-get install redis-server); ours alone.';
    progress(redisNote);
  } else {
    redisNote = `Redis ${redisVersion(binary)} (${binary}): one server on loopback, --save "" --appendonly no; ioredis, one connection, ${INFLIGHT} commands in flight (pipelined on it), ${STORED_PAGES} keys cycled.`;
    progress(`peers read: redis ${formatBytes(READ_PAGE_BYTES)} SET / GET, EXISTS`);
    rows.push(
      ...(await withTempDir('kvc-bench-redis-', (dir) =>
        removingOnExit(dir, async () => {
          const redis = await startRedis(binary, dir);
          try {
            return await measureRedis(redis, pages, b);
          } finally {
            await redis.stop();
          }
        }),
      )),
    );
  }
  rows.push(...(await measureCeilings(b, progress)));
  const ours = await measureOurs(pages, b, progress);
  rows.push(...ours.rows);
  return { rows: withRatios(rows), notes: [...readNotes(redisNote, b.durationMs), ...ours.notes] };
}
