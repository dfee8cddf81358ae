// pause: SIGSTOP one member (leader-biased) for the window, then SIGCONT. A paused member holds its
// connections open and answers nothing: a leader paused this way is the classic "zombie leader"
// that wakes up still believing it leads, in an old term.
import { describeTarget, pickTarget } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

export const PAUSE_LEADER_BIAS = 1 / 2;

export async function pause(ctx: NemesisContext): Promise<ActiveFault> {
  const target = await pickTarget(ctx, PAUSE_LEADER_BIAS);
  ctx.cluster.pause(target.id);
  return {
    detail: `SIGSTOP ${describeTarget(target)}`,
    members: [target.id],
    heal: async () => ctx.cluster.resume(target.id),
  };
}
