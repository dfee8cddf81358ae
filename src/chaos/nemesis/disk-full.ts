// disk-full: one member's disk fills up. Run as root (Linux), the harness stops the member, moves
// its data directory onto a tmpfs only DISK_HEADROOM_BYTES larger than its data, and starts it
// there: the workload fills it within a second or two, and WAL, blob and LevelDB writes fail with
// ENOSPC. Otherwise the test fault switch (src/faults) makes its WAL writes and blob appends fail
// with ENOSPC. Either way the member must not corrupt anything: a failed WAL write halts it
// (NOT_SERVING, then the process exits) rather than acknowledge what is not durable, and the
// others hold a quorum. The heal frees space (the data goes back to the real disk, or the
// injection stops) and starts the member again if it stopped; it must open its data and catch
// up. The member's exit during the window is part of the fault, not an incident, when its log
// says ENOSPC.
import { dirBytes, canMount, logSinceStart, moveOntoTmpfs } from '../storage-faults.js';
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const DISK_FULL_LEADER_BIAS = 1 / 3;
/** Free space on the member's tmpfs beyond its data: room to start, not to run for long. */
export const DISK_HEADROOM_BYTES = 4 * 1024 * 1024;
const ENOSPC = /ENOSPC|no space left/i;

export async function diskFull(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, DISK_FULL_LEADER_BIAS);
  const id = target.id;
  const cluster = ctx.cluster;
  let how: string;
  let undo: () => Promise<void>;
  cluster.exitAllowed.add(id);
  if (canMount()) {
    await cluster.stop(id);
    const dir = cluster.dataDir(id);
    const bytes = Math.ceil(((await dirBytes(dir)) + DISK_HEADROOM_BYTES) / 4096) * 4096;
    const mount = await moveOntoTmpfs(dir, bytes);
    cluster.cleanups.set(`the tmpfs of n${id}`, mount.undo);
    await cluster.start(id);
    how = `data of ${describeTarget(target)} on a ${(bytes / 1048576).toFixed(1)} MiB tmpfs (${DISK_HEADROOM_BYTES / 1048576} MiB free)`;
    undo = async () => {
      await cluster.stop(id);
      await mount.undo();
      cluster.cleanups.delete(`the tmpfs of n${id}`);
    };
  } else {
    await cluster.setTestFaults(id, { enospc: true });
    how = `WAL writes and blob appends of ${describeTarget(target)} fail with ENOSPC (injected)`;
    undo = () => cluster.setTestFaults(id, {});
  }
  return { detail: `disk full: ${how}`, members: [id], heal: () => heal(ctx, id, how, undo) };
}

async function heal(ctx: NemesisContext, id: number, how: string, undo: () => Promise<void>): Promise<string> {
  const stoppedItself = ctx.cluster.process(id)?.state === 'exited';
  const log = await logSinceStart(ctx.cluster.logFile(id));
  await undo();
  ctx.cluster.exitAllowed.delete(id);
  if (stoppedItself && !ENOSPC.test(log)) ctx.cluster.incident(`member ${id} exited during disk-full, but its log does not say ENOSPC (see ${ctx.cluster.logFile(id)})`);
  if (!ctx.cluster.isUp(id)) await ctx.cluster.start(id);
  const saw = ENOSPC.test(log) ? 'it hit ENOSPC' : 'it never hit ENOSPC';
  return `disk full: ${how}; ${saw}${stoppedItself ? ' and stopped itself' : ' and kept running'}; space freed, restarted`;
}
