// The `recovery` benchmark: how long one member holding --gib GiB of pages takes to come back.
// A single-member cluster (initialVoters [1]) is filled with 2 MiB pages (fsync off for the fill
// only, to keep it short; the restarts run with fsync on, the default), stopped cleanly, and
// timed while it starts again until it leads and serves a lookup of every page. Then a few more
// pages are put with fsync on and the member is crashed (`crash()`: nothing flushed or compacted
// on the way out, LevelDB left with its write-ahead log to replay), and the reopen is timed again.
import path from 'node:path';
import type { ClusterNode, NodeConfig } from '../../src/node/index.js';
import { benchCluster, drivePuts, type BenchCluster } from './bench-cluster.js';
import { GIB, MIB, directoryBytes, formatBytes, mibPerSecond, round, seconds, waitFor, withTempDir } from './measure.js';
import { BENCH_NS, PageGenerator, benchPageKey } from './pages.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

const GIB_DEFAULT = 2;
const PAGE_BYTES = 2 * MIB;
const FILL_INFLIGHT = 8;
/** The fill must not run away on a slow disk: 2 GiB takes well under a minute here. */
const FILL_SECONDS_MAX = 600;
/** Puts acknowledged with fsync on just before the crash: the state the crash must not lose. */
const PUTS_BEFORE_CRASH = 16;
const MEMBER_ID = 1;
const START_TIMEOUT_MS = 60_000;
const MILLISECONDS_PER_SECOND = 1000;
/** "wal: opened <dir> in 123.4 ms: ..." — the WAL logs its own open time. */
const WAL_OPENED_LINE = /^wal: opened .* in ([\d.]+) ms/;

interface RestartTiming {
  scenario: string;
  pages: number;
  /** `ClusterNode.start` resolved: WAL recovered (every record read and checked), LevelDB open. */
  startMs: number;
  /** Of which the WAL's own open, as it logs it. */
  walOpenMs: number;
  /** Leader elected (a single member still waits out one election timeout). */
  leaderMs: number;
  /** A lookup of every page answered in full and the last page read back (crc checked). */
  servedMs: number;
  walBytes: number;
  storeBytes: number;
}

async function diskBytes(dataDir: string): Promise<{ walBytes: number; storeBytes: number }> {
  return { walBytes: await directoryBytes(path.join(dataDir, 'wal')), storeBytes: await directoryBytes(path.join(dataDir, 'store')) };
}

/** Starts the member and times it until it leads and serves every one of `pages` pages. */
async function timedRestart(cluster: BenchCluster, scenario: string, pages: number, dataDir: string): Promise<{ node: ClusterNode; timing: RestartTiming }> {
  const onDisk = await diskBytes(dataDir);
  cluster.logLines.length = 0;
  const started = performance.now();
  const node = await cluster.start(MEMBER_ID);
  const startMs = performance.now() - started;
  await waitFor(() => node.isLeader(), START_TIMEOUT_MS, 'the restarted member to lead');
  const leaderMs = performance.now() - started;
  const keys = Array.from({ length: pages }, (_, i) => benchPageKey(i));
  const found = await node.lookup(BENCH_NS, keys);
  const last = await node.getPage(BENCH_NS, keys[pages - 1]!);
  const servedMs = performance.now() - started;
  if (found !== pages || last === undefined) throw new Error(`${scenario}: lookup found ${found} of ${pages} pages, last page ${last ? 'present' : 'missing'}`);
  const walOpened = cluster.logLines.map((line) => WAL_OPENED_LINE.exec(line)).find((m) => m !== null);
  const walOpenMs = walOpened ? Number(walOpened[1]) : Number.NaN;
  return { node, timing: { scenario, pages, startMs, walOpenMs, leaderMs, servedMs, ...onDisk } };
}

async function fill(root: string, pages: PageGenerator, count: number, config: Partial<NodeConfig>, progress: (line: string) => void): Promise<Record<string, number | string>> {
  const cluster = benchCluster(root, [MEMBER_ID], { ...config, fsync: false });
  const node = await cluster.start(MEMBER_ID);
  try {
    await waitFor(() => node.isLeader(), START_TIMEOUT_MS, 'the new member to lead');
    progress(`recovery: filling ${formatBytes(count * PAGE_BYTES)} in ${count} pages of ${formatBytes(PAGE_BYTES)}, fsync off`);
    const run = await drivePuts(node, pages, { first: 0, inflight: FILL_INFLIGHT, putsMax: count, durationMsMax: FILL_SECONDS_MAX * MILLISECONDS_PER_SECOND });
    if (run.puts !== count) throw new Error(`fill: only ${run.puts} of ${count} puts within ${FILL_SECONDS_MAX} s`);
    return { scenario: 'fill (fsync off)', pages: run.puts, seconds: round(seconds(run.elapsedMs), 2), MiBps: round(mibPerSecond(run.bytes, run.elapsedMs), 1) };
  } finally {
    await cluster.stopAll();
  }
}

function timingRow(t: RestartTiming): Record<string, number | string> {
  const dataBytes = t.pages * PAGE_BYTES;
  return {
    scenario: t.scenario,
    pages: t.pages,
    dataGiB: round(dataBytes / GIB, 3),
    startSeconds: round(seconds(t.startMs), 2),
    walOpenSeconds: round(seconds(t.walOpenMs), 2),
    leaderSeconds: round(seconds(t.leaderMs), 2),
    servedSeconds: round(seconds(t.servedMs), 2),
    GiBps: round(dataBytes / GIB / seconds(t.servedMs), 2),
    GiBpsExcludingElection: round(dataBytes / GIB / seconds(t.servedMs - (t.leaderMs - t.startMs)), 2),
    walBytes: t.walBytes,
    storeBytes: t.storeBytes,
  };
}

/**
 * Fills, restarts, crashes and restarts one member under `root`. `config` overrides the member's
 * defaults (the suite passes none; an experiment may change e.g. the compaction settings).
 */
export async function measureRecovery(
  root: string,
  gib: number,
  progress: (line: string) => void,
  config: Partial<NodeConfig> = {},
): Promise<Record<string, number | string>[]> {
  const pages = new PageGenerator(PAGE_BYTES);
  const count = Math.max(1, Math.round((gib * GIB) / PAGE_BYTES));
  const fillRow = await fill(root, pages, count, config, progress);
  const dataDir = path.join(root, `n${MEMBER_ID}`);
  // The restarts use the default, fsync on.
  const cluster = benchCluster(root, [MEMBER_ID], config);
  try {
    progress('recovery: restart after a clean stop');
    const clean = await timedRestart(cluster, 'restart after clean stop', count, dataDir);
    const tail = await drivePuts(clean.node, pages, { first: count, inflight: FILL_INFLIGHT, putsMax: PUTS_BEFORE_CRASH, durationMsMax: START_TIMEOUT_MS });
    if (tail.puts !== PUTS_BEFORE_CRASH) throw new Error(`only ${tail.puts} of ${PUTS_BEFORE_CRASH} puts before the crash`);
    await clean.node.crash();
    progress('recovery: restart after a crash');
    const crashed = await timedRestart(cluster, 'restart after crash', count + PUTS_BEFORE_CRASH, dataDir);
    return [fillRow, timingRow(clean.timing), timingRow(crashed.timing)];
  } finally {
    // Stops whichever member is still open (a crashed one is already closed), also on a failure.
    await cluster.stopAll();
  }
}

function table(rows: Record<string, number | string>[]): string {
  const [fillRow, ...restarts] = rows;
  const lines = restarts.map(
    (r) =>
      `| ${r.scenario} | ${r.pages} (${r.dataGiB} GiB) | ${r.startSeconds} | ${r.walOpenSeconds} | ${r.leaderSeconds} | **${r.servedSeconds}** | ${r.GiBps} | ${r.GiBpsExcludingElection} | ${formatBytes(r.walBytes as number)} | ${formatBytes(r.storeBytes as number)} |`,
  );
  return [
    `Fill: ${fillRow!.pages} pages of 2 MiB, fsync off, ${FILL_INFLIGHT} in flight: ${fillRow!.seconds} s (${fillRow!.MiBps} MiB/s).`,
    '',
    '| scenario | pages | start() s | of which WAL open s | leader s | serving s | GiB/s | GiB/s without election | WAL on disk | LevelDB on disk |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...lines,
  ].join('\n');
}

export const recoverySuite: BenchSuite = {
  name: 'recovery',
  description: 'one member holding --gib GiB of 2 MiB pages (default 2): restart time after a clean stop and after a crash',
  async run(options: BenchOptions): Promise<SuiteReport> {
    const gib = options.gib ?? GIB_DEFAULT;
    const rows = await withTempDir('kvc-bench-recovery-', (root) => measureRecovery(root, gib, options.progress));
    return {
      suite: 'recovery',
      results: rows,
      table: table(rows),
      notes: [
        'One member (initialVoters [1]) with its real WAL and LevelDB in a temp dir; the fill runs with fsync off (only to keep it short), the restarts with fsync on (the default).',
        `Times run from calling ClusterNode.start: "start()" when it resolves (WAL recovered: every record read and checksummed; LevelDB opened), "leader" once it leads (one election timeout, 0.5–1 s at the default 50 ms tick), "serving" once a lookup of every page answers in full and the last page is read back with its crc32c checked.`,
        `The crash case puts ${PUTS_BEFORE_CRASH} more pages with fsync on, then calls crash(): the WAL gets no final records and LevelDB replays its own log on open; the lookup checks those pages are there.`,
        'GiB/s = page payload GiB held / serving seconds. The files were just written, so they are in the page cache: a cold start (after a reboot) reads them from the disk instead.',
      ],
    };
  },
};
