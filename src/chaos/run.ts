// One chaos run, start to verdict: start N members behind the proxy mesh, run the workload, fire
// the seeded fault schedule one fault at a time (inject, hold the window, heal, healing gap),
// let the cluster show it writes again after the last heal, stop the workload, wait for
// convergence, read the finals, check the history, and tear everything down - on success, on
// failure and on an abort (Ctrl-C) alike.
//
// What is a harness error (HarnessError, exit 2) and what is a finding: the harness could not set
// the cluster up (ports, the first start, no first leader) or was interrupted - no verdict. Once
// the cluster ran, whatever the members do wrong (lose a write, exit on their own, refuse to
// start after a fault they must survive, fail to converge) is a finding in the verdict.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Prng } from '../sim/index.js';
import { ChaosCluster, sleep } from './cluster.js';
import { awaitConvergence, readRemovalEvidence, readSettledFinals, type Convergence } from './finals.js';
import type { Verdict } from './checkers/index.js';
import type { FaultEvent, History, MemberFinalState, RemovalEvidence } from './history.js';
import { keptDirOf } from './kept-dir.js';
import { NEMESES, type NemesisContext, type NemesisName } from './nemesis/index.js';
import { mountDataDirs } from './nemesis/disk-full.js';
import { LeaderObserver } from './observer.js';
import { planSchedule, GAP_MS_MIN, type PlannedFault } from './schedule.js';
import { ChaosWatcher } from './watcher.js';
import { Workload } from './workload.js';

/** The first election after the members start. */
export const FIRST_LEADER_TIMEOUT_MS = 30_000;
/** After the last heal, how long the cluster has to complete a write before the run moves on. */
export const RECOVERY_WAIT_MS = 20_000;
/** Workload kept running after that first write, so the history shows the healed cluster. */
export const TAIL_MS = 1_000;

export type { Verdict };

/** Nemeses that reach into a running member through its test fault switch (src/faults). */
const TEST_SWITCH_NEMESES: ReadonlySet<NemesisName> = new Set(['slow-fsync', 'clock-jump', 'disk-full']);

/** The checkers (checkHistory of src/chaos/checkers); a parameter so tests can run the harness with others. */
export type CheckHistory = (history: History) => Verdict | Promise<Verdict>;

export interface ChaosRunOptions {
  nodes: number;
  durationMs: number;
  clients: number;
  seed: number;
  nemeses: NemesisName[];
  /** Latency added to every peer link, ms (0: none). */
  linkDelayMs: number;
  check: CheckHistory;
  /** Where member logs go; default: inside the work directory. */
  logDir?: string;
  /** Keep the work directory (data, configs, logs) afterwards. */
  keep?: boolean;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Extra sections for the members' configs (e.g. `memory`). */
  extraConfig?: Record<string, unknown>;
  /** The cluster's byte budget, small enough to evict (default: far above what a run writes). */
  budgetBytes?: number;
  /** Keys of the workload (default WORKLOAD_KEYS). */
  keys?: number;
  /** Extra arguments of every member's `kvc start` (the flags of test-only switches, src/cli/unsafe-switches.ts). */
  memberArgs?: string[];
}

export interface ChaosRunResult {
  history: History;
  verdict: Verdict;
  faults: Record<string, number>;
  incidents: string[];
  /** Final members' applied index and digest agreed within the bound (the harness's own wait). */
  convergenceWaitMs: number;
  elapsedMs: number;
  /** Where the work directory is, when it was kept. */
  keptDir?: string;
}

/** The harness itself failed (no verdict): exit status 2. */
export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
  }
}

export async function runChaos(o: ChaosRunOptions): Promise<ChaosRunResult> {
  const started = performance.now();
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-chaos-'));
  const logDir = o.logDir ?? path.join(root, 'logs');
  await mkdir(logDir, { recursive: true });
  let cluster: ChaosCluster | undefined;
  const killLeftovers = (): void => cluster?.supervisor.killAllSync();
  process.on('exit', killLeftovers);
  let keptDir: string | undefined;
  try {
    cluster = await ChaosCluster.create({
      nodes: o.nodes,
      root,
      logDir,
      log: o.log,
      ...(o.extraConfig ? { extraConfig: o.extraConfig } : {}),
      ...(o.budgetBytes === undefined ? {} : { budgetBytes: o.budgetBytes }),
      ...(o.nemeses.some((name) => TEST_SWITCH_NEMESES.has(name)) ? { testFaults: true } : {}),
      ...(o.memberArgs === undefined ? {} : { memberArgs: o.memberArgs }),
    });
    if (o.nemeses.includes('disk-full') && (await mountDataDirs(cluster))) o.log('disk-full: every member\'s data directory is a tmpfs of its own');
    cluster.mesh.setDelay(o.linkDelayMs);
    const result = await runOn(cluster, o, started);
    keptDir = keptDirOf(o, root, logDir, result);
    return { ...result, ...(keptDir === undefined ? {} : { keptDir }) };
  } finally {
    await cluster?.shutdown();
    process.off('exit', killLeftovers);
    if (o.keep !== true) await removeWorkDir(root, keptDir);
  }
}

async function runOn(cluster: ChaosCluster, o: ChaosRunOptions, started: number): Promise<Omit<ChaosRunResult, 'keptDir'>> {
  const now = (): number => performance.now();
  o.log(`starting ${o.nodes} members (logs in ${path.dirname(cluster.logFile(1))})`);
  await cluster.startAll().catch((error: unknown) => {
    throw new HarnessError(`could not start the cluster: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  const first = await cluster.waitForLeader(FIRST_LEADER_TIMEOUT_MS);
  if (first === undefined) throw new HarnessError(`no leader within ${FIRST_LEADER_TIMEOUT_MS} ms of starting the cluster`);
  throwIfAborted(o.signal);
  o.log(`cluster up, leader n${first}; workload: ${o.clients} clients for ${Math.round(o.durationMs / 1000)} s, nemeses: ${o.nemeses.join(', ') || 'none'}`);
  const observer = new LeaderObserver(cluster, now);
  const workload = new Workload({
    clients: o.clients,
    seed: o.seed,
    ...(o.keys === undefined ? {} : { keys: o.keys }),
    members: cluster.ids,
    addressOf: (id) => cluster.address(id),
    memberAt: (address) => cluster.mesh.memberAt(address),
    now,
  });
  const startedMs = now();
  const faults: FaultEvent[] = [];
  // Watches every member from index 1 through every fault; checked by checkers/watch-feed.ts.
  const watcher = new ChaosWatcher(cluster.ids.map((id) => cluster.address(id)));
  observer.start();
  workload.start();
  try {
    try {
      const ctx: NemesisContext = { cluster, observer, prng: new Prng(o.seed ^ 0x6e656d), log: o.log };
      const run: ScheduleRun = { startedMs, durationMs: o.durationMs, faults, now, ...(o.signal ? { signal: o.signal } : {}) };
      await runSchedule(ctx, planSchedule(o.nemeses, o.durationMs, o.seed), run);
      throwIfAborted(o.signal);
      await cluster.ensureUp();
      await awaitRecovery(workload, faults, o, now);
    } finally {
      await workload.stop();
    }
    throwIfAborted(o.signal);
    o.log(`workload stopped after ${workload.operations.length} operations; waiting for convergence`);
    const { finals, convergence, removals } = await settle(cluster, workload.keys, o);
    await watcher.stop(Math.max(0, ...finals.map((f) => f.appliedIndex)), o.signal);
    // The observer ran through the convergence wait too: leaders elected then count.
    await observer.stop();
    const history: History = {
      seed: o.seed,
      nodes: o.nodes,
      startedMs,
      operations: workload.operations,
      finals,
      leaders: observer.observations,
      faults,
      ...(o.budgetBytes === undefined ? {} : { budgetBytes: o.budgetBytes }),
      ...(removals === undefined ? {} : { removals }),
      watch: watcher.record,
    };
    o.log(`checking ${history.operations.length} operations`);
    const verdict = await o.check(history);
    const counts = Object.fromEntries(o.nemeses.map((name) => [name, faults.filter((f) => f.nemesis === name).length]));
    return { history, verdict, faults: counts, incidents: cluster.incidents.slice(), convergenceWaitMs: convergence.waitedMs, elapsedMs: now() - started };
  } finally {
    await observer.stop();
    await watcher.stop(0);
  }
}

interface Settled {
  finals: MemberFinalState[];
  convergence: Convergence;
  removals: RemovalEvidence | undefined;
}

/**
 * Waits for convergence (bounded), reads every key from every final member (again for keys they
 * answered differently while the cluster applied past that point), then the removal record: after
 * the finals, so that every eviction a final read could have seen is in it.
 */
async function settle(cluster: ChaosCluster, keys: Uint8Array[], o: ChaosRunOptions): Promise<Settled> {
  const converged = await awaitConvergence(cluster, o.signal);
  throwIfAborted(o.signal);
  o.log(`${converged.converged ? 'converged' : 'NOT converged'} after ${Math.round(converged.waitedMs)} ms; reading every key from every member`);
  const { finals, convergence } = await readSettledFinals(cluster, converged, keys, o.log, o.signal);
  const removals = await readRemovalEvidence(cluster, convergence.members, o.log);
  if (removals === undefined) o.log('no member answered ListRemovals: no missing page can be explained by a removal');
  else o.log(`removal record of n${removals.member}: ${removals.entries.length} entries, ${removals.evictedPages} pages evicted`);
  return { finals, convergence, removals };
}

interface ScheduleRun {
  startedMs: number;
  durationMs: number;
  faults: FaultEvent[];
  now: () => number;
  signal?: AbortSignal;
}

async function runSchedule(ctx: NemesisContext, plan: PlannedFault[], run: ScheduleRun): Promise<void> {
  let healedAt = run.now();
  for (const planned of plan) {
    if (isAborted(run.signal)) return;
    const earliest = Math.max(run.startedMs + planned.atMs, healedAt + GAP_MS_MIN);
    // Faults past the first cycle only run while they still fit the duration.
    if (!planned.required && earliest + planned.windowMs > run.startedMs + run.durationMs) break;
    await sleep(earliest - run.now(), run.signal);
    if (isAborted(run.signal)) return;
    await ctx.cluster.ensureUp();
    await runFault(ctx, planned, run);
    healedAt = run.now();
  }
  // The workload goes on to the end of the duration, whatever the faults took.
  await sleep(run.startedMs + run.durationMs - run.now(), run.signal);
}

async function runFault(ctx: NemesisContext, planned: PlannedFault, run: ScheduleRun): Promise<void> {
  const event: FaultEvent = { nemesis: planned.nemesis, detail: planned.nemesis, startMs: run.now(), members: [] };
  run.faults.push(event);
  const at = ((event.startMs - run.startedMs) / 1000).toFixed(1);
  try {
    const active = await NEMESES[planned.nemesis](ctx);
    event.detail = active.detail;
    event.members = active.members;
    if (active.injectedMs !== undefined) event.injectedMs = active.injectedMs;
    ctx.log(`t+${at}s ${planned.nemesis}: ${active.detail}${active.instant === true ? '' : ` for ${planned.windowMs} ms`}`);
    if (active.instant !== true) await sleep(planned.windowMs, run.signal);
    const amended = await active.heal();
    if (typeof amended === 'string') event.detail = amended;
  } catch (error) {
    // A nemesis that could not do its job (a member that would not start again, a membership
    // change the cluster refused) is the cluster failing under the fault, not the harness.
    event.detail = `${event.detail} (failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    ctx.cluster.incident(`${planned.nemesis} at t+${at}s did not complete: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    event.endMs = run.now();
  }
}

/** Waits until a write invoked after the last heal succeeded (bounded), then a short tail. */
async function awaitRecovery(workload: Workload, faults: FaultEvent[], o: ChaosRunOptions, now: () => number): Promise<void> {
  const lastHeal = faults.reduce((latest, f) => Math.max(latest, f.endMs ?? 0), 0);
  const deadline = now() + RECOVERY_WAIT_MS;
  while (workload.lastOkWriteInvokeMs < lastHeal && now() < deadline && !isAborted(o.signal)) await sleep(100, o.signal);
  if (workload.lastOkWriteInvokeMs < lastHeal) o.log(`no write succeeded within ${RECOVERY_WAIT_MS} ms of the last heal`);
  await sleep(TAIL_MS, o.signal);
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal === undefined || !signal.aborted) return;
  const reason: unknown = signal.reason;
  throw new HarnessError(`interrupted (${reason instanceof Error ? reason.message : String(reason)})`);
}

/** Removes the work directory, or all of it but `keep` (the logs of a failed run). */
async function removeWorkDir(root: string, keep: string | undefined): Promise<void> {
  if (keep === undefined || !keep.startsWith(root)) {
    await rm(root, { recursive: true, force: true });
    return;
  }
  await rm(path.join(root, 'data'), { recursive: true, force: true });
  await rm(path.join(root, 'config'), { recursive: true, force: true });
}
