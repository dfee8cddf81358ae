// The `pool` benchmark: does the work pool keep a member's event loop ticking while large pages
// are converted? Real members (startMember: gRPC on 127.0.0.1, WAL + LevelDB with fsync, in a
// temp dir) run in this process; a client in a child process (pool-client.ts) streams 32 MiB
// fp32 pages with store_dtype fp16 to the leader. While it does, perf_hooks'
// monitorEventLoopDelay samples this process's event loop (where Raft ticks, peers' messages
// and every gRPC stream are handled). Each setup runs with workerThreads 0 (checksums and the
// conversion on the event loop), 1 and 2 (in worker threads), and reports the event-loop delay
// p50/p99/max, the put rate, CPU use, and leader changes (an event loop blocked past the
// election timeout costs the leadership). A second table isolates the pool's own effect: the
// same preparation jobs (checksum, fp32 -> fp16, stored checksum) with nothing else running,
// inline and in the pool, with the event loop's delay and the time the caller's thread spends
// inside each call.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { crc32c } from '../../src/codec/index.js';
import { nativeStatus } from '../../src/native/index.js';
import { POOL_WORKER_NICE_INCREMENT, WorkPool } from '../../src/workers/index.js';
import { startMember, type RunningMember } from '../../src/member/index.js';
import { freeLoopbackPorts } from '../../src/config/index.js';
import { MIB, ResourceMeter, mibPerSecond, round, seconds, waitFor } from './measure.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

interface PoolCase {
  members: number;
  workerThreads: number;
}

const CASES: PoolCase[] = [1, 3].flatMap((members) => [0, 1, 2].map((workerThreads) => ({ members, workerThreads })));
const PAGE_BYTES = 32 * MIB;
/** Measured pages per case (after the client's two warm-up pages): 320 MiB of fp32 sent. */
const PAGES = 10;
/** Puts the client keeps in flight (one page each). */
const INFLIGHT = 2;
/** monitorEventLoopDelay's sampling interval: the delay it reports is on top of this. */
const LOOP_RESOLUTION_MS = 10;
/** Bounds one case: leader election, warm-up and the measured puts on a slow disk. */
const CASE_TIMEOUT_MS = 300_000;
const LEADER_TIMEOUT_MS = 15_000;
const NANOSECONDS_PER_MILLISECOND = 1e6;
const CLIENT_SCRIPT = fileURLToPath(new URL('./pool-client.ts', import.meta.url));
/** Preparation-only runs: jobs per run (each page copied beforehand: 384 MiB), and jobs in flight (as the put window allows for 32 MiB pages). */
const PREPARE_JOBS = 12;
/** Worker threads of the preparation-only runs. */
const PREPARE_THREADS = [0, 1, 2];
const PREPARE_INFLIGHT = 2;

interface CaseResult {
  elapsedMs: number;
  bytes: number;
  loopMsP50: number;
  loopMsP99: number;
  loopMsMax: number;
  cpuCores: number;
  leaderChanges: number;
}

async function startMembers(root: string, c: PoolCase, log: (line: string) => void): Promise<RunningMember[]> {
  const ports = await freeLoopbackPorts(c.members);
  const members = ports.map((port, i) => ({ id: i + 1, address: `127.0.0.1:${port}` }));
  return Promise.all(
    members.map((m) => startMember({ id: m.id, listen: m.address, members, dataDir: path.join(root, `m${m.id}`), workerThreads: c.workerThreads, logger: log })),
  );
}

async function leaderOf(members: RunningMember[]): Promise<RunningMember> {
  let leader: RunningMember | undefined;
  await waitFor(() => (leader = members.find((m) => m.node.isLeader())) !== undefined, LEADER_TIMEOUT_MS, 'a leader');
  return leader!;
}

/** Resolves with the next stdout line of `child` (rejects if it exits first). */
function nextLine(lines: AsyncIterator<string>, child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the bench client exited with ${code}`));
    child.once('exit', onExit);
    lines.next().then(
      (step) => {
        child.off('exit', onExit);
        if (step.done === true) reject(new Error('the bench client closed its output'));
        else resolve(step.value);
      },
      (error: unknown) => reject(error as Error),
    );
  });
}

async function runCase(c: PoolCase, progress: (line: string) => void): Promise<CaseResult> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-bench-pool-'));
  const members = await startMembers(root, c, () => undefined);
  let child: ChildProcess | undefined;
  try {
    const leader = await leaderOf(members);
    const leaderTerm = leader.node.status().term;
    child = spawn(process.execPath, ['--import', 'tsx', CLIENT_SCRIPT, leader.address, String(PAGES), String(PAGE_BYTES), String(INFLIGHT)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const ready = await nextLine(lines, child);
    if (ready !== 'ready') throw new Error(`the bench client said ${ready}`);
    progress(`pool: ${c.members} member(s), workerThreads ${c.workerThreads}: streaming ${PAGES} pages of ${PAGE_BYTES / MIB} MiB fp32`);
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    const meter = new ResourceMeter();
    loop.enable();
    child.stdin!.write('go\n');
    const outcome = JSON.parse(await nextLine(lines, child)) as { bytes: number; elapsedMs: number };
    loop.disable();
    const used = meter.read();
    const terms = members.map((m) => m.node.status().term);
    return {
      elapsedMs: outcome.elapsedMs,
      bytes: outcome.bytes,
      loopMsP50: lateMs(loop.percentile(50)),
      loopMsP99: lateMs(loop.percentile(99)),
      loopMsMax: lateMs(loop.max),
      cpuCores: used.cpuCores,
      leaderChanges: Math.max(...terms) - leaderTerm,
    };
  } finally {
    child?.kill();
    await Promise.all(members.map((m) => m.stop()));
    await rm(root, { recursive: true, force: true });
  }
}

/**
 * How late the sampling timer fired, in ms: the histogram holds the whole time between two
 * samples (the resolution included), so the resolution is taken off.
 */
function lateMs(intervalNs: number): number {
  return Math.max(0, intervalNs / NANOSECONDS_PER_MILLISECOND - LOOP_RESOLUTION_MS);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface PrepareResult {
  threads: number;
  pagesPerSec: number;
  /** Mean time the calling thread spent inside preparePut (synchronous part) per page. */
  callerMsPerPage: number;
  loopMsP99: number;
  loopMsMax: number;
}

/**
 * PREPARE_JOBS preparations of a 32 MiB fp32 page, PREPARE_INFLIGHT at a time, nothing else
 * running; each lane yields to the event loop between its jobs, as a server does between
 * requests. The pages are copied before measuring (the pool takes each page's buffer), so the
 * copies do not count.
 */
async function prepareOnly(threads: number): Promise<PrepareResult> {
  const values = Float32Array.from({ length: PAGE_BYTES / 4 }, (_, i) => Math.sin(i) * 1000);
  const source = new Uint8Array(values.buffer);
  const expectedCrc32c = crc32c(source);
  const pool = new WorkPool({ threads });
  const prepare = async (data: Uint8Array): Promise<number> => {
    const before = performance.now();
    const running = pool.preparePut({ data, expectedCrc32c, conversion: 'fp32>fp16' }, true);
    const callerMs = performance.now() - before;
    if (!(await running).ok) throw new Error('the bench page failed its checksum');
    return callerMs;
  };
  try {
    // Starts the workers and warms the code up.
    await Promise.all(Array.from({ length: PREPARE_INFLIGHT }, () => prepare(source.slice())));
    const pages = Array.from({ length: PREPARE_JOBS }, () => source.slice());
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const started = performance.now();
    let callerMs = 0;
    const lane = async (): Promise<void> => {
      for (let page = pages.pop(); page !== undefined; page = pages.pop()) {
        callerMs += await prepare(page);
        await yieldToLoop();
      }
    };
    await Promise.all(Array.from({ length: PREPARE_INFLIGHT }, lane));
    const elapsedMs = performance.now() - started;
    loop.disable();
    return {
      threads,
      pagesPerSec: round(PREPARE_JOBS / seconds(elapsedMs), 1),
      callerMsPerPage: round(callerMs / PREPARE_JOBS, 2),
      loopMsP99: round(lateMs(loop.percentile(99)), 1),
      loopMsMax: round(lateMs(loop.max), 1),
    };
  } finally {
    await pool.close();
  }
}

function row(c: PoolCase, r: CaseResult): Record<string, number> {
  return {
    members: c.members,
    workerThreads: c.workerThreads,
    pages: PAGES,
    pageBytes: PAGE_BYTES,
    putMiBps: round(mibPerSecond(r.bytes, r.elapsedMs), 1),
    loopDelayMsP50: round(r.loopMsP50, 1),
    loopDelayMsP99: round(r.loopMsP99, 1),
    loopDelayMsMax: round(r.loopMsMax, 1),
    cpuCores: round(r.cpuCores, 2),
    termChanges: r.leaderChanges,
  };
}

function prepareTable(rows: PrepareResult[]): string {
  return [
    '| preparation alone: worker threads | 32 MiB pages/s | caller thread ms per page | loop delay p99 ms | max ms |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.threads} | ${r.pagesPerSec} | **${r.callerMsPerPage}** | ${r.loopMsP99} | ${r.loopMsMax} |`),
  ].join('\n');
}

function table(rows: Record<string, number>[]): string {
  return [
    '| members | worker threads | pages | put MiB/s (fp32 sent) | loop delay p50 ms | p99 ms | max ms | CPU cores busy | term changes |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) => `| ${r.members} | ${r.workerThreads} | ${r.pages} × 32 MiB | ${r.putMiBps} | ${r.loopDelayMsP50} | **${r.loopDelayMsP99}** | ${r.loopDelayMsMax} | ${r.cpuCores} | ${r.termChanges} |`,
    ),
  ].join('\n');
}

export const poolSuite: BenchSuite = {
  name: 'pool',
  description: 'event-loop delay of a member while a client streams 32 MiB fp32 pages (store_dtype fp16), with workerThreads 0, 1 and 2',
  async run(options: BenchOptions): Promise<SuiteReport> {
    const prepared: PrepareResult[] = [];
    for (const threads of PREPARE_THREADS) {
      options.progress(`pool: preparation alone, workerThreads ${threads}`);
      prepared.push(await prepareOnly(threads));
    }
    const rows: Record<string, number>[] = [];
    for (const c of CASES) rows.push(row(c, await withTimeout(runCase(c, options.progress), CASE_TIMEOUT_MS, `the case ${JSON.stringify(c)}`)));
    const native = nativeStatus();
    return {
      suite: 'pool',
      results: [...rows, ...prepared.map((r) => ({ case: 'prepare-only', ...r }))],
      table: `${table(rows)}\n\n${prepareTable(prepared)}`,
      notes: [
        `Members started with startMember in this process (gRPC on 127.0.0.1, WAL fdatasync + LevelDB, default 50 ms ticks); 3 members share this process's event loop. The client runs in its own process (${INFLIGHT} puts of one page in flight, after 2 warm-up pages).`,
        `Event-loop delay: perf_hooks.monitorEventLoopDelay at ${LOOP_RESOLUTION_MS} ms resolution over the measured puts, in this (the members') process, less the resolution: how late a timer fires, i.e. how long Raft ticks, heartbeats and other streams wait.`,
        `The machine's load average when the suite ended: ${os.loadavg().map((load) => round(load, 1)).join(' / ')} (1 / 5 / 15 min) on ${os.availableParallelism()} CPUs; other processes' work shows up as delay too.`,
        `The native addon was ${native.loaded ? 'loaded' : `not loaded (${native.reason})`}: ${native.loaded ? 'conversion and crc32c run SIMD code' : 'conversion and crc32c run the TypeScript paths'}, wherever they run. Run with KVC_NATIVE=0 to compare.`,
        'term changes: how much the Raft term rose during the run (0 = the leader kept its leadership throughout).',
        'MiB/s counts the fp32 bytes sent; each member stores half as many (fp16).',
        `Preparation alone: ${PREPARE_JOBS} preparations of a 32 MiB fp32 page (crc32c check, fp32 -> fp16, crc32c of the result), ${PREPARE_INFLIGHT} at a time, no member running, each lane yielding to the event loop between jobs; "caller thread ms" is the synchronous part of each preparePut call (all of the work inline; posting the job with the pool). Worker threads run at nice +${POOL_WORKER_NICE_INCREMENT}.`,
      ],
    };
  },
};
