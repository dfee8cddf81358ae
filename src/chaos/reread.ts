// The final reads, read again where the cluster moved under them. The harness reads every key from
// every member after the members converged on one applied index, key after key; an entry the
// cluster applies meanwhile (an eviction the leader proposes after the last put) can take a page
// from one member's read and not from another's, so they answer differently though their states
// never differ. When members answered keys differently and the applied index has moved past the
// one the finals were read at, those keys are read again from every member after a new
// convergence, at most FINAL_REREAD_ROUNDS_MAX times, and only while the members did converge. A
// difference that stays while the applied index stands still is the cluster's, and is left for
// the convergence checker. This module holds the decision alone; finals.ts gives it the cluster
// (readSettledFinals).
import { hex } from './checkers/common.js';
import { differingKeys } from './checkers/convergence.js';
import type { Convergence } from './finals.js';
import type { MemberFinalState } from './history.js';

/** Rounds of reading differing keys again after the cluster applied past the finals' index. */
export const FINAL_REREAD_ROUNDS_MAX = 3;

/** What rereadDiffering needs of the cluster. */
export interface RereadIo {
  /** The highest applied index the given members report now. */
  appliedIndexNow(members: number[]): Promise<number>;
  /** Waits until the final members agree again (awaitConvergence). */
  converge(): Promise<Convergence>;
  /** Reads `keys` from every member of `convergence` (readFinals). */
  read(convergence: Convergence, keys: Uint8Array[]): Promise<MemberFinalState[]>;
  log(line: string): void;
  signal?: AbortSignal;
}

/**
 * Reads the differing keys again while the cluster has moved past the finals' applied index (see
 * the top of this file). Updates `finals` in place (the pages read again, the applied index and
 * digest of the new convergence) and returns them with the last convergence, its wait summed.
 */
export async function rereadDiffering(
  first: Convergence,
  finals: MemberFinalState[],
  keys: readonly Uint8Array[],
  io: RereadIo,
): Promise<{ finals: MemberFinalState[]; convergence: Convergence }> {
  let convergence = first;
  for (let round = 1; round <= FINAL_REREAD_ROUNDS_MAX && io.signal?.aborted !== true; round++) {
    // Members that never agreed differ for that reason; waiting for them again would only take the bound again.
    if (!convergence.converged) break;
    const differing = differingKeys(finals);
    if (differing.size === 0) break;
    const from = Math.max(0, ...finals.map((f) => f.appliedIndex));
    const to = await io.appliedIndexNow(convergence.members);
    if (to <= from) break;
    io.log(`members answered ${differing.size} keys differently while the cluster applied past index ${from} (to ${to}): converging again and reading those keys again (round ${round})`);
    const again = await io.converge();
    convergence = { ...again, waitedMs: convergence.waitedMs + again.waitedMs };
    if (!sameMembers(again.members, finals)) {
      io.log(`the final members changed (now ${again.members.join(', ')}): the keys are not read again`);
      break;
    }
    const reread = await io.read(again, keys.filter((key) => differing.has(hex(key))));
    for (const state of reread) {
      const final = finals.find((f) => f.member === state.member);
      if (final === undefined) continue;
      Object.assign(final.pages, state.pages);
      final.appliedIndex = state.appliedIndex;
      final.digest = state.digest;
    }
  }
  return { finals, convergence };
}

function sameMembers(members: readonly number[], finals: readonly MemberFinalState[]): boolean {
  return members.length === finals.length && finals.every((f) => members.includes(f.member));
}
