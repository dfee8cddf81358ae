// The `failover` benchmark: how long a 5-member `kvc dev` cluster is without a leader, and how long
// its clients cannot write, after the leader is killed with SIGKILL; and how many elections happen
// while the leader lives, under `kvc bench` load (spurious ones: none should).
//
// One `kvc dev --nodes 5` cluster (real member processes, fsync on, default config). First
// `kvc bench` runs against it while every member's Status is polled; every term change seen there
// is an election the load caused. Then, --kills times (12 by default): wait for a steady leader
// (every member answers with the same term and leader), SIGKILL it, and poll the survivors' Status
// every 20 ms until one reports itself leader of a newer term (time to new leader). Meanwhile
// a put of a small page starts every 20 ms through one KvcClient with its default retry policy;
// the first put started after the kill and acknowledged gives the unavailability clients saw. The killed member is then
// restarted (`kvc start --config <dir>/cluster.yaml --id N`, as kvc dev suggests) and the next
// round waits until it is back. Bounded: every wait has a timeout, the kills a count.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseMetrics, sumOf } from '../../src/cli/member-rates.js';
import { KvcClient, type MemberStatus, type PageInput } from '../../src/client/index.js';
import { LIMITS } from '../../src/limits.js';
import { KVC_BIN, startKvcDev, type KvcDevCluster } from './kvc-dev-cluster.js';
import { KIB, quantile, round, sleep, withTempDir } from './measure.js';
import { TailBuffer, forgetOnExit, killOnExit, stopChild } from './processes.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

const MEMBERS = 5;
export const KILLS_DEFAULT = 12;
const KILLS_MAX = 100;
const POLL_MS = 20;
const STATUS_DEADLINE_MS = 500;
/** Past this a kill is a failure of the cluster, not a slow sample. */
const NEW_LEADER_TIMEOUT_MS = 15_000;
const PUT_BACK_TIMEOUT_MS = 20_000;
const STEADY_TIMEOUT_MS = 60_000;
/** Heartbeats flow this long undisturbed before a kill, so no election is still settling. */
const STEADY_MS = 1_000;
const PUT_INTERVAL_MS = 20;
const PUTS_IN_FLIGHT_MAX = 64;
const PUT_PAGE_BYTES = 4 * KIB;
/** `kvc bench --pages`: 2 MiB pages, 8 in flight, then reads and lookups (some seconds of load). */
const LOAD_PAGES = 200;
const LOAD_TIMEOUT_MS = 300_000;
const LOAD_POLL_MS = 100;
const STOP_GRACE_MS = 10_000;
const NS = 'failover';

/** Every member's Status, or undefined for those that did not answer in time. */
async function statuses(client: KvcClient, endpoints: readonly string[]): Promise<(MemberStatus | undefined)[]> {
  return Promise.all(endpoints.map((endpoint) => client.status(endpoint).catch(() => undefined)));
}

/** The leader once every member answers with the same term and leader; undefined otherwise. */
function steadyLeader(answers: (MemberStatus | undefined)[]): MemberStatus | undefined {
  const leader = answers.find((a) => a?.role === 'leader');
  if (leader === undefined) return undefined;
  const agreed = answers.every((a) => a !== undefined && a.term === leader.term && a.leaderId === leader.id);
  return agreed ? leader : undefined;
}

async function waitSteady(client: KvcClient, endpoints: readonly string[]): Promise<MemberStatus> {
  const deadline = performance.now() + STEADY_TIMEOUT_MS;
  let since: MemberStatus | undefined;
  let sinceMs = 0;
  while (performance.now() < deadline) {
    const leader = steadyLeader(await statuses(client, endpoints));
    if (leader === undefined || leader.term !== since?.term || leader.id !== since.id) {
      since = leader;
      sinceMs = performance.now();
    } else if (performance.now() - sinceMs >= STEADY_MS) {
      return leader;
    }
    await sleep(LOAD_POLL_MS);
  }
  throw new Error(`no steady leader within ${STEADY_TIMEOUT_MS} ms`);
}

/**
 * Small puts started every PUT_INTERVAL_MS whatever the earlier ones do (at most PUTS_IN_FLIGHT_MAX
 * at once), through one KvcClient: tells when the first put started after a moment was
 * acknowledged, i.e. how long a caller arriving just then waited. Puts started before it are not
 * counted: one caught in flight may be acknowledged by the killed leader just before it died.
 */
class PutLoad {
  failures = 0;
  #inFlight = 0;
  #next = 0;
  #waiters: { afterMs: number; resolve: (ackMs: number) => void }[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #data = new Uint8Array(PUT_PAGE_BYTES).fill(7);

  constructor(readonly client: KvcClient) {
    this.#timer = setInterval(() => this.#start(), PUT_INTERVAL_MS);
  }

  #start(): void {
    if (this.#inFlight >= PUTS_IN_FLIGHT_MAX) return;
    const key = new Uint8Array(16);
    new DataView(key.buffer).setUint32(12, this.#next++);
    const page: PageInput = { meta: { namespace: NS, key, dtype: 'u8', shape: [PUT_PAGE_BYTES], tokens: 16 }, data: this.#data };
    const startedMs = performance.now();
    this.#inFlight++;
    this.client.putPages([page]).then(
      () => this.#acked(startedMs, performance.now()),
      // The client gave up after its retries: counted (a caller would have seen an error).
      () => this.failures++,
    ).finally(() => this.#inFlight--);
  }

  #acked(startedMs: number, nowMs: number): void {
    const ready = this.#waiters.filter((w) => startedMs > w.afterMs);
    this.#waiters = this.#waiters.filter((w) => startedMs <= w.afterMs);
    for (const w of ready) w.resolve(nowMs);
  }

  /** When the first put started after `afterMs` was acknowledged; rejects after `timeoutMs`. */
  firstAckAfter(afterMs: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no put acknowledged within ${timeoutMs} ms of the kill`)), timeoutMs);
      this.#waiters.push({ afterMs, resolve: (ackMs) => (clearTimeout(timer), resolve(ackMs)) });
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#inFlight > 0) await sleep(POLL_MS);
  }
}

interface KillResult {
  kill: number;
  killedId: number;
  termBefore: number;
  termAfter: number;
  newLeaderMs: number;
  unavailableMs: number;
  failedPuts: number;
  load1: number;
}

/** Polls the survivors every POLL_MS until one leads a newer term; resolves with when it answered. */
async function newLeader(client: KvcClient, survivors: string[], termBefore: number): Promise<MemberStatus & { atMs: number }> {
  const deadline = performance.now() + NEW_LEADER_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const started = performance.now();
    const answers = await statuses(client, survivors);
    const leader = answers.find((a) => a?.role === 'leader' && a.term > termBefore);
    if (leader !== undefined) return { ...leader, atMs: performance.now() };
    await sleep(Math.max(0, POLL_MS - (performance.now() - started)));
  }
  throw new Error(`no new leader within ${NEW_LEADER_TIMEOUT_MS} ms of the kill`);
}

class FailoverCluster {
  readonly #restarted: ChildProcess[] = [];
  readonly #log = new TailBuffer();

  constructor(
    readonly dev: KvcDevCluster,
    readonly dir: string,
    readonly statusClient: KvcClient,
  ) {}

  /** Restarts member `id` as kvc dev would have started it. */
  restart(id: number): void {
    const args = [KVC_BIN, 'start', '--config', path.join(this.dir, 'cluster.yaml'), '--id', String(id), '--log-level', 'warn'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid === undefined) throw new Error(`could not restart member ${id}`);
    killOnExit(child.pid);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.#log.push(chunk));
    this.#restarted.push(child);
  }

  async stop(): Promise<void> {
    this.statusClient.close();
    await this.dev.stop();
    for (const child of this.#restarted) {
      await stopChild(child, STOP_GRACE_MS);
      forgetOnExit(child.pid!);
    }
  }
}

async function oneKill(cluster: FailoverCluster, load: PutLoad, kill: number): Promise<KillResult> {
  const { endpoints } = cluster.dev;
  const before = await waitSteady(cluster.statusClient, endpoints);
  const failuresBefore = load.failures;
  const killAtMs = performance.now();
  process.kill(before.pid, 'SIGKILL');
  const ack = load.firstAckAfter(killAtMs, PUT_BACK_TIMEOUT_MS);
  const leader = await newLeader(cluster.statusClient, endpoints.filter((e) => e !== before.address), before.term);
  const ackMs = await ack;
  cluster.restart(before.id);
  return {
    kill,
    killedId: before.id,
    termBefore: before.term,
    termAfter: leader.term,
    newLeaderMs: round(leader.atMs - killAtMs, 1),
    unavailableMs: round(ackMs - killAtMs, 1),
    failedPuts: load.failures - failuresBefore,
    load1: round(loadavg()[0]!, 2),
  };
}

interface LoadElections {
  /** Term changes seen while `kvc bench` ran: each is an election, and the leader lived throughout. */
  elections: number;
  leaderChanges: number;
  /** Polls in which some member was a (pre-)candidate: elections tried, whether or not they won. */
  campaignSightings: number;
  benchSeconds: number;
  /** Empty when `kvc bench` succeeded; else the error it ended with. */
  benchError: string;
  load1: number;
  /** Event-loop stalls of half an election timeout or more, summed over the members (kvc_event_loop_stall_seconds). */
  stalls: StallCounts;
}

interface StallCounts {
  /** The process used about the gap's CPU time: synchronous work held the loop. */
  busy: number;
  /** It did not: the machine did not give it a CPU (or it waited in a blocking call). */
  starved: number;
  seconds: number;
}

/** Sums every member's kvc_event_loop_stall_seconds from its /metrics (members without one count nothing). */
async function stallCounts(client: KvcClient, endpoints: readonly string[]): Promise<StallCounts> {
  const counts: StallCounts = { busy: 0, starved: 0, seconds: 0 };
  for (const status of await statuses(client, endpoints)) {
    if (status === undefined || status.metricsUrl === '') continue;
    const samples = parseMetrics(await fetch(status.metricsUrl).then((r) => r.text()).catch(() => ''));
    counts.busy += sumOf(samples, 'kvc_event_loop_stall_seconds_count', { cause: 'busy' });
    counts.starved += sumOf(samples, 'kvc_event_loop_stall_seconds_count', { cause: 'starved' });
    counts.seconds += sumOf(samples, 'kvc_event_loop_stall_seconds_sum');
  }
  counts.seconds = round(counts.seconds, 2);
  return counts;
}

/** Runs `kvc bench` against the cluster and counts the elections it caused. */
async function electionsUnderLoad(cluster: FailoverCluster): Promise<LoadElections> {
  const { endpoints } = cluster.dev;
  const start = await waitSteady(cluster.statusClient, endpoints);
  const args = [KVC_BIN, 'bench', '--endpoints', endpoints.join(','), '--pages', String(LOAD_PAGES), '--json'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child.pid!);
  const log = new TailBuffer();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  const stallsBefore = await stallCounts(cluster.statusClient, endpoints);
  const started = performance.now();
  let maxTerm = start.term;
  let lastLeader = start.id;
  let leaderChanges = 0;
  let campaignSightings = 0;
  while (running && performance.now() - started < LOAD_TIMEOUT_MS) {
    const answers = await statuses(cluster.statusClient, endpoints);
    for (const a of answers) if (a !== undefined) maxTerm = Math.max(maxTerm, a.term);
    if (answers.some((a) => a?.role === 'candidate' || a?.role === 'pre-candidate')) campaignSightings++;
    const leader = answers.find((a) => a?.role === 'leader' && a.term === maxTerm);
    if (leader !== undefined && leader.id !== lastLeader) {
      leaderChanges++;
      lastLeader = leader.id;
    }
    await sleep(LOAD_POLL_MS);
  }
  await stopChild(child, STOP_GRACE_MS);
  forgetOnExit(child.pid!);
  const code = await exited;
  // A failed bench (a client that gave up during an election) is a finding, not a harness error.
  const benchError = code === 0 ? '' : log.text().split('\n').filter((line) => line.includes('KVC_')).pop() ?? `exit ${code}`;
  const benchSeconds = round((performance.now() - started) / 1000, 1);
  const stallsAfter = await stallCounts(cluster.statusClient, endpoints);
  const stalls: StallCounts = {
    busy: stallsAfter.busy - stallsBefore.busy,
    starved: stallsAfter.starved - stallsBefore.starved,
    seconds: round(stallsAfter.seconds - stallsBefore.seconds, 2),
  };
  return { elections: maxTerm - start.term, leaderChanges, campaignSightings, benchSeconds, benchError, load1: round(loadavg()[0]!, 2), stalls };
}

async function measureFailover(dir: string, kills: number, progress: (line: string) => void): Promise<{ rows: KillResult[]; underLoad: LoadElections }> {
  progress(`failover: starting kvc dev --nodes ${MEMBERS}`);
  const dev = await startKvcDev(path.join(dir, 'dev'), MEMBERS);
  const statusClient = new KvcClient({ endpoints: dev.endpoints, deadlineMs: STATUS_DEADLINE_MS, retries: 0 });
  const cluster = new FailoverCluster(dev, path.join(dir, 'dev'), statusClient);
  try {
    progress(`failover: kvc bench --pages ${LOAD_PAGES}, counting elections`);
    const underLoad = await electionsUnderLoad(cluster);
    progress(`failover: ${underLoad.elections} election(s) under load (load average ${underLoad.load1})`);
    const load = new PutLoad(dev.client);
    const rows: KillResult[] = [];
    try {
      for (let kill = 1; kill <= kills; kill++) {
        const row = await oneKill(cluster, load, kill);
        progress(`failover: kill ${kill}/${kills} of member ${row.killedId}: new leader in ${row.newLeaderMs} ms, puts back in ${row.unavailableMs} ms (load ${row.load1})`);
        rows.push(row);
      }
    } finally {
      await load.stop();
    }
    return { rows, underLoad };
  } finally {
    await cluster.stop();
  }
}

function summarize(rows: KillResult[], underLoad: LoadElections): Record<string, unknown> {
  const leaderMs = rows.map((r) => r.newLeaderMs);
  const unavailableMs = rows.map((r) => r.unavailableMs);
  return {
    kills: rows.length,
    newLeaderMsMedian: quantile([...leaderMs], 0.5),
    newLeaderMsMax: Math.max(...leaderMs),
    unavailableMsMedian: quantile([...unavailableMs], 0.5),
    unavailableMsMax: Math.max(...unavailableMs),
    failedPuts: rows.reduce((sum, r) => sum + r.failedPuts, 0),
    spuriousElections: underLoad.elections,
    benchError: underLoad.benchError,
    campaignSightingsUnderLoad: underLoad.campaignSightings,
    stallsUnderLoad: underLoad.stalls,
    loadAverage1m: round(rows.reduce((sum, r) => sum + r.load1, 0) / rows.length, 2),
    raft: { tickMs: LIMITS.raft.tickMs, electionTick: LIMITS.raft.electionTick, heartbeatTick: LIMITS.raft.heartbeatTick },
  };
}

function table(rows: KillResult[], summary: Record<string, unknown>, underLoad: LoadElections): string {
  return [
    '| kill | member | term before → after | new leader ms | puts back ms | failed puts | load 1m |',
    '|---:|---:|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.kill} | ${r.killedId} | ${r.termBefore} → ${r.termAfter} | ${r.newLeaderMs} | ${r.unavailableMs} | ${r.failedPuts} | ${r.load1} |`),
    '',
    '| kills | new leader median ms | new leader max ms | unavailable median ms | unavailable max ms | elections under kvc bench (no kill) | event-loop stalls then: busy / starved |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${rows.length} | **${summary.newLeaderMsMedian}** | **${summary.newLeaderMsMax}** | ${summary.unavailableMsMedian} | ${summary.unavailableMsMax} | **${underLoad.elections}** (${underLoad.benchSeconds} s, load ${underLoad.load1}) | ${underLoad.stalls.busy} / ${underLoad.stalls.starved} (${underLoad.stalls.seconds} s) |`,
  ].join('\n');
}

export const failoverSuite: BenchSuite = {
  name: 'failover',
  description: `SIGKILL the leader of a ${MEMBERS}-member kvc dev cluster --kills times (default ${KILLS_DEFAULT}): time to a new leader and until puts succeed; elections under kvc bench load`,
  async run(options: BenchOptions): Promise<SuiteReport> {
    const kills = options.kills ?? KILLS_DEFAULT;
    if (!Number.isSafeInteger(kills) || kills > KILLS_MAX) throw new Error(`--kills must be an integer up to ${KILLS_MAX}, got ${kills}`);
    const { rows, underLoad } = await withTempDir('kvc-bench-failover-', (dir) => measureFailover(dir, kills, options.progress));
    const summary = summarize(rows, underLoad);
    return {
      suite: 'failover',
      results: rows.map((r) => ({ ...r })),
      table: table(rows, summary, underLoad),
      notes: [
        `Raft timing: tick ${LIMITS.raft.tickMs} ms, election timeout ${LIMITS.raft.electionTick} ticks (randomized in [e, 2e)), heartbeat every ${LIMITS.raft.heartbeatTick} tick(s); pre-vote and check-quorum on.`,
        `"new leader": from just before the SIGKILL until a survivor answers Status as leader of a newer term (polled every ${POLL_MS} ms). "puts back": until the first put started after the kill is acknowledged (a ${PUT_PAGE_BYTES / KIB} KiB put starts every ${PUT_INTERVAL_MS} ms through one KvcClient with its default retry policy).`,
        `The killed member is restarted before the next kill, which waits until all ${MEMBERS} agree on a leader for ${STEADY_MS} ms.`,
        `"elections under kvc bench": term changes seen by polling every member every ${LOAD_POLL_MS} ms during \`kvc bench --pages ${LOAD_PAGES}\` (2 MiB pages), no member killed; ${underLoad.campaignSightings} poll(s) saw a (pre-)candidate. "event-loop stalls": Raft ticks half an election timeout late or more on any member meanwhile (kvc_event_loop_stall_seconds), busy when the process used about the gap's CPU time, starved when the machine did not run it${underLoad.benchError === '' ? '' : `; kvc bench failed: ${underLoad.benchError}`}.`,
      ],
      summary,
    };
  },
};
