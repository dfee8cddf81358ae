// disk-full: one member's disk fills up while it runs. Run as root on Linux, every member's data
// directory is a tmpfs of its own from the start (mountDataDirs, TMPFS_BYTES each); the fault
// shrinks the target's to what its data uses now plus DISK_HEADROOM_BYTES, so the workload fills
// it within moments and WAL, blob and LevelDB writes fail with ENOSPC. Otherwise the test fault
// switch (src/faults) makes its WAL writes and blob appends fail with ENOSPC. Either way the
// member must not corrupt anything nor acknowledge what is not durable: a failed WAL write halts
// it (NOT_SERVING, then the process exits with status 1), and the others hold a quorum. The heal
// frees space (the tmpfs grows back, or the injection stops) and starts the member again if it
// stopped; it must open its data and catch up. The member's exit during the fault is part of it,
// not an incident, when its log says ENOSPC.
import path from 'node:path';
import type { ChaosCluster } from '../cluster.js';
import { sleep } from '../cluster.js';
import { canMount, dirBytes, logSinceStart, mountTmpfs } from '../storage-faults.js';
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const DISK_FULL_LEADER_BIAS = 1 / 3;
/** Each member's tmpfs outside the fault: far above what a run keeps (compaction bounds the WAL). */
export const TMPFS_BYTES = 4 * 1024 * 1024 * 1024;
/** Free space left on the shrunk tmpfs: a few puts' worth. */
export const DISK_HEADROOM_BYTES = 1024 * 1024;
/** How long the fault waits for the member to hit the full disk before it holds the window. */
export const FILL_WAIT_MS = 10_000;
const FILL_POLL_MS = 100;
const ENOSPC = /ENOSPC|no space left on device/;
/** What a member logs once a failed write halted it: its process exits after its clean stop. */
const HALTED = /stopped on a fatal error|the member halted/;
/** How long the heal waits for a halted member's process to exit (its clean stop takes ~1 s). */
const EXIT_WAIT_MS = 15_000;

/** The tmpfs under each member's data directory, when the harness runs as root. */
const tmpfsOf = new WeakMap<ChaosCluster, Map<number, { resize(bytes: number): Promise<void> }>>();

/**
 * Puts every member's data directory on a tmpfs of its own (before the members start), when this
 * process may mount; registers the unmounts with the cluster's cleanups. False when it may not.
 */
export async function mountDataDirs(cluster: ChaosCluster): Promise<boolean> {
  if (!canMount()) return false;
  const mounts = new Map<number, { resize(bytes: number): Promise<void> }>();
  tmpfsOf.set(cluster, mounts);
  for (const id of cluster.ids) {
    const mount = await mountTmpfs(cluster.dataDir(id), TMPFS_BYTES);
    mounts.set(id, mount);
    cluster.cleanups.set(`the tmpfs of n${id}`, () => mount.unmount());
  }
  return true;
}

export async function diskFull(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, DISK_FULL_LEADER_BIAS);
  const id = target.id;
  const cluster = ctx.cluster;
  const mount = tmpfsOf.get(cluster)?.get(id);
  cluster.exitAllowed.add(id);
  let how: string;
  let undo: () => Promise<void>;
  if (mount !== undefined) {
    const used = await dirBytes(cluster.dataDir(id));
    const bytes = Math.ceil((used + DISK_HEADROOM_BYTES) / 4096) * 4096;
    await mount.resize(bytes);
    how = `the tmpfs of ${describeTarget(target)} shrunk to ${(bytes / 1048576).toFixed(1)} MiB (${DISK_HEADROOM_BYTES / 1048576} MiB free)`;
    undo = () => mount.resize(TMPFS_BYTES);
  } else {
    await cluster.setTestFaults(id, { enospc: true });
    how = `WAL writes and blob appends of ${describeTarget(target)} fail with ENOSPC (injected)`;
    undo = () => cluster.setTestFaults(id, {});
  }
  const filled = await waitForFull(cluster, id);
  return { detail: `disk full: ${how}${filled ? '' : ` (no ENOSPC within ${FILL_WAIT_MS} ms)`}`, members: [id], heal: () => heal(ctx, id, how, undo) };
}

/** Waits until the member logged ENOSPC or exited (bounded); true when it did. */
async function waitForFull(cluster: ChaosCluster, id: number): Promise<boolean> {
  const deadline = performance.now() + FILL_WAIT_MS;
  while (performance.now() < deadline) {
    if (cluster.process(id)?.state === 'exited' || ENOSPC.test(await logSinceStart(cluster.logFile(id)))) return true;
    await sleep(FILL_POLL_MS);
  }
  return false;
}

async function heal(ctx: NemesisContext, id: number, how: string, undo: () => Promise<void>): Promise<string> {
  await undo();
  // A member that halted on ENOSPC may still be stopping: its exit belongs to this fault, so wait
  // for it before the exit stops being allowed.
  let log = await logSinceStart(ctx.cluster.logFile(id));
  const deadline = performance.now() + EXIT_WAIT_MS;
  while (HALTED.test(log) && ctx.cluster.process(id)?.state !== 'exited' && performance.now() < deadline) {
    await sleep(FILL_POLL_MS);
    log = await logSinceStart(ctx.cluster.logFile(id));
  }
  const stoppedItself = ctx.cluster.process(id)?.state === 'exited';
  ctx.cluster.exitAllowed.delete(id);
  if (stoppedItself && !ENOSPC.test(log)) ctx.cluster.incident(`member ${id} exited during disk-full, but its log does not say ENOSPC (see ${path.basename(ctx.cluster.logFile(id))})`);
  if (!ctx.cluster.isUp(id)) await ctx.cluster.start(id);
  const saw = ENOSPC.test(log) ? 'it hit ENOSPC' : 'it never hit ENOSPC';
  return `disk full: ${how}; ${saw}${stoppedItself ? ', stopped itself and was started again' : ' and kept running'} once space was freed`;
}
