// The `eviction` benchmark: what cluster-wide eviction costs the put path (issue 10). Three real
// members (ClusterNode with WAL and LevelDB, fsync on) in this process take puts with a fixed
// number in flight, once with a budget far above what the run writes (no eviction) and once with
// a budget of a few dozen pages, so the leader proposes evictions ahead of puts and in the
// background the whole time. The cases alternate (off, on, off, on) in the same run, so the
// ratio compares like with like on a shared machine; the report gives both rounds.
import { benchCluster, drivePuts, type PutRun } from './bench-cluster.js';
import { KIB, MIB, formatBytes, mibPerSecond, round, seconds, waitFor, withTempDir } from './measure.js';
import { PageGenerator } from './pages.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

interface EvictionCase {
  pageBytes: number;
  inflight: number;
  putsMax: number;
  seconds: number;
}

const CASES: EvictionCase[] = [
  { pageBytes: 64 * KIB, inflight: 8, putsMax: 3000, seconds: 6 },
  { pageBytes: 2 * MIB, inflight: 8, putsMax: 400, seconds: 8 },
];
const MEMBER_IDS = [1, 2, 3];
/** The smallest budget a cluster accepts (one largest page): every run below writes many times it. */
const SMALL_BUDGET_BYTES = 32 * MIB;
const ROUNDS = 2;
const SETTLE_TIMEOUT_MS = 15_000;

interface Measured {
  run: PutRun;
  evictedPages: number;
  maxStoredBytes: number;
}

async function measure(c: EvictionCase, budgetBytes: number | undefined, durationMs: number): Promise<Measured> {
  return withTempDir('kvc-bench-evict-', async (root) => {
    const pages = new PageGenerator(c.pageBytes);
    // Grace 0: the benchmark reads nothing, and a bench page is evictable as soon as it is stored.
    const cluster = benchCluster(root, MEMBER_IDS, budgetBytes === undefined ? {} : { budgetBytes, evictionGraceMs: 0 });
    try {
      for (const id of MEMBER_IDS) await cluster.start(id);
      const leader = await cluster.leader();
      await waitFor(() => leader.store.settings().replicated, SETTLE_TIMEOUT_MS, 'the settings to be replicated');
      let maxStoredBytes = 0;
      const sampler = setInterval(() => (maxStoredBytes = Math.max(maxStoredBytes, leader.status().bytes)), 5);
      const run = await drivePuts(leader, pages, { first: 0, inflight: c.inflight, putsMax: c.putsMax, durationMsMax: durationMs });
      clearInterval(sampler);
      return { run, evictedPages: leader.status().evictedPages, maxStoredBytes };
    } finally {
      await cluster.stopAll();
    }
  });
}

async function run(options: BenchOptions): Promise<SuiteReport> {
  const results: Record<string, number | string>[] = [];
  for (const c of CASES) {
    const durationMs = (options.secondsPerCase ?? c.seconds) * 1000;
    const off: Measured[] = [];
    const on: Measured[] = [];
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      options.progress(`eviction: ${formatBytes(c.pageBytes)} pages, round ${round_ + 1}: no eviction`);
      off.push(await measure(c, undefined, durationMs));
      options.progress(`eviction: ${formatBytes(c.pageBytes)} pages, round ${round_ + 1}: budget ${formatBytes(SMALL_BUDGET_BYTES)}`);
      on.push(await measure(c, SMALL_BUDGET_BYTES, durationMs));
    }
    const mibps = (m: Measured[]): number[] => m.map((x) => mibPerSecond(x.run.bytes, x.run.elapsedMs));
    const total = (m: Measured[]): number => m.reduce((n, x) => n + x.run.bytes, 0) / m.reduce((n, x) => n + x.run.elapsedMs, 0);
    results.push({
      pageBytes: c.pageBytes,
      inflight: c.inflight,
      offMiBps: mibps(off).map((v) => round(v, 1)).join(' / '),
      onMiBps: mibps(on).map((v) => round(v, 1)).join(' / '),
      onOverOff: round(total(on) / total(off), 3),
      evictedPages: on.reduce((n, x) => n + x.evictedPages, 0),
      putsOn: on.reduce((n, x) => n + x.run.puts, 0),
      maxStoredOverBudget: round(Math.max(...on.map((x) => x.maxStoredBytes)) / SMALL_BUDGET_BYTES, 3),
      seconds: round(seconds(on.reduce((n, x) => n + x.run.elapsedMs, 0)), 1),
    });
  }
  const rows = results.map(
    (r) => `| ${formatBytes(r.pageBytes as number)} | ${r.inflight} | ${r.offMiBps} | ${r.onMiBps} | **${Math.round((r.onOverOff as number) * 100)}%** | ${r.evictedPages} | ${r.putsOn} | ${r.maxStoredOverBudget} |`,
  );
  return {
    suite: 'eviction',
    results,
    table: [
      '| page | in flight | MiB/s, no eviction (rounds) | MiB/s, budget 32 MiB (rounds) | with / without | pages evicted | puts with eviction | max stored / budget |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n'),
    notes: [
      'Three members in one process over the in-process transport, fsync on; alternating rounds in one run.',
      `With eviction: budget ${formatBytes(SMALL_BUDGET_BYTES)}, grace 0, watermarks 0.9 / 0.85; every put is accepted (a refusal fails the run).`,
    ],
  };
}

export const evictionSuite: BenchSuite = {
  name: 'eviction',
  description: 'put throughput with eviction running vs not, alternating in one run',
  run,
};
