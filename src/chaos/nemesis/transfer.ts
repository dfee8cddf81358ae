// transfer: AdminService.TransferLeader from the current leader to a random follower, the
// operator's way to move leadership before maintenance. The call answers once the target leads
// (or fails at its deadline); proposals in flight during the hand-over may be dropped.
import { isKvcClientError } from '../../client/index.js';
import { pickFollower } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export async function transfer(ctx: NemesisContext): Promise<ActiveFault> {
  const pair = await pickFollower(ctx);
  if (pair === undefined) return { detail: 'transfer skipped: no leader with a running follower', members: [], instant: true, heal: async () => undefined };
  let outcome = '';
  try {
    await ctx.cluster.admin(pair.leader).transferLeader(pair.follower);
  } catch (error) {
    outcome = ` (did not complete: ${isKvcClientError(error) ? error.code : String(error)})`;
  }
  return {
    detail: `transfer leadership n${pair.leader} -> n${pair.follower}${outcome}`,
    members: [pair.leader, pair.follower],
    instant: true,
    heal: async () => undefined,
  };
}
