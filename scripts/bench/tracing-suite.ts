// The `tracing` benchmark: what OpenTelemetry tracing (src/tracing, docs/TRACING.md) costs the
// put and get paths. One-member clusters (startMember: gRPC on 127.0.0.1, WAL + LevelDB with
// fsync off, so the figures are CPU, not the disk) run in this process, one per variant; the real
// client (src/client) in this process puts 64 KiB pages and reads them back with GetPages, every
// call inside a caller's span, so the client sends its traceparent as a traced program's would.
// Variants are measured in alternating rounds (A B, B A, A B ...); each reports its median round,
// and its ratios to the first variant of its phase are medians of per-round ratios, so a machine
// whose load drifts mid-run weighs on both sides of each ratio alike.
//
// Phase 1, tracing off: this tree's member, and (with KVC_BENCH_BASELINE=DIR, a checkout of an
// older commit whose src/ and proto/ are in DIR, its native/build linked to this one's) that
// tree's member: the before/after of the hot path with no `tracing` section. Phase 2, tracing on
// (every span sampled and exported by OTLP/HTTP to a sink in this process) against off. Phase 2
// comes second because a traced member registers the process's AsyncLocalStorage context
// manager, which once used costs every promise of the process: phase 2's "off" pays that too, so
// phase 2 isolates the spans' cost and phase 1 stays free of it.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { KvcClient, type PageInput } from '../../src/client/index.js';
import type { MemberOptions, RunningMember } from '../../src/member/index.js';
import { KIB, mibPerSecond, quantile, round, waitFor, withTempDir } from './measure.js';
import { PageGenerator, benchPageKey } from './pages.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

type StartMember = (o: MemberOptions) => Promise<RunningMember>;

interface Variant {
  name: string;
  startMember: StartMember;
  tracing?: boolean;
}

type VariantResult = {
  variant: string;
  putsPerSecond: number;
  putMiBps: number;
  getsPerSecond: number;
  putCpuUs: number;
  getCpuUs: number;
  putRatio: number;
  getRatio: number;
  putCpuRatio: number;
  getCpuRatio: number;
};

/** Calls per second, and CPU time of the whole process (every thread) per call. */
interface PartResult {
  perSecond: number;
  cpuUs: number;
}

interface RoundResult {
  put: PartResult;
  get: PartResult;
}

/** Small pages: the per-call work that tracing adds to weighs most against the bytes moved. */
const PAGE_BYTES = 4 * KIB;
/** Pages the gets read (put once before the rounds), and calls in flight at once. */
const PAGES = 64;
const INFLIGHT = 8;
const ROUNDS = 21;
/** Rounds run first and not counted: JIT, the first WAL segment, LevelDB's first compactions. */
const WARMUP_ROUNDS = 1;
/** Seconds of puts and of gets per variant per round (unless --seconds says otherwise). */
const SECONDS_PER_PART = 0.5;
const NS = 'bench/tracing';
const LEADER_TIMEOUT_MS = 15_000;
/** The caller's span every call is made in. */
const CALLER = trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });

/** An OTLP/HTTP receiver that reads and drops what it is sent. */
async function startSink(): Promise<{ url: string; posts: () => number; close(): Promise<void> }> {
  let posts = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      posts++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, posts: () => posts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function startOne(startMember: StartMember, dir: string, tracingUrl: string | undefined): Promise<{ member: RunningMember; client: KvcClient }> {
  const member = await startMember({
    id: 1,
    listen: '127.0.0.1:0',
    members: [{ id: 1, address: '127.0.0.1:0' }],
    dataDir: dir,
    node: { fsync: false, logger: () => undefined },
    logger: () => undefined,
    workerThreads: 0,
    ...(tracingUrl === undefined ? {} : { tracing: { otlpEndpoint: tracingUrl } }),
  });
  await waitFor(() => member.node.isLeader(), LEADER_TIMEOUT_MS, 'the member to lead');
  return { member, client: new KvcClient({ endpoints: [member.address] }) };
}

/**
 * Runs `call` with `INFLIGHT` in flight for `ms`: calls per second, and the process's CPU time
 * per call, which a busy machine disturbs far less than the rate (only this variant runs).
 */
async function drive(ms: number, call: (i: number) => Promise<unknown>): Promise<PartResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let done = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: INFLIGHT }, async () => {
      while (performance.now() - started < ms) {
        await context.with(CALLER, () => call(next++));
        done++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { perSecond: done / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / done };
}

async function round1(client: KvcClient, pages: PageInput[], ms: number): Promise<RoundResult> {
  const put = await drive(ms, (i) => client.putPages([pages[i % PAGES]!]));
  const get = await drive(ms, async (i) => {
    for await (const page of client.getPages(NS, [pages[i % PAGES]!.meta.key])) void page;
  });
  return { put, get };
}

function clientPages(): PageInput[] {
  const generator = new PageGenerator(PAGE_BYTES);
  return Array.from({ length: PAGES }, (_, i) => ({ meta: { namespace: NS, key: benchPageKey(i), dtype: 'u8', shape: [1, PAGE_BYTES], tokens: 16 }, data: generator.payload(i) }));
}

async function runPhase(variants: Variant[], root: string, ms: number, sinkUrl: string, progress: (line: string) => void): Promise<VariantResult[]> {
  const pages = clientPages();
  const running: { variant: Variant; member: RunningMember; client: KvcClient; rounds: RoundResult[] }[] = [];
  try {
    for (const variant of variants) {
      const started = await startOne(variant.startMember, path.join(root, variant.name.replace(/\W+/g, '-')), variant.tracing ? sinkUrl : undefined);
      running.push({ variant, ...started, rounds: [] });
      await started.client.putPages(pages);
    }
    for (let r = -WARMUP_ROUNDS; r < ROUNDS; r++) {
      // Every other round in reverse order, so no variant always runs first (or last).
      for (const v of r % 2 === 0 ? running : [...running].reverse()) {
        const result = await round1(v.client, pages, ms);
        if (r < 0) continue;
        v.rounds.push(result);
        const last = v.rounds.at(-1)!;
        progress(`round ${r + 1}/${ROUNDS} ${v.variant.name}: ${round(last.put.perSecond, 0)} puts/s, ${round(last.get.perSecond, 0)} gets/s, ${round(last.put.cpuUs, 0)} / ${round(last.get.cpuUs, 0)} CPU us per put / get`);
      }
    }
  } finally {
    for (const v of running) {
      v.client.close();
      await v.member.stop();
    }
  }
  const median = (v: (typeof running)[number], pick: (x: RoundResult) => number): number => quantile(v.rounds.map(pick), 0.5);
  const medians = running.map((v) => ({
    puts: median(v, (x) => x.put.perSecond),
    gets: median(v, (x) => x.get.perSecond),
    putCpuUs: median(v, (x) => x.put.cpuUs),
    getCpuUs: median(v, (x) => x.get.cpuUs),
  }));
  const first = running[0]!;
  // Each round's figure over the first variant's in the same round (measured seconds apart), then
  // the median of those: a machine whose load drifts over the run moves both sides of each ratio.
  const ratio = (v: (typeof running)[number], pick: (x: RoundResult) => number): number => quantile(v.rounds.map((x, r) => pick(x) / pick(first.rounds[r]!)), 0.5);
  return running.map((v, i): VariantResult => {
    const m = medians[i]!;
    return {
      variant: v.variant.name,
      putsPerSecond: round(m.puts, 0),
      putMiBps: round(mibPerSecond(m.puts * PAGE_BYTES, 1000), 1),
      getsPerSecond: round(m.gets, 0),
      putCpuUs: round(m.putCpuUs, 0),
      getCpuUs: round(m.getCpuUs, 0),
      putRatio: round(ratio(v, (x) => x.put.perSecond), 3),
      getRatio: round(ratio(v, (x) => x.get.perSecond), 3),
      putCpuRatio: round(ratio(v, (x) => x.put.cpuUs), 3),
      getCpuRatio: round(ratio(v, (x) => x.get.cpuUs), 3),
    };
  });
}

async function loadStartMember(dir: string): Promise<StartMember> {
  // startMember moved from src/rpc to src/member (issue 14); a baseline tree may predate that.
  const entry = existsSync(path.join(dir, 'src/member/index.ts')) ? 'src/member/index.ts' : 'src/rpc/index.ts';
  const module = (await import(pathToFileURL(path.join(dir, entry)).href)) as { startMember: StartMember };
  return module.startMember;
}

async function run(options: BenchOptions): Promise<SuiteReport> {
  const ms = (options.secondsPerCase ?? SECONDS_PER_PART) * 1000;
  const { startMember } = await import('../../src/member/index.js');
  const baselineDir = process.env.KVC_BENCH_BASELINE;
  const phase1: Variant[] = [{ name: 'this tree, tracing off', startMember }];
  if (baselineDir !== undefined && baselineDir !== '') phase1.push({ name: `baseline ${path.basename(baselineDir)}, no tracing code`, startMember: await loadStartMember(baselineDir) });
  const phase2: Variant[] = [
    { name: 'this tree, tracing off (context manager on)', startMember },
    { name: 'this tree, tracing on', startMember, tracing: true },
  ];
  const sink = await startSink();
  try {
    return await withTempDir('kvc-bench-tracing-', async (root) => {
      const first = await runPhase(phase1, path.join(root, 'p1'), ms, sink.url, options.progress);
      const second = await runPhase(phase2, path.join(root, 'p2'), ms, sink.url, options.progress);
      const results = [...first.map((r) => ({ phase: 1, ...r })), ...second.map((r) => ({ phase: 2, ...r }))];
      const table = [
        '| phase | variant | puts/s | put MiB/s | GetPages/s | puts/s vs first | gets/s vs first | CPU us/put | CPU us/get | CPU/put vs first | CPU/get vs first |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
        ...results.map(
          (r) =>
            `| ${r.phase} | ${r.variant} | ${r.putsPerSecond} | ${r.putMiBps} | ${r.getsPerSecond} | ${r.putRatio} | ${r.getRatio} | ${r.putCpuUs} | ${r.getCpuUs} | ${r.putCpuRatio} | ${r.getCpuRatio} |`,
        ),
      ].join('\n');
      return {
        suite: 'tracing',
        results,
        table,
        notes: [
          `one in-process member per variant, fsync off, no worker threads; ${PAGE_BYTES / KIB} KiB u8 pages, ${INFLIGHT} calls in flight, every call in a caller's sampled span`,
          `${ROUNDS} alternating rounds of ${ms / 1000} s puts + ${ms / 1000} s GetPages (one page each) per variant; medians; a ratio is the median over rounds of the variant's figure over the phase's first variant's in the same round; CPU us: the process's CPU time (all threads: client, member, LevelDB) per call`,
          `phase 2 runs after phase 1: a traced member registers the AsyncLocalStorage context manager for the whole process; the sink took ${sink.posts()} OTLP POSTs`,
        ],
      };
    });
  } finally {
    await sink.close();
  }
}

export const tracingSuite: BenchSuite = {
  name: 'tracing',
  description: 'puts and GetPages through one member with tracing off (vs KVC_BENCH_BASELINE=DIR, an older tree) and on (OTLP/HTTP to a sink)',
  run,
};
