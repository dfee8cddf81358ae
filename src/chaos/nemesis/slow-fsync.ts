// slow-fsync: every fdatasync of one member's WAL and blob files stalls for seconds (the test
// fault switch, src/faults), the way a saturated or failing disk answers. A stalled leader cannot
// make entries durable, so it stops committing and heartbeating while it waits; the others elect
// a new leader, and the old one must step down once its sync returns, losing nothing it
// acknowledged (a put is acknowledged only after the sync).
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const SLOW_FSYNC_LEADER_BIAS = 1 / 2;
/** How long each sync stalls: seconds, long enough to cost the leader its term. */
export const SYNC_STALL_MS_MIN = 1_500;
export const SYNC_STALL_MS_MAX = 4_000;

export async function slowFsync(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, SLOW_FSYNC_LEADER_BIAS);
  const stallMs = ctx.prng.range(SYNC_STALL_MS_MIN, SYNC_STALL_MS_MAX);
  await ctx.cluster.setTestFaults(target.id, { syncDelayMs: stallMs });
  return {
    detail: `every fdatasync of ${describeTarget(target)} (WAL and blob files) stalls ${stallMs} ms`,
    members: [target.id],
    heal: () => ctx.cluster.setTestFaults(target.id, {}),
  };
}
