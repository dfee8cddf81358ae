// partition: cuts peer links through the proxies (network.ts) for the window. Variants, chosen by
// the seeded generator:
// - majority/minority: a random minority is cut off from the rest, both directions;
// - isolate the leader: the leader alone against the rest, both directions;
// - one-way, leader out: the leader's messages reach no one, but it hears everyone (followers
//   elect a new leader while the old one keeps receiving);
// - one-way, leader in: the leader's messages go out but nothing reaches it (it keeps sending
//   heartbeats until check-quorum makes it step down);
// - one-way, random: a random member cannot send to another random member.
// Each variant blocks in `reset` mode (connections refused) or `hold` mode (bytes silently held)
// at random. The majority side always keeps a quorum, so writes go on during the window.
import type { BlockMode } from '../proxy.js';
import type { Cut } from '../network.js';
import { freshLeader, runningMembers } from './targets.js';
import type { ActiveFault, NemesisContext } from './types.js';

const VARIANTS = ['majority-minority', 'isolate-leader', 'leader-out', 'leader-in', 'one-way'] as const;
type Variant = (typeof VARIANTS)[number];
const MODES: readonly BlockMode[] = ['reset', 'hold'];

export async function partition(ctx: NemesisContext): Promise<ActiveFault> {
  const ids = ctx.cluster.ids;
  const leader = await freshLeader(ctx);
  let variant: Variant = ctx.prng.pick(VARIANTS);
  if (leader === undefined && variant !== 'one-way') variant = 'majority-minority';
  const mode = ctx.prng.pick(MODES);
  const plan = planCuts(ctx, variant, ids, leader);
  const widened = ctx.cluster.mesh.cut(plan.cuts, mode);
  const note = widened.length > 0 ? `; widened: all inbound of re-added ${widened.map((id) => `n${id}`).join(', ')} cut` : '';
  return {
    detail: `partition ${plan.description} (${mode})${note}`,
    members: plan.members,
    heal: async () => ctx.cluster.mesh.heal(),
  };
}

interface Plan {
  cuts: Cut[];
  description: string;
  members: number[];
}

function planCuts(ctx: NemesisContext, variant: Variant, ids: number[], leader: number | undefined): Plan {
  switch (variant) {
    case 'majority-minority': {
      const minoritySize = Math.max(1, Math.floor((ids.length - 1) / 2));
      const minority = ctx.prng.shuffle(ids).slice(0, minoritySize).sort((a, b) => a - b);
      const majority = ids.filter((id) => !minority.includes(id));
      return { cuts: between(minority, majority), description: `${set(minority)} | ${set(majority)}`, members: minority };
    }
    case 'isolate-leader': {
      const rest = ids.filter((id) => id !== leader);
      return { cuts: between([leader!], rest), description: `leader n${leader} isolated from ${set(rest)}`, members: [leader!] };
    }
    case 'leader-out': {
      const rest = ids.filter((id) => id !== leader);
      return { cuts: rest.map((to) => ({ from: leader!, to })), description: `one-way: leader n${leader} -/-> ${set(rest)}`, members: [leader!] };
    }
    case 'leader-in': {
      const rest = ids.filter((id) => id !== leader);
      return { cuts: rest.map((from) => ({ from, to: leader! })), description: `one-way: ${set(rest)} -/-> leader n${leader}`, members: [leader!] };
    }
    case 'one-way': {
      const pool = runningMembers(ctx).length >= 2 ? runningMembers(ctx) : ids;
      const [from, to] = ctx.prng.shuffle(pool) as [number, number];
      return { cuts: [{ from, to }], description: `one-way: n${from} -/-> n${to}`, members: [from, to] };
    }
  }
}

/** Every directed link between the two sides, both directions. */
function between(a: number[], b: number[]): Cut[] {
  const cuts: Cut[] = [];
  for (const x of a) {
    for (const y of b) cuts.push({ from: x, to: y }, { from: y, to: x });
  }
  return cuts;
}

function set(ids: number[]): string {
  return `{${ids.map((id) => `n${id}`).join(',')}}`;
}
