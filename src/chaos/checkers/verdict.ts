// checkHistory: every checker over one history, combined into the verdict `kvc chaos` reports.
//
// `ok` demands all of: no lost put (a missing page the removal record shows evicted is not lost;
// one a trimmed record leaves undecided is not ok either), no corrupt read, `linearizable === true`, at most one leader
// per term, converged members, writes recovering within the bound after every heal, and no member
// copy that is corrupt or that an acknowledged delete should have removed. An `unknown`
// linearizability (the search ran out of its budget) is not ok: the issue asks for `true`, and
// an undecided history has not shown it. Runs must therefore stay small enough to decide. Measured
// on this machine (2 vCPU) with generated histories of 8 concurrent clients: linearizable ones of
// 100,000 operations over 64 keys, or 30,000 on one key with 10% unknown outcomes, take under a
// second; proving a violation (the hard case: every order must fail) takes up to ~2 s for 6,000
// operations on one key and ~5 s for 15,000, while 30,000 on one key with 10% unknown outcomes
// exhausts the default step budget. A 60 s run of 8 clients over 16 or more keys stays far below.
import type { History } from '../history.js';
import { checkConvergence, type ConvergenceResult } from './convergence.js';
import { checkDurability, type DurabilityResult } from './durability.js';
import { checkElectionSafety, type ElectionResult } from './election.js';
import { checkIntegrity, type IntegrityResult } from './integrity.js';
import { checkLinearizability, type Linearizable, type LinearizabilityOptions, type LinearizabilityResult } from './linearizability.js';
import { checkLiveness, type LivenessResult } from './liveness.js';
import { checkWatchFeed, type WatchFeedResult } from './watch-feed.js';

export interface CheckOptions {
  linearizability?: LinearizabilityOptions;
  /** Bound on the time from a heal to the next successful write; default RECOVERY_BOUND_MS. */
  recoveryBoundMs?: number;
}

export interface VerdictDetails {
  linearizability: LinearizabilityResult;
  durability: DurabilityResult;
  integrity: IntegrityResult;
  election: ElectionResult;
  convergence: ConvergenceResult;
  liveness: LivenessResult;
  watch: WatchFeedResult;
}

// A type alias rather than an interface so that it is assignable to the harness's
// `{ [detail: string]: unknown }`-style record of verdict fields.
export type Verdict = {
  ok: boolean;
  /** Operations in the history (invoked; any outcome). */
  operations: number;
  /** Puts answered `ok` + `stored`. */
  acknowledgedPuts: number;
  /** Acknowledged pages missing or different on some member after healing. */
  lostPuts: number;
  corruptReads: number;
  linearizable: Linearizable;
  leadersPerTermMax: number;
  converged: boolean;
  recoverySecondsMax: number;
  /** Why `ok` is false, one sentence per failed check; empty when ok. */
  failures: string[];
  details: VerdictDetails;
};

function failuresOf(d: VerdictDetails): string[] {
  const failures: string[] = [];
  const { durability, integrity, linearizability, election, convergence, liveness } = d;
  if (durability.lostPuts > 0) failures.push(`${durability.lostPuts} acknowledged pages are missing on some member`);
  if (durability.trimmedPages > 0) {
    failures.push(`${durability.trimmedPages} acknowledged pages are missing and the removal record that could explain them was trimmed`);
  }
  if (durability.corruptCopies > 0) failures.push(`${durability.corruptCopies} member copies hold bytes no put wrote`);
  if (durability.resurrectedCopies > 0) {
    failures.push(`${durability.resurrectedCopies} member copies survive an acknowledged delete`);
  }
  if (integrity.corruptReads > 0) failures.push(`${integrity.corruptReads} gets returned bytes no put wrote`);
  if (linearizability.linearizable === false) {
    failures.push(`${linearizability.keysNotLinearizable} keys have histories that are not linearizable`);
  } else if (linearizability.linearizable === 'unknown') {
    failures.push(`linearizability undecided for ${linearizability.keysUndecided} keys (search budget exhausted)`);
  }
  if (election.leadersPerTermMax > 1) failures.push(`${election.termsWithManyLeaders} terms had more than one leader`);
  if (!convergence.converged) failures.push(`members did not converge: ${convergence.differences[0]}`);
  if (liveness.flaggedCount > 0) {
    failures.push(`${liveness.flaggedCount} heals were not followed by a successful write within ${liveness.recoveryBoundMs} ms`);
  }
  if (liveness.unhealed.length > 0) failures.push(`${liveness.unhealed.length} faults were never healed`);
  failures.push(...watchFailures(d.watch));
  return failures;
}

function watchFailures(w: WatchFeedResult): string[] {
  const failures: string[] = [];
  if (!w.reachedTarget) failures.push(`the watch feed did not deliver up to the converged index (${w.examples[0] ?? ''})`);
  if (w.duplicates > 0) failures.push(`the watch feed delivered ${w.duplicates} changes twice`);
  if (w.outOfOrder > 0) failures.push(`the watch feed went back in log order ${w.outOfOrder} times`);
  if (w.missingPuts > 0) failures.push(`${w.missingPuts} acknowledged puts are missing from the watch feed`);
  if (w.reorderedPuts > 0) failures.push(`${w.reorderedPuts} acknowledged puts came on the watch feed out of their real-time order`);
  return failures;
}

/** Runs every checker over `history` and combines their results; see the file comment. */
export function checkHistory(history: History, options: CheckOptions = {}): Verdict {
  const details: VerdictDetails = {
    linearizability: checkLinearizability(history, options.linearizability),
    durability: checkDurability(history),
    integrity: checkIntegrity(history),
    election: checkElectionSafety(history),
    convergence: checkConvergence(history),
    liveness: checkLiveness(history, { recoveryBoundMs: options.recoveryBoundMs }),
    watch: checkWatchFeed(history),
  };
  const failures = failuresOf(details);
  return {
    ok: failures.length === 0,
    operations: history.operations.length,
    acknowledgedPuts: details.durability.acknowledgedPuts,
    lostPuts: details.durability.lostPuts,
    corruptReads: details.integrity.corruptReads,
    linearizable: details.linearizability.linearizable,
    leadersPerTermMax: details.election.leadersPerTermMax,
    converged: details.convergence.converged,
    recoverySecondsMax: details.liveness.recoverySecondsMax,
    failures,
    details,
  };
}
