// restart: a clean stop (SIGTERM: the member flushes and closes its WAL and store) and a start on
// the same data, the operator's rolling restart. The member is down only briefly.
import { describeExit } from '../supervisor.js';
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

/** A clean stop must end with status 0; anything else is worth a look in the member's log. */
const CLEAN_EXIT_CODE = 0;

export async function restart(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, 0);
  const exit = await ctx.cluster.stop(target.id);
  const unclean = exit !== undefined && exit.code !== CLEAN_EXIT_CODE ? ` (stopped ${describeExit(exit)})` : '';
  if (unclean !== '') ctx.log(`restart: member ${target.id} did not stop cleanly${unclean}`);
  return {
    detail: `restart ${describeTarget(target)}${unclean}`,
    members: [target.id],
    heal: () => ctx.cluster.start(target.id),
  };
}
