// kill: SIGKILL one member (the leader two times in three), as a crash: nothing is flushed that
// was not already durable. The member stays down for the window, then starts again on its data.
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const KILL_LEADER_BIAS = 2 / 3;

export async function kill(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, KILL_LEADER_BIAS);
  const injectedMs = performance.now();
  await ctx.cluster.kill(target.id);
  return {
    detail: `kill -9 ${describeTarget(target)}`,
    injectedMs,
    members: [target.id],
    heal: () => ctx.cluster.start(target.id),
  };
}
