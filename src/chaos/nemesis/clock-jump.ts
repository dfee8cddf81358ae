// clock-jump: one member's wall clock (Date, through the test fault switch, src/faults) jumps
// minutes forward or back for the window and back again at the heal - two steps, one each way.
// Monotonic time (timers, performance.now) does not move, as with a real clock step. What must
// stay safe: TTL and pin expiry and eviction recency (they use the member's steady wall clock,
// src/clock.ts, which a step while the member runs does not move), peer-link retry and deadlines
// (monotonic), and Raft (ticks, no wall clock at all).
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const CLOCK_JUMP_LEADER_BIAS = 1 / 2;
/** The size of a jump: minutes. */
export const CLOCK_JUMP_MS_MIN = 60_000;
export const CLOCK_JUMP_MS_MAX = 600_000;

export async function clockJump(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, CLOCK_JUMP_LEADER_BIAS);
  const offsetMs = (ctx.prng.chance(1 / 2) ? 1 : -1) * ctx.prng.range(CLOCK_JUMP_MS_MIN, CLOCK_JUMP_MS_MAX);
  await ctx.cluster.setTestFaults(target.id, { clockOffsetMs: offsetMs });
  const seconds = `${offsetMs > 0 ? '+' : '-'}${Math.round(Math.abs(offsetMs) / 1000)} s`;
  return {
    detail: `wall clock of ${describeTarget(target)} jumps ${seconds}, then back`,
    members: [target.id],
    heal: () => ctx.cluster.setTestFaults(target.id, {}),
  };
}
