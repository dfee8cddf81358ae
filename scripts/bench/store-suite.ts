// The `store` benchmark: replicated puts through three real members (ClusterNode with its WAL
// and LevelDB, fsync on as by default) in this process over the in-process transport, for
// several page sizes with a fixed number of puts in flight; and in the same run the disk's
// ceiling for the same bytes (Wal.save alone, and a plain writev + fdatasync). Each case is
// bounded in puts and in seconds, and runs in a fresh temp directory that is removed afterwards.
import { benchCluster, drivePuts, type PutRun } from './bench-cluster.js';
import { plainWriteCeiling, walSaveCeiling, type CeilingRun } from './disk-ceiling.js';
import { KIB, MIB, ResourceMeter, formatBytes, mibPerSecond, quantile, round, seconds, waitFor, withTempDir } from './measure.js';
import { PageGenerator } from './pages.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

interface StoreCase {
  pageBytes: number;
  /** Puts in flight at once on the leader (and entries per save in the ceiling runs). */
  inflight: number;
  /** Most measured puts. */
  putsMax: number;
  /** Most seconds of measured puts (unless --seconds says otherwise). */
  seconds: number;
}

/**
 * Bounds chosen so the whole suite stays under about two minutes on 2 vCPUs: at most ~1.5 GiB
 * per case, which three members write twice each (WAL and LevelDB).
 */
const CASES: StoreCase[] = [
  { pageBytes: 64 * KIB, inflight: 8, putsMax: 4000, seconds: 8 },
  { pageBytes: 2 * MIB, inflight: 8, putsMax: 640, seconds: 10 },
  { pageBytes: 32 * MIB, inflight: 2, putsMax: 48, seconds: 12 },
];
const MEMBER_IDS = [1, 2, 3];
/** Puts (per in-flight slot) sent before measuring: JIT, first segment files, LevelDB warm-up. */
const WARMUP_ROUNDS = 2;
/** After the last acknowledgement, how long the lagging follower may take to apply everything. */
const CATCH_UP_TIMEOUT_MS = 60_000;
/** Ceiling runs: at most this many bytes or seconds per case. */
const CEILING_BYTES_MAX = 1024 * MIB;
const CEILING_SECONDS_MAX = 3;
const MILLISECONDS_PER_SECOND = 1000;

interface ReplicatedResult {
  run: PutRun;
  /** From the last acknowledgement until every member applied everything. */
  catchUpMs: number;
  walCompactions: number;
  /** Average CPU cores the process kept busy while measuring (every thread: JS, libuv, LevelDB). */
  cpuCores: number;
  /** Bytes the process wrote to storage while measuring, over the bytes acknowledged. */
  writeAmplification: number;
}

async function replicatedPuts(c: StoreCase, durationMs: number, progress: (line: string) => void): Promise<ReplicatedResult> {
  return withTempDir('kvc-bench-store-', async (root) => {
    const pages = new PageGenerator(c.pageBytes);
    const cluster = benchCluster(root, MEMBER_IDS);
    try {
      for (const id of MEMBER_IDS) await cluster.start(id);
      const leader = await cluster.leader();
      const warmupPuts = WARMUP_ROUNDS * c.inflight;
      await drivePuts(leader, pages, { first: 0, inflight: c.inflight, putsMax: warmupPuts, durationMsMax: durationMs });
      progress(`store: ${formatBytes(c.pageBytes)} pages, ${c.inflight} in flight, leader ${leader.id}`);
      const meter = new ResourceMeter();
      const run = await drivePuts(leader, pages, { first: warmupPuts, inflight: c.inflight, putsMax: c.putsMax, durationMsMax: durationMs });
      const used = meter.read();
      const acked = performance.now();
      const target = leader.status().appliedIndex;
      await waitFor(
        () => [...cluster.nodes.values()].every((node) => node.status().appliedIndex >= target),
        CATCH_UP_TIMEOUT_MS,
        `every member to apply index ${target}`,
      );
      const catchUpMs = performance.now() - acked;
      const walCompactions = cluster.logLines.filter((line) => line.includes('compacted the WAL')).length;
      return { run, catchUpMs, walCompactions, cpuCores: used.cpuCores, writeAmplification: used.writeBytes / run.bytes };
    } finally {
      await cluster.stopAll();
    }
  });
}

async function ceilings(c: StoreCase): Promise<{ wal: CeilingRun; plain: CeilingRun }> {
  const pages = new PageGenerator(c.pageBytes);
  const plan = { entriesPerSave: c.inflight, bytesMax: CEILING_BYTES_MAX, durationMsMax: CEILING_SECONDS_MAX * MILLISECONDS_PER_SECOND };
  const wal = await withTempDir('kvc-bench-wal-', (dir) => walSaveCeiling(dir, pages, plan));
  const plain = await withTempDir('kvc-bench-plain-', (dir) => plainWriteCeiling(dir, pages, plan));
  return { wal, plain };
}

function resultRow(c: StoreCase, r: ReplicatedResult, ceiling: { wal: CeilingRun; plain: CeilingRun }): Record<string, number> {
  const { run } = r;
  const replicatedMiBps = mibPerSecond(run.bytes, run.elapsedMs);
  const walMiBps = mibPerSecond(ceiling.wal.bytes, ceiling.wal.elapsedMs);
  return {
    pageBytes: c.pageBytes,
    inflight: c.inflight,
    puts: run.puts,
    seconds: round(seconds(run.elapsedMs), 2),
    MiBps: round(replicatedMiBps, 1),
    pagesPerSec: round(run.puts / seconds(run.elapsedMs), 1),
    latencyMsP50: round(quantile(run.latenciesMs, 0.5), 1),
    latencyMsP99: round(quantile(run.latenciesMs, 0.99), 1),
    catchUpMs: Math.round(r.catchUpMs),
    cpuCores: round(r.cpuCores, 2),
    writeAmplification: round(r.writeAmplification, 1),
    walCompactions: r.walCompactions,
    walSaveMiBps: round(walMiBps, 1),
    walSaveLatencyMsP50: round(ceiling.wal.saveLatencyMsP50, 1),
    plainWriteMiBps: round(mibPerSecond(ceiling.plain.bytes, ceiling.plain.elapsedMs), 1),
    plainWriteLatencyMsP50: round(ceiling.plain.saveLatencyMsP50, 1),
    replicatedOverWal: round(replicatedMiBps / walMiBps, 3),
  };
}

function tables(rows: Record<string, number>[]): string {
  const replicated = rows.map(
    (r) =>
      `| ${formatBytes(r.pageBytes!)} | ${r.inflight} | ${r.puts} | ${r.seconds} | **${r.MiBps}** | ${r.pagesPerSec} | ${r.latencyMsP50} | ${r.latencyMsP99} | ${r.catchUpMs} | ${r.cpuCores} | ${r.writeAmplification}× |`,
  );
  const ceiling = rows.map(
    (r) =>
      `| ${formatBytes(r.pageBytes!)} | ${r.inflight} | ${r.walSaveMiBps} | ${r.walSaveLatencyMsP50} | ${r.plainWriteMiBps} | ${r.plainWriteLatencyMsP50} | ${Math.round(r.replicatedOverWal! * 100)}% |`,
  );
  return [
    '| page | in flight | puts | s | MiB/s | pages/s | p50 ms | p99 ms | last member caught up after ms | CPU cores busy | disk writes / acked bytes |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...replicated,
    '',
    '| page | entries per fsync | Wal.save MiB/s | save p50 ms | writev+fdatasync MiB/s | p50 ms | replicated / Wal.save |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...ceiling,
  ].join('\n');
}

export const storeSuite: BenchSuite = {
  name: 'store',
  description: '3 in-process ClusterNodes (WAL + LevelDB, fsync on): replicated put MiB/s and pages/s by page size, and the disk ceiling',
  async run(options: BenchOptions): Promise<SuiteReport> {
    const rows: Record<string, number>[] = [];
    for (const c of CASES) {
      const durationMs = (options.secondsPerCase ?? c.seconds) * MILLISECONDS_PER_SECOND;
      const replicated = await replicatedPuts(c, durationMs, options.progress);
      options.progress(`store: ${formatBytes(c.pageBytes)} replicated done; measuring the disk ceiling`);
      rows.push(resultRow(c, replicated, await ceilings(c)));
    }
    return {
      suite: 'store',
      results: rows,
      table: tables(rows),
      notes: [
        'Replicated: 3 ClusterNodes in ONE process (one JS thread, one disk), fsync on (WAL fdatasync per Ready; LevelDB applies unsynced behind the WAL and is flushed before compaction); a put is acknowledged once committed by a majority and applied on the leader.',
        'Every member writes each page to its WAL and to LevelDB (whose own log, memtable flush and compactions write it again), all on the same disk: the "disk writes / acked bytes" column is that amplification, read from /proc/self/io.',
        '"CPU cores busy" is process CPU time (user + system, all threads) over wall time while measuring; this machine has 2.',
        `Warm-up of ${WARMUP_ROUNDS} puts per in-flight slot before measuring; latency is per put as the leader's caller sees it (propose → applied).`,
        'Ceiling: Wal.save of the same entry sizes alone (one fdatasync per batch of "in flight" entries), and a plain writev + fdatasync of the same bytes, each ≤ 1 GiB or 3 s.',
        'MiB/s = 2^20 bytes per second (about 5% more than MB/s).',
      ],
    };
  },
};
