// wal-tail: while a member is down (killed with SIGKILL, as a crash), damage the end of its newest
// WAL segment the way an interrupted append does (wal-damage.ts: the last record cut short or
// with a flipped byte), then start it. The WAL must drop that torn record and open; the member
// then catches up from the leader, and the cluster must lose nothing it acknowledged, since a
// majority holds every committed entry. A member that refuses to start is an incident
// (cluster.ts restarts it with --repair so the run goes on).
import { damageWalTail } from '../wal-damage.js';
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const WAL_TAIL_LEADER_BIAS = 1 / 2;

export async function walTail(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, WAL_TAIL_LEADER_BIAS);
  await ctx.cluster.kill(target.id);
  const damage = await damageWalTail(ctx.cluster.walDir(target.id), ctx.prng);
  return {
    detail: `kill -9 ${describeTarget(target)}, ${damage}, restart`,
    members: [target.id],
    heal: () => ctx.cluster.start(target.id),
  };
}
