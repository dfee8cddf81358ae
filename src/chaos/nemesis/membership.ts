// membership: remove a follower from the cluster (AdminService.RemoveMember), stop it, wipe its
// data, and for the heal add it back as a learner (announced at its shared inbound proxy, see
// network.ts), start it with --join so it catches up from the leader (a snapshot and the log
// after it), and promote it to voter once it has caught up - the operator's procedure for
// replacing a member's disk. During the window the cluster runs with one voter less.
import { isKvcClientError } from '../../client/index.js';
import { sleep } from '../cluster.js';
import { freshLeader, pickFollower } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

/** A membership call that fails (leadership moved, a slow apply) is retried for this long. */
export const MEMBERSHIP_RETRY_MS = 20_000;
/** How long a re-added learner may take to catch up before it is promoted anyway. */
export const CATCH_UP_TIMEOUT_MS = 20_000;
/** A learner within this many entries of the leader's commit index counts as caught up. */
const CATCH_UP_LAG_ENTRIES = 50;
const RETRY_PAUSE_MS = 300;
const CATCH_UP_POLL_MS = 200;

export async function membership(ctx: NemesisContext): Promise<ActiveFault> {
  const pair = await pickFollower(ctx);
  if (pair === undefined) return { detail: 'membership skipped: no leader with a running follower', members: [], instant: true, heal: async () => undefined };
  const id = pair.follower;
  await onLeader(ctx, `remove n${id}`, (leader) => ctx.cluster.admin(leader).removeMember(id));
  // From here until it is back, the member must not be restarted as a plain member: with empty
  // data it would bootstrap a membership of its own.
  ctx.cluster.excluded.add(id);
  await ctx.cluster.stop(id);
  await ctx.cluster.wipe(id);
  return {
    detail: `remove n${id}, wipe its data, re-add as learner, promote`,
    members: [id],
    heal: () => readd(ctx, id),
  };
}

async function readd(ctx: NemesisContext, id: number): Promise<string | void> {
  const address = ctx.cluster.mesh.announceReadded(id);
  await onLeader(ctx, `add n${id} as learner`, (leader) => ctx.cluster.admin(leader).addMember(id, address, true));
  await ctx.cluster.start(id, { join: true });
  ctx.cluster.excluded.delete(id);
  const caughtUp = await waitCaughtUp(ctx, id);
  await onLeader(ctx, `promote n${id}`, (leader) => ctx.cluster.admin(leader).addMember(id, address, false));
  if (!caughtUp) return `remove n${id}, wipe, re-add (promoted before it caught up within ${CATCH_UP_TIMEOUT_MS} ms)`;
}

/**
 * Runs an admin change on the current leader, retrying while the leader moves or the call times
 * out. The changes are idempotent at the server (an already-removed member, an already-added
 * learner answer at once), so a retry after an uncertain failure is safe. Throws after
 * MEMBERSHIP_RETRY_MS: a cluster that cannot change its membership with no fault active is
 * broken, and the run reports it.
 */
async function onLeader(ctx: NemesisContext, what: string, change: (leader: number) => Promise<unknown>): Promise<void> {
  const deadline = performance.now() + MEMBERSHIP_RETRY_MS;
  let lastError = 'no leader';
  while (performance.now() < deadline) {
    const leader = await freshLeader(ctx);
    if (leader !== undefined) {
      try {
        await change(leader);
        return;
      } catch (error) {
        lastError = isKvcClientError(error) ? error.message : String(error);
      }
    }
    await sleep(RETRY_PAUSE_MS);
  }
  throw new Error(`membership: could not ${what} within ${MEMBERSHIP_RETRY_MS} ms: ${lastError}`);
}

/** Waits (bounded) until member `id` applied up to the leader's commit index, give or take a few entries. */
export async function waitCaughtUp(ctx: NemesisContext, id: number): Promise<boolean> {
  const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const leader = await freshLeader(ctx);
    if (leader !== undefined) {
      const views = await ctx.cluster.statuses({ ids: [leader, id] });
      const target = views.get(leader)?.commitIndex;
      const applied = views.get(id)?.appliedIndex;
      if (target !== undefined && applied !== undefined && applied + CATCH_UP_LAG_ENTRIES >= target) return true;
    }
    await sleep(CATCH_UP_POLL_MS);
  }
  return false;
}
