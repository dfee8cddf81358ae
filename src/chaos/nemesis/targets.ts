// How nemeses pick their victims: from the members whose process is running, with a bias toward
// the current leader for the faults that hurt most when they hit it (kill, pause), since a
// follower's death barely disturbs a Raft cluster.
import type { NemesisContext } from './types.js';

/** Members whose process runs and is not paused. */
export function runningMembers(ctx: NemesisContext): number[] {
  return ctx.cluster.ids.filter((id) => ctx.cluster.process(id)?.state === 'running');
}

/** The leader from a fresh poll of every member (undefined when none answers as leader). */
export async function freshLeader(ctx: NemesisContext): Promise<number | undefined> {
  await ctx.observer.poll();
  return ctx.observer.leader;
}

/**
 * The leader with probability `leaderBias` (when one is known and running), otherwise a random
 * running member. Returns the id and whether it was the leader when chosen.
 */
export async function pickTarget(ctx: NemesisContext, leaderBias: number): Promise<{ id: number; leader: boolean }> {
  const running = runningMembers(ctx);
  if (running.length === 0) throw new Error('no running member to target');
  const leader = await freshLeader(ctx);
  if (leader !== undefined && running.includes(leader) && ctx.prng.chance(leaderBias)) return { id: leader, leader: true };
  const id = ctx.prng.pick(running);
  return { id, leader: id === leader };
}

/** A running voter other than the leader, or undefined. */
export async function pickFollower(ctx: NemesisContext): Promise<{ leader: number; follower: number } | undefined> {
  const leader = await freshLeader(ctx);
  if (leader === undefined) return undefined;
  const view = (await ctx.cluster.statuses({ ids: [leader] })).get(leader);
  const voters = view?.voters ?? ctx.cluster.ids;
  const followers = runningMembers(ctx).filter((id) => id !== leader && voters.includes(id));
  if (followers.length === 0) return undefined;
  return { leader, follower: ctx.prng.pick(followers) };
}

export function describeTarget(target: { id: number; leader: boolean }): string {
  return `n${target.id}${target.leader ? ' (leader)' : ''}`;
}
