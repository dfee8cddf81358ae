// The `peers` benchmark (issue 11 item 6, reads: issue 12 item 6): our cluster beside peer systems
// doing the same job on the same machine in the same run. This file is the write side and the
// suite; the read side (Redis, the transports' ceilings, our GetPages and Lookup) is peers-read.ts.
// `--part write` or `--part read` runs one side alone. The write side: In turn: a 3-member etcd (Debian's etcd-server, started
// here; skipped with one line if `etcd` is not on PATH) taking 1 MiB puts from the etcd3 Node
// client; our cluster as real member processes (`kvc dev`) taking 1 MiB and 2 MiB pages from our
// client (src/client), and the 1 MiB case once more with the members' files in tmpfs (is it the
// disk that bounds us?); etcd once more (ours is compared with the mean of the two etcd runs);
// and the disk's ceiling, a plain writev + fdatasync of the same bytes. Each
// system gets the same number of puts in flight, sent to its leader, and each run is bounded in
// puts and seconds. Disk writes per acknowledged byte are read from /proc/<pid>/io of every
// server process before and after the timed phase (the "after" once every member has applied it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { plainWriteCeiling, type CeilingRun } from './disk-ceiling.js';
import type { AppendMode } from '../../src/io/index.js';
import { ETCD_STOP_GRACE_MS, startEtcd, type EtcdCluster } from './etcd-cluster.js';
import { startKvcDev, type KvcDevCluster } from './kvc-dev-cluster.js';
import { MIB, formatBytes, quantile, round, seconds, waitFor, withTempDir } from './measure.js';
import { BENCH_NS, PageGenerator, benchPageKey } from './pages.js';
import { driveInflight, findOnPath, type InflightPlan, type InflightRun } from './peers-helpers.js';
import { clientSettingsTable, measureClientSettings, measureReads, readTables, type Row } from './peers-read.js';
import { diskBusyMeter, processCpuMs, removingOnExit, totalWriteBytes } from './processes.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

interface PutCase {
  pageBytes: number;
  inflight: number;
  /** Most measured puts. */
  putsMax: number;
  /** The members' data in MEMORY_DIR (tmpfs) instead of on the disk: what the puts reach with no disk at all. */
  inMemory?: boolean;
}

const INFLIGHT = 8;
/** Tokens a bench page claims to cover (any valid count; as scripts/bench/pages.ts). */
const TOKENS_PER_PAGE = 256;
/** etcd takes values of 1 MiB comfortably (its request limit is raised to 3 MiB here). */
const ETCD_CASE: PutCase = { pageBytes: 1 * MIB, inflight: INFLIGHT, putsMax: 4000 };
/** At most ~4 GiB per case, far below the budget, so nothing is evicted. */
const KVC_CASES: PutCase[] = [
  { pageBytes: 1 * MIB, inflight: INFLIGHT, putsMax: 4000 },
  { pageBytes: 2 * MIB, inflight: INFLIGHT, putsMax: 2000 },
];
/**
 * The 1 MiB case again with the members' files in memory (tmpfs): fsync returns at once and no
 * byte reaches the disk. Beside the disk's row it says whether the disk bounds our puts: about
 * the same MB/s means the members' and client's CPU does.
 */
const KVC_MEMORY_CASE: PutCase = { pageBytes: 1 * MIB, inflight: INFLIGHT, putsMax: 4000, inMemory: true };
/** A tmpfs every Linux has (the members' shared-memory arenas live there too). */
const MEMORY_DIR = '/dev/shm';
/** Seconds of measured puts per case unless --seconds says otherwise. */
const DEFAULT_SECONDS = 10;
/** Puts (per in-flight slot) sent before measuring at least: connections, first files on disk. */
const WARMUP_ROUNDS = 2;
/**
 * Seconds of puts before measuring unless --warmup says otherwise, for every system alike. A member
 * is a Node process: `--trace-opt` of three fresh members under 1 MiB puts showed V8's optimizing
 * compiler busy for the first ~40 s (1.5 s of compile time per 5 s at first, 0.3 s after 40 s,
 * across the three), and a 6 s case right after 2 rounds of warm-up measured that too: 88.7 MB/s
 * at 11.1 ms of members' CPU per MiB, against 112.1 MB/s at 8.8 ms after 30 s (docs/BENCHMARKS.md,
 * sixteenth session). A cache member runs for days; the steady state is what it offers.
 */
const DEFAULT_WARMUP_SECONDS = 20;
/** Warm-up puts at most, whatever the seconds (20 s of 1 MiB puts at 150 MB/s is ~2,900). */
const WARMUP_PUTS_MAX = 20_000;
/** After the last acknowledgement, how long the slowest member may take to apply everything. */
const CATCH_UP_TIMEOUT_MS = 60_000;
/** A put past this is a failure, not a slow sample. */
const PUT_DEADLINE_MS = 60_000;
/** Ceiling runs: at most this many bytes or seconds per page size. */
const CEILING_BYTES_MAX = 1024 * MIB;
const CEILING_SECONDS_MAX = 3;
/** Members writing to the one disk of this machine: a replicated put writes it this many times at least. */
const REPLICAS = 3;
/** Issue 11's target for ours over etcd (a figure the bench reports, never asserts). */
const ETCD_TARGET_RATIO = 4;
const MILLISECONDS_PER_SECOND = 1000;
/** MB/s here is 10^6 bytes per second, as in DESIGN §11 and the figures. */
const BYTES_PER_MB = 1_000_000;

interface SystemRun {
  system: string;
  c: PutCase;
  run: InflightRun;
  /** From the last acknowledgement until every member applied everything. */
  catchUpMs: number;
  /** Bytes every server process wrote to storage, from the start of the timed phase to catch-up. */
  writeBytes: number;
  /** CPU ms (user + system) of every server process, and of the leader alone, over the same span. */
  serverCpuMs: number;
  leaderCpuMs: number;
  /** CPU ms of this process (the client) over the timed puts. */
  clientCpuMs: number;
  /**
   * Of the span of the disk writes, the share (%) the device holding the servers' data was busy
   * (/proc/diskstats io_ticks; device-wide, so other I/O on the machine counts too); undefined
   * where it cannot be read.
   */
  diskBusyPercent?: number;
  /** Pages evicted during the run (ours; must be 0 for a fair figure). */
  evictedPages?: number;
}

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / BYTES_PER_MB / seconds(ms);
}

/** Warm-up, then the timed phase between two readings of the servers' write_bytes. */
async function timedPhase(
  put: (i: number) => Promise<void>,
  c: PutCase,
  durationMs: number,
  warmupMs: number,
  pids: number[],
  leaderPid: number,
  caughtUp: () => Promise<boolean>,
  dataDir: string,
): Promise<Omit<SystemRun, 'system' | 'c'>> {
  let warmupPuts = (await driveInflight(put, c.pageBytes, { first: 0, inflight: c.inflight, putsMax: WARMUP_ROUNDS * c.inflight, durationMsMax: durationMs })).puts;
  if (warmupMs > 0) warmupPuts += (await driveInflight(put, c.pageBytes, { first: warmupPuts, inflight: c.inflight, putsMax: WARMUP_PUTS_MAX, durationMsMax: warmupMs })).puts;
  const diskBusyMs = diskBusyMeter(dataDir);
  const spanStart = performance.now();
  const before = totalWriteBytes(pids);
  const cpuMsBefore = pids.map(processCpuMs);
  const clientBefore = process.cpuUsage();
  const plan: InflightPlan = { first: warmupPuts, inflight: c.inflight, putsMax: c.putsMax, durationMsMax: durationMs };
  const run = await driveInflight(put, c.pageBytes, plan);
  const client = process.cpuUsage(clientBefore);
  const acked = performance.now();
  await waitFor(caughtUp, CATCH_UP_TIMEOUT_MS, 'every member to apply the last put');
  const catchUpMs = performance.now() - acked;
  const cpuMs = pids.map((pid, i) => processCpuMs(pid) - cpuMsBefore[i]!);
  const serverCpuMs = cpuMs.reduce((a, b) => a + b, 0);
  const busyMs = diskBusyMs?.();
  const measured = { run, catchUpMs, writeBytes: totalWriteBytes(pids) - before, serverCpuMs, leaderCpuMs: cpuMs[pids.indexOf(leaderPid)]!, clientCpuMs: (client.user + client.system) / 1000 };
  return busyMs === undefined ? measured : { ...measured, diskBusyPercent: (busyMs * 100) / (performance.now() - spanStart) };
}

/** A temp dir for servers' data: removed afterwards, and also if this process exits (a signal) first. */
function serverTempDir<T>(prefix: string, body: (dir: string) => Promise<T>, parent?: string): Promise<T> {
  return withTempDir(prefix, (dir) => removingOnExit(dir, () => body(dir)), parent);
}

/** Once `indexes()` first answers, its highest value is the target; true once every member has reached it. */
function caughtUpWith<I extends number | bigint>(indexes: () => Promise<I[] | undefined>): () => Promise<boolean> {
  let target: I | undefined;
  return async () => {
    const now = await indexes();
    if (now === undefined) return false;
    target ??= now.reduce((a, b) => (a > b ? a : b));
    return now.every((index) => index >= target!);
  };
}

async function measureEtcd(binary: string, durationMs: number, warmupMs: number, progress: (line: string) => void): Promise<SystemRun> {
  return serverTempDir('kvc-bench-etcd-', async (dir) => {
    const pages = new PageGenerator(ETCD_CASE.pageBytes);
    const cluster: EtcdCluster = await startEtcd(binary, dir);
    try {
      const leader = await cluster.leader();
      progress(`peers: etcd, ${formatBytes(ETCD_CASE.pageBytes)} values, ${ETCD_CASE.inflight} in flight, leader ${leader.name}`);
      const put = async (i: number): Promise<void> => {
        const data = pages.payload(i);
        const value = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        await leader.client.put(`${BENCH_NS}/${i}`).value(value).options({ deadline: Date.now() + PUT_DEADLINE_MS });
      };
      const caughtUp = caughtUpWith(() => cluster.appliedIndexes());
      const measured = await timedPhase(put, ETCD_CASE, durationMs, warmupMs, cluster.pids(), leader.child.pid!, caughtUp, dir);
      return { system: 'etcd', c: ETCD_CASE, ...measured };
    } finally {
      await cluster.stop();
    }
  });
}

async function measureKvc(c: PutCase, durationMs: number, warmupMs: number, progress: (line: string) => void): Promise<SystemRun> {
  return serverTempDir('kvc-bench-peers-', async (dir) => {
    const pages = new PageGenerator(c.pageBytes);
    const cluster: KvcDevCluster = await startKvcDev(path.join(dir, 'dev'));
    try {
      progress(`peers: ours (kvc dev${c.inMemory === true ? ', data in tmpfs' : ''}), ${formatBytes(c.pageBytes)} pages, ${c.inflight} in flight`);
      const put = async (i: number): Promise<void> => {
        const meta = { namespace: BENCH_NS, key: benchPageKey(i), dtype: 'u8' as const, shape: [c.pageBytes], tokens: TOKENS_PER_PAGE };
        const [outcome] = await cluster.client.putPages([{ meta, data: pages.payload(i) }]);
        if (outcome === undefined || outcome.code !== '') throw new Error(`put ${i} refused: ${outcome?.code} ${outcome?.message}`);
      };
      const caughtUp = caughtUpWith(async () => (await Promise.all(cluster.endpoints.map((e) => cluster.client.status(e)))).map((s) => s.appliedIndex));
      const statuses = await Promise.all(cluster.endpoints.map((e) => cluster.client.status(e)));
      const leaderPid = cluster.memberPids[statuses.findIndex((s) => s.role === 'leader')];
      if (leaderPid === undefined) throw new Error('no member of kvc dev reports itself as the leader');
      const measured = await timedPhase(put, c, durationMs, warmupMs, cluster.memberPids, leaderPid, caughtUp, dir);
      const { evictedPages } = await cluster.client.status();
      return { system: c.inMemory === true ? 'ours, data in tmpfs (no disk)' : 'ours', c, ...measured, evictedPages };
    } finally {
      await cluster.stop();
    }
  }, c.inMemory === true ? MEMORY_DIR : undefined);
}

/** How a ceiling writes: a plain writev (through the page cache, left there), or an Appender of a mode (src/io). */
type CeilingWay = 'plain' | 'direct' | 'dropped';

const CEILING_WAYS: readonly CeilingWay[] = ['plain', 'direct', 'dropped'];

const CEILING_LABELS: Record<CeilingWay, string> = {
  plain: 'writev + fdatasync',
  direct: 'direct append + fdatasync',
  dropped: 'dropped append + fdatasync (as members write)',
};

/** plainWriteCeiling's options for `way`: no appender for a plain writev. */
function ceilingOptions(way: CeilingWay): { mode?: AppendMode } {
  return way === 'plain' ? {} : { mode: way };
}

/** `measure` for every page size and way, one after another: per page size, per way. */
async function everyWay(measure: (pageBytes: number, way: CeilingWay) => Promise<CeilingRun>): Promise<Map<number, Map<CeilingWay, CeilingRun>>> {
  const byPage = new Map<number, Map<CeilingWay, CeilingRun>>();
  for (const c of KVC_CASES) {
    const runs = new Map<CeilingWay, CeilingRun>();
    for (const way of CEILING_WAYS) runs.set(way, await measure(c.pageBytes, way));
    byPage.set(c.pageBytes, runs);
  }
  return byPage;
}

async function ceiling(pageBytes: number, way: CeilingWay): Promise<CeilingRun> {
  const plan = { entriesPerSave: INFLIGHT, bytesMax: CEILING_BYTES_MAX, durationMsMax: CEILING_SECONDS_MAX * MILLISECONDS_PER_SECOND };
  return withTempDir('kvc-bench-plain-', (dir) => plainWriteCeiling(dir, new PageGenerator(pageBytes), plan, ceilingOptions(way)));
}

/**
 * REPLICAS writers at once, each in a file of its own on the same disk (as three members are):
 * their bytes summed over the span of all of them. A third of it bounds any 3-member cluster on
 * this disk, whatever its design, since each member must write every acknowledged byte.
 */
async function concurrentCeiling(pageBytes: number, way: CeilingWay): Promise<CeilingRun> {
  const plan = { entriesPerSave: INFLIGHT, bytesMax: CEILING_BYTES_MAX / REPLICAS, durationMsMax: CEILING_SECONDS_MAX * MILLISECONDS_PER_SECOND };
  return withTempDir('kvc-bench-plain-', async (dir) => {
    const started = performance.now();
    const runs = await Promise.all(
      Array.from({ length: REPLICAS }, async (_, i) => {
        const own = path.join(dir, String(i));
        await mkdir(own);
        return plainWriteCeiling(own, new PageGenerator(pageBytes), plan, ceilingOptions(way));
      }),
    );
    const latencies = runs.map((r) => r.saveLatencyMsP50);
    return {
      bytes: runs.reduce((sum, r) => sum + r.bytes, 0),
      elapsedMs: performance.now() - started,
      saves: runs.reduce((sum, r) => sum + r.saves, 0),
      saveLatencyMsP50: quantile(latencies, 0.5),
    };
  });
}

/** `etcdMBps`: the rate ours is compared with (the mean of the etcd runs); undefined for etcd's own rows. */
function putRow(r: SystemRun, etcdMBps: number | undefined, ceilings: Map<number, CeilingRun>, boundsMBps: Map<number, number>): Record<string, number | string> {
  const mbps = mbPerSecond(r.run.bytes, r.run.elapsedMs);
  const wall = ceilings.get(r.c.pageBytes)!;
  const ceilingThirdMBps = mbPerSecond(wall.bytes, wall.elapsedMs) / REPLICAS;
  const row: Record<string, number | string> = {
    kind: 'put',
    system: r.system,
    pageBytes: r.c.pageBytes,
    inflight: r.c.inflight,
    puts: r.run.puts,
    seconds: round(seconds(r.run.elapsedMs), 2),
    MBps: round(mbps, 1),
    latencyMsP50: round(quantile(r.run.latenciesMs, 0.5), 1),
    latencyMsP99: round(quantile(r.run.latenciesMs, 0.99), 1),
    catchUpMs: Math.round(r.catchUpMs),
    diskWritesPerAckedByte: round(r.writeBytes / r.run.bytes, 2),
    serverCpuMsPerMiB: round(r.serverCpuMs / (r.run.bytes / MIB), 1),
    leaderCpuMsPerMiB: round(r.leaderCpuMs / (r.run.bytes / MIB), 1),
    clientCpuMsPerMiB: round(r.clientCpuMs / (r.run.bytes / MIB), 1),
    ...(r.diskBusyPercent !== undefined ? { diskBusyPercent: Math.round(r.diskBusyPercent) } : {}),
    overCeilingThird: round(mbps / ceilingThirdMBps, 3),
  };
  const bound = boundsMBps.get(r.c.pageBytes);
  if (bound !== undefined) row.overDiskBound = round(mbps / bound, 3);
  // The disk's ceiling says nothing of a run that did not use the disk.
  if (r.c.inMemory === true) {
    delete row.overCeilingThird;
    delete row.overDiskBound;
  }
  if (etcdMBps !== undefined) row.overEtcd = round(mbps / etcdMBps, 3);
  if (r.evictedPages !== undefined) row.evictedPages = r.evictedPages;
  return row;
}

function ceilingRow(pageBytes: number, wall: CeilingRun, system: string, writers = 1): Record<string, number | string> {
  return {
    kind: 'ceiling',
    system,
    pageBytes,
    writers,
    entriesPerFsync: INFLIGHT,
    MBps: round(mbPerSecond(wall.bytes, wall.elapsedMs), 1),
    fdatasyncLatencyMsP50: round(wall.saveLatencyMsP50, 1),
    seconds: round(seconds(wall.elapsedMs), 2),
  };
}

function tables(rows: Record<string, number | string>[]): string {
  const cell = (value: number | string | undefined, suffix = ''): string => (value === undefined ? '–' : `${value}${suffix}`);
  const puts = rows
    .filter((r) => r.kind === 'put')
    .map(
      (r) =>
        `| ${r.system} | ${formatBytes(r.pageBytes as number)} | ${r.inflight} | ${r.puts} | ${r.seconds} | **${r.MBps}** | ${r.latencyMsP50} | ${r.latencyMsP99} | ${r.catchUpMs} | ${r.diskWritesPerAckedByte}× | ${r.leaderCpuMsPerMiB} | ${r.serverCpuMsPerMiB} | ${r.clientCpuMsPerMiB} | ${cell(r.diskBusyPercent, ' %')} | ${cell(r.overEtcd, '×')} | ${cell(r.overCeilingThird, '×')} | ${cell(r.overDiskBound, '×')} |`,
    );
  const walls = rows
    .filter((r) => r.kind === 'ceiling')
    .map((r) => `| ${r.system} | ${formatBytes(r.pageBytes as number)} | ${r.writers} | ${r.entriesPerFsync} | ${r.MBps} | ${round((r.MBps as number) / REPLICAS, 1)} | ${r.fdatasyncLatencyMsP50} |`);
  return [
    '| system | page | in flight | puts | s | MB/s | p50 ms | p99 ms | last member caught up after ms | disk writes / acked byte | leader CPU ms / MiB | all members CPU ms / MiB | client CPU ms / MiB | disk busy | ÷ etcd | ÷ (ceiling ÷ 3) | ÷ disk bound |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...puts,
    '',
    '| ceiling | page | writers at once | pages per fdatasync | MB/s (all writers) | ÷ 3 | fdatasync p50 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...walls,
  ].join('\n');
}

function etcdVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: ETCD_STOP_GRACE_MS });
  return /etcd Version: (\S+)/.exec(out.stdout ?? '')?.[1] ?? 'unknown version';
}

function notes(etcdNote: string, warmupSeconds: number): string[] {
  return [
    etcdNote,
    `Ours: \`kvc dev\` (3 member processes, fsync on, budget raised so nothing is evicted) driven by src/client KvcClient.putPages, one page per call, ${INFLIGHT} calls in flight, to the leader, over ${process.env.KVC_PUT_LANE === 'off' ? 'gRPC (KVC_PUT_LANE=off)' : 'the put lane (the client\'s default; KVC_PUT_LANE=off puts over gRPC)'}; a put is acknowledged once committed by a majority and applied on the leader.`,
    `Every case: ${WARMUP_ROUNDS} puts per in-flight slot, then ${warmupSeconds} s of puts (--warmup N, default ${DEFAULT_WARMUP_SECONDS}; at most ${WARMUP_PUTS_MAX}) of warm-up, the same for every system (a fresh member's JIT compiles for tens of seconds), then bounded in puts and seconds (--seconds N, default ${DEFAULT_SECONDS}); latency per put as the client sees it.`,
    'CPU ms / MiB: user + system time from /proc/<pid>/stat of the leader, and summed over every server process, over the same span as the disk writes, per MiB acknowledged; the client CPU is that of the bench process (process.cpuUsage) over the timed puts. On a shared machine it moves far less than MB/s does.',
    'Disk busy: the share of the same span in which the block device holding the servers\' data had I/O in flight (/proc/diskstats io_ticks; device-wide, so I/O of other processes on the machine counts too). Well under 100 % means the puts leave the disk idle part of the time: their round, not the disk, bounds them.',
    'Disk writes / acked byte: the sum over every server process of /proc/<pid>/io write_bytes (bytes sent to storage, counted when dirtied), from the start of the timed phase until every member applied the last put, over the bytes acknowledged. Three replicas on one disk make 3× the floor; later background work (compactions) is not counted.',
    `Ceiling: a plain writev of ${INFLIGHT} pages then fdatasync, repeated, ≤ 1 GiB or ${CEILING_SECONDS_MAX} s per page size; "÷ (ceiling ÷ 3)" compares with a third of it, since three members share this one disk. "${REPLICAS} writers at once": ${REPLICAS} such loops at the same time, each in a file of its own, their bytes summed (as three members write); a third of it bounds any 3-member cluster on this disk. "direct append + fdatasync": the same bytes through src/io's Appender with O_DIRECT; "dropped append + fdatasync": through the page cache, its pages dropped after each fdatasync (posix_fadvise DONTNEED), as members write by default (KVC_APPEND_IO). A plain buffered write of new file data pays for fresh page-cache pages, which swings with the machine's memory; the dropped one reuses the pages it frees.`,
    '÷ etcd: over the mean MB/s of the two etcd runs, the first before our cases and the second ("etcd, again after ours") after them, so that a machine whose speed drifts during the run weighs on both sides; the two etcd rows show the drift.',
    'Targets (issue 11, not asserted): ours ≥ 4× etcd, ≥ 0.5 of ceiling ÷ 3, ≤ 6 disk writes per acked byte with 2 MiB pages.',
    'MB/s = 10^6 bytes per second. All servers, the clients and this process share the machine: compare within one run.',
  ];
}

/** `--part`: one side alone, or the client HTTP/2 settings comparison (only when asked for). */
const PARTS = ['write', 'read', 'client'];

async function writeSide(options: BenchOptions): Promise<{ rows: Row[]; notes: string[] }> {
  const durationMs = (options.secondsPerCase ?? DEFAULT_SECONDS) * MILLISECONDS_PER_SECOND;
  const warmupSeconds = options.warmupSeconds ?? DEFAULT_WARMUP_SECONDS;
  const warmupMs = warmupSeconds * MILLISECONDS_PER_SECOND;
  const binary = findOnPath('etcd');
  // etcd is measured before our cases and again after them: its rate on this shared VM moved by
  // 2x within an hour (35 to 79 MB/s, its CPU per MiB 52 to 20 ms), so ours is compared with the
  // mean of the two runs around it, and both rows show how far etcd drifted within the run.
  const etcdRuns: SystemRun[] = [];
  let etcdNote: string;
  if (binary === undefined) {
    etcdNote = 'etcd: not measured, `etcd` is not on PATH (Debian: apt-get install etcd-server etcd-client); ours alone.';
    options.progress(etcdNote);
  } else {
    etcdNote = `etcd ${etcdVersion(binary)} (${binary}): 3 members on loopback, each in a temp dir, --quota-backend-bytes 8 GiB, --max-request-bytes 3 MiB, defaults otherwise (fsync on); etcd3 npm client with our client's channel options, puts sent to the leader.`;
    etcdRuns.push(await measureEtcd(binary, durationMs, warmupMs, options.progress));
  }
  const ours: SystemRun[] = [];
  for (const c of KVC_CASES) ours.push(await measureKvc(c, durationMs, warmupMs, options.progress));
  const memoryDirExists = existsSync(MEMORY_DIR);
  const memoryNote = memoryDirExists
    ? `"ours, data in tmpfs": the 1 MiB case with the members' data dir under ${MEMORY_DIR} (memory; fdatasync returns at once, nothing reaches a disk). About the same MB/s as on the disk means the disk does not bound our puts; the CPU of the members and the client does. Less than on the disk is no sign of the disk either: writing into tmpfs costs the kernel more CPU per byte than a disk's page cache (compare the members' CPU per MiB).`
    : `"ours, data in tmpfs": not measured, ${MEMORY_DIR} is missing.`;
  if (memoryDirExists) ours.push(await measureKvc(KVC_MEMORY_CASE, durationMs, warmupMs, options.progress));
  if (binary !== undefined) etcdRuns.push({ ...(await measureEtcd(binary, durationMs, warmupMs, options.progress)), system: 'etcd, again after ours' });
  const etcdMBps = etcdRuns.length === 0 ? undefined : etcdRuns.reduce((sum, r) => sum + mbPerSecond(r.run.bytes, r.run.elapsedMs), 0) / etcdRuns.length;
  options.progress('peers: measuring the disk ceiling (writev + fdatasync, and through the appenders, direct and dropped)');
  const alone = await everyWay(ceiling);
  const ceilings = new Map([...alone].map(([pageBytes, runs]) => [pageBytes, runs.get('plain')!]));
  options.progress(`peers: measuring ${REPLICAS} writers at once on the disk (what it allows three members)`);
  const together = await everyWay(concurrentCeiling);
  const boundsMBps = new Map([...together].map(([pageBytes, runs]) => [pageBytes, Math.max(...[...runs.values()].map((run) => mbPerSecond(run.bytes, run.elapsedMs))) / REPLICAS]));
  const rows = [
    ...etcdRuns.map((r) => putRow(r, undefined, ceilings, new Map())),
    ...ours.map((r) => putRow(r, etcdMBps, ceilings, boundsMBps)),
    ...[...alone].flatMap(([pageBytes, runs]) => [...runs].map(([way, run]) => ceilingRow(pageBytes, run, CEILING_LABELS[way]))),
    ...[...together].flatMap(([pageBytes, runs]) => [...runs].map(([way, run]) => ceilingRow(pageBytes, run, CEILING_LABELS[way], REPLICAS))),
  ];
  const boundNote = replicaBoundNote(etcdMBps, boundsMBps);
  const evicted = ours.reduce((n, r) => n + (r.evictedPages ?? 0), 0);
  const warnings = evicted === 0 ? [] : [`WARNING: ${evicted} pages were evicted during our runs; the figures include eviction work.`];
  return { rows, notes: [...warnings, boundNote, ...notes(etcdNote, warmupSeconds), memoryNote] };
}

/**
 * What the disk allows any three members, beside the 4× etcd target: three members on one disk
 * each write every acknowledged byte, so a third of what three writers at once get through is an
 * upper bound for every design (fsync on), ours included.
 */
function replicaBoundNote(etcdMBps: number | undefined, boundsMBps: Map<number, number>): string {
  const bounds = [...boundsMBps].map(([pageBytes, bound]) => `${round(bound, 1)} MB/s with ${formatBytes(pageBytes)} pages`);
  const head = `Disk bound ("÷ disk bound"): a third of what ${REPLICAS} writers at once wrote (the best of each page size's "${REPLICAS} writers" rows) is the most any ${REPLICAS}-member cluster with fsync on and its members on this one disk can take: ${bounds.join(', ')}.`;
  if (etcdMBps === undefined) return head;
  const target = ETCD_TARGET_RATIO * etcdMBps;
  const best = Math.max(...boundsMBps.values());
  const reach = target > best ? 'beyond what this disk allows three members, whatever the page size' : 'within what this disk allows three members';
  return `${head} ${ETCD_TARGET_RATIO}× etcd is ${round(target, 1)} MB/s: ${reach} (${round(target / best, 2)}× the higher bound).`;
}

export const peersSuite: BenchSuite = {
  name: 'peers',
  description:
    'replicated puts: a 3-member etcd vs ours as real processes, the fdatasync ceiling, disk writes per acked byte; reads: Redis vs ours (GetPages, Lookup), the grpc-js / TCP / memcpy ceilings',
  async run(options: BenchOptions): Promise<SuiteReport> {
    if (options.part !== undefined && !PARTS.includes(options.part)) throw new Error(`peers: --part must be one of ${PARTS.join(', ')}, got ${options.part}`);
    if (options.part === 'client') {
      const rows = await measureClientSettings((options.secondsPerCase ?? DEFAULT_SECONDS) / 2, options.progress);
      const notes = [
        'Memory-tier GetPages of 2 MiB pages, 8 in flight, through KvcClient with each setting (connectionsPerMember, channelOptions grpc-node.flow_control_window), against one `kvc dev` cluster; every setting measured twice, interleaved; "per pass" shows the drift.',
        'grpc-js 1.14 passes no client SETTINGS_MAX_FRAME_SIZE (frames stay 16 KiB), so frame size could not be varied from the client.',
      ];
      return { suite: 'peers', results: rows, table: clientSettingsTable(rows), notes };
    }
    const write = options.part === 'read' ? undefined : await writeSide(options);
    // Read cases are shorter than put cases: half of --seconds each (5 s by default).
    const readSeconds = (options.secondsPerCase ?? DEFAULT_SECONDS) / 2;
    const read = options.part === 'write' ? undefined : await measureReads(readSeconds, options.progress);
    const rows = [...(write?.rows ?? []), ...(read?.rows ?? [])];
    const table = [...(write === undefined ? [] : [tables(write.rows)]), ...(read === undefined ? [] : [readTables(read.rows)])].join('\n\n');
    return { suite: 'peers', results: rows, table, notes: [...(write?.notes ?? []), ...(read?.notes ?? [])] };
  },
};
