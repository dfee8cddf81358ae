// The cluster under test: N real member processes on 127.0.0.1, each started from its OWN
// generated config in which the other members' addresses are proxies of the ProxyMesh
// (network.ts), their data and logs under one work directory. This module knows where
// everything is (ports, configs, data and WAL directories, logs) and offers the operations the
// nemeses compose: start (plain, --join, --repair), kill, stop, pause, resume, wipe, and Status
// of every member.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderClusterConfig, reserveLoopbackPorts, type ClusterConfig } from '../config/index.js';
import { LIMITS } from '../limits.js';
import { AdminLink, type MemberView } from './admin.js';
import { ProxyMesh } from './network.js';
import { MemberStartError, ProcessSupervisor, describeExit, type MemberProcess, type ProcessExit } from './supervisor.js';

/** Raft timing of the members: the shipped defaults (LIMITS.raft: 50 ms ticks, elections after 0.5-1 s). */
export const CHAOS_RAFT = Object.freeze({ tickMs: LIMITS.raft.tickMs, electionTick: LIMITS.raft.electionTick, heartbeatTick: LIMITS.raft.heartbeatTick });
/**
 * The budget without `--budget`: far above what a run writes (its default key space holds at
 * most 24 x 2 MiB), so that no page is evicted and every acknowledged put must survive as such.
 * With `--budget` the members get that budget instead, and the checkers account for evictions
 * from the replicated removal record.
 */
export const CHAOS_BUDGET_BYTES = 16 * 1024 * 1024 * 1024;
/**
 * The eviction grace with `--budget`: none. The workload looks up and reads its keys all the time,
 * so with the default grace (10 s) nearly every page is "recently read", nothing is evictable, and
 * puts are refused (KVC_QUOTA_EXHAUSTED) instead of making room: eviction would not be exercised.
 */
export const CHAOS_EVICTION_GRACE_MS = 0;
/**
 * Compaction well before the default 10,000 entries, so that a run exercises snapshots: a member
 * that was down or wiped catches up from a snapshot instead of from the log alone.
 */
export const CHAOS_COMPACTION = Object.freeze({ entries: 2_000, keepEntries: 500 });
/**
 * A small memory tier (LIMITS.memoryTier.smallArenaBytes): five members stay light, and pages
 * still move between the tiers. Shared, so the workload reads over shared memory too, in a folder
 * of the run's own (sharedMemoryDirFor): chaos kills members with SIGKILL, and a killed member's
 * arena file stays until that member starts again, which the last kill of a run never sees; the
 * harness removes the folder when it shuts the cluster down.
 */
export const CHAOS_MEMORY = Object.freeze({ arenaBytes: LIMITS.memoryTier.smallArenaBytes, sharedMemory: true });

/** A fresh folder for the run's arena files: in /dev/shm (memory) where there is one, else under the run's root. */
async function sharedMemoryDirFor(root: string): Promise<string> {
  if (existsSync('/dev/shm')) return mkdtemp('/dev/shm/kvc-chaos-');
  const dir = path.join(root, 'shm');
  await mkdir(dir, { recursive: true });
  return dir;
}
const CLUSTER_NAME = 'chaos';

export interface ChaosClusterOptions {
  nodes: number;
  /** Work directory: configs, data (`data/n<id>`); it must exist. */
  root: string;
  /** Where member logs go (`n<id>.log`). */
  logDir: string;
  log: (line: string) => void;
  /** Extra YAML sections for every member's config, replacing the defaults (`memory`: CHAOS_MEMORY). */
  extraConfig?: Record<string, unknown>;
  /** The cluster's byte budget (`storage.budgetBytes`, with no eviction grace); default CHAOS_BUDGET_BYTES. */
  budgetBytes?: number;
  /** Start members with the test fault switch (KVC_TEST_FAULTS + --unsafe-test-faults), controlled through `setTestFaults`. */
  testFaults?: boolean;
  /** Extra arguments of every member's `kvc start` (the flags of test-only switches). */
  memberArgs?: string[];
}

export class ChaosCluster {
  readonly ids: number[];
  readonly mesh: ProxyMesh;
  readonly supervisor = new ProcessSupervisor();
  /** Cluster misbehaviour the harness saw itself (a member that exited on its own, a WAL that refused to open). */
  readonly incidents: string[] = [];
  /** Members removed from the configuration and not (yet) added back: never restarted as plain members. */
  readonly excluded = new Set<number>();
  /**
   * Members whose exit on their own is part of the fault in force (a member that stops itself on
   * a full disk): logged, not an incident. The nemesis that sets it checks why the member exited.
   */
  readonly exitAllowed = new Set<number>();
  /** Undo steps of faults that changed the machine (a mounted filesystem), run by `shutdown` whatever happened. */
  readonly cleanups = new Map<string, () => Promise<void>>();
  readonly #o: ChaosClusterOptions;
  readonly #admin = new Map<number, AdminLink>();
  /** Members (re-)added at run time: every later start of theirs passes --join too. */
  readonly #joined = new Set<number>();
  /** Where the members' shared arena files go (CHAOS_MEMORY). */
  #sharedMemoryDir = '';

  private constructor(o: ChaosClusterOptions, ids: number[], mesh: ProxyMesh) {
    this.#o = o;
    this.ids = ids;
    this.mesh = mesh;
    for (const id of ids) this.#admin.set(id, new AdminLink(id, mesh.realAddress(id)));
    this.supervisor.onUnexpectedExit = (member, exit) => {
      if (this.exitAllowed.has(member.id)) return o.log(`member ${member.id} exited ${describeExit(exit)} during a fault that allows it`);
      this.incident(`member ${member.id} (pid ${member.pid}) exited on its own ${describeExit(exit)}; see ${this.logFile(member.id)}`);
    };
  }

  /** Reserves ports, starts the proxies and writes one config per member. Starts no member. */
  static async create(o: ChaosClusterOptions): Promise<ChaosCluster> {
    const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
    // The members' ports stay held while the proxies pick theirs, so no proxy takes one of them.
    const reserved = await reserveLoopbackPorts(ids.length);
    let mesh: ProxyMesh;
    try {
      mesh = await ProxyMesh.create(ids.map((id, i) => ({ id, address: `127.0.0.1:${reserved.ports[i]}` })));
    } finally {
      await reserved.release();
    }
    const cluster = new ChaosCluster(o, ids, mesh);
    try {
      const shm = await sharedMemoryDirFor(o.root);
      cluster.#sharedMemoryDir = shm;
      cluster.cleanups.set(`shared memory files (${shm})`, () => rm(shm, { recursive: true, force: true }));
      await mkdir(path.join(o.root, 'config'), { recursive: true });
      await mkdir(o.logDir, { recursive: true });
      if (o.testFaults === true) await mkdir(path.join(o.root, 'faults'), { recursive: true });
      for (const id of ids) await writeFile(cluster.configFile(id), cluster.#configText(id));
    } catch (error) {
      for (const cleanup of cluster.cleanups.values()) await cleanup().catch(() => undefined);
      await mesh.close();
      throw error;
    }
    return cluster;
  }

  configFile(id: number): string {
    return path.join(this.#o.root, 'config', `n${id}.yaml`);
  }

  dataDir(id: number): string {
    return path.join(this.#o.root, 'data', `n${id}`);
  }

  walDir(id: number): string {
    return path.join(this.dataDir(id), 'wal');
  }

  /** The control file of member `id`'s test fault switch (src/faults). */
  testFaultFile(id: number): string {
    return path.join(this.#o.root, 'faults', `n${id}.json`);
  }

  /** Sets the test faults of member `id` (it applies them within about 100 ms); `{}` clears them. */
  async setTestFaults(id: number, faults: { syncDelayMs?: number; clockOffsetMs?: number; enospc?: boolean }): Promise<void> {
    if (this.#o.testFaults !== true) throw new Error('the members run without the test fault switch');
    await writeFile(this.testFaultFile(id), JSON.stringify(faults));
  }

  logFile(id: number): string {
    return path.join(this.#o.logDir, `n${id}.log`);
  }

  address(id: number): string {
    return this.mesh.realAddress(id);
  }

  admin(id: number): AdminLink {
    const link = this.#admin.get(id);
    if (link === undefined) throw new RangeError(`no member ${id}`);
    return link;
  }

  isUp(id: number): boolean {
    return this.supervisor.isUp(id);
  }

  process(id: number): MemberProcess | undefined {
    return this.supervisor.get(id);
  }

  /** Starts every member at once and resolves when all serve. */
  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)));
  }

  /**
   * Starts member `id` from its config; resolves once it serves. A member whose WAL refuses to
   * open (KVC_WAL_CORRUPT) after a fault the WAL must survive is an incident; it is then started
   * with --repair so the run can go on. A member once started with `join` always is.
   */
  async start(id: number, o: { join?: boolean } = {}): Promise<void> {
    if (o.join === true) this.#joined.add(id);
    const join = this.#joined.has(id);
    const args = ['--config', this.configFile(id), '--id', String(id), ...(join ? ['--join'] : []), ...(this.#o.memberArgs ?? [])];
    await this.#appendLog(id, `==== chaos: starting member ${id} ${args.slice(4).join(' ')}`.trimEnd());
    const faults = this.#o.testFaults === true ? { env: { KVC_TEST_FAULTS: this.testFaultFile(id) } } : {};
    if (this.#o.testFaults === true && !args.includes('--unsafe-test-faults')) args.push('--unsafe-test-faults');
    try {
      await this.supervisor.start({ id, args, logFile: this.logFile(id), ...faults });
    } catch (error) {
      if (!(error instanceof MemberStartError) || !error.logTail.includes('KVC_WAL_CORRUPT')) throw error;
      this.incident(`member ${id} refused to start: its WAL is corrupt beyond a torn tail; restarted with --repair (see ${this.logFile(id)})`);
      await this.supervisor.start({ id, args: [...args, '--repair'], logFile: this.logFile(id), ...faults });
    }
  }

  /**
   * Starts every member that should run and does not (one that exited on its own: an incident
   * already). A member that fails to start is one more incident; the run goes on without it.
   */
  async ensureUp(): Promise<void> {
    for (const id of this.ids) {
      if (this.isUp(id) || this.excluded.has(id)) continue;
      await this.start(id).catch((error: unknown) => this.incident(`member ${id} could not be restarted: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  /** Records cluster misbehaviour the harness observed. */
  incident(line: string): void {
    this.incidents.push(line);
    this.#o.log(`INCIDENT: ${line}`);
  }

  kill(id: number): Promise<void> {
    return this.supervisor.kill(id);
  }

  stop(id: number): Promise<ProcessExit | undefined> {
    return this.supervisor.stop(id);
  }

  pause(id: number): void {
    this.supervisor.pause(id);
  }

  resume(id: number): void {
    this.supervisor.resume(id);
  }

  /** Removes a stopped member's data directory (WAL, store, saved address book). */
  async wipe(id: number): Promise<void> {
    if (this.isUp(id)) throw new Error(`member ${id} is running; stop it before wiping its data`);
    // Its contents, not the directory: that may be a mount point (the disk-full nemesis's tmpfs).
    const dir = this.dataDir(id);
    for (const name of await readdir(dir).catch(() => [])) await rm(path.join(dir, name), { recursive: true, force: true });
  }

  /** Status of every member that answers (by id); members that do not answer are absent. */
  async statuses(o: { digest?: boolean; ids?: number[] } = {}): Promise<Map<number, MemberView>> {
    const ids = o.ids ?? this.ids.filter((id) => this.supervisor.get(id)?.state === 'running');
    const answers = await Promise.allSettled(ids.map((id) => this.admin(id).status({ digest: o.digest === true })));
    const views = new Map<number, MemberView>();
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled') views.set(ids[i]!, answer.value);
    });
    return views;
  }

  /** The member that leads in the highest term among those answering now, or undefined. */
  async leader(): Promise<number | undefined> {
    let best: MemberView | undefined;
    for (const view of (await this.statuses()).values()) {
      if (view.role === 'leader' && (best === undefined || view.term > best.term)) best = view;
    }
    return best?.id;
  }

  /** Polls until a leader is known (undefined after `timeoutMs`). */
  async waitForLeader(timeoutMs: number, pollMs = 100): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader !== undefined || performance.now() >= deadline) return leader;
      await sleep(pollMs);
    }
  }

  /** Stops everything: members (clean stop, SIGKILL after the grace), proxies, admin channels. */
  async shutdown(): Promise<void> {
    await this.supervisor.stopAll();
    for (const [what, cleanup] of this.cleanups) {
      await cleanup().catch((error: unknown) => this.#o.log(`cleanup of ${what} failed: ${error instanceof Error ? error.message : String(error)}`));
    }
    this.cleanups.clear();
    await this.mesh.close();
    for (const link of this.#admin.values()) link.close();
  }

  #configText(id: number): string {
    const config: ClusterConfig = {
      cluster: CLUSTER_NAME,
      dataDir: path.join(this.#o.root, 'data'),
      members: this.mesh.configFor(id),
      raft: { ...CHAOS_RAFT },
      storage: this.#o.budgetBytes === undefined
        ? { fsync: true, budgetBytes: CHAOS_BUDGET_BYTES }
        : { fsync: true, budgetBytes: this.#o.budgetBytes, evictionGraceMs: CHAOS_EVICTION_GRACE_MS },
      compaction: { ...CHAOS_COMPACTION },
    };
    const header = `Generated by kvc chaos for member ${id}: the other members' addresses are the harness's proxies.`;
    let text = renderClusterConfig(config, header);
    // Sections the config type of this module does not spell out, as YAML flow mappings (JSON).
    const extra = { memory: { ...CHAOS_MEMORY, sharedMemoryDir: this.#sharedMemoryDir }, ...this.#o.extraConfig };
    for (const [section, value] of Object.entries(extra)) text += `${section}: ${JSON.stringify(value)}\n`;
    return text;
  }

  async #appendLog(id: number, line: string): Promise<void> {
    await writeFile(this.logFile(id), `${line}\n`, { flag: 'a' });
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
