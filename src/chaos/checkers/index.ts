// The public surface of the history checkers: pure functions from a recorded chaos history
// (../history.ts) to results with counts and examples, and checkHistory, which combines them into
// the verdict `kvc chaos` prints.
export { checkHistory, type CheckOptions, type Verdict, type VerdictDetails } from './verdict.js';
export {
  checkLinearizability,
  LINEARIZABILITY_TIME_BUDGET_MS,
  LINEARIZABILITY_STEPS_PER_KEY_MAX,
  type Linearizable,
  type LinearizabilityOptions,
  type LinearizabilityResult,
  type LinearizabilityWitness,
  type UndecidedKey,
} from './linearizability.js';
export { checkDurability, type DurabilityResult, type LostPut, type MemberCopy } from './durability.js';
export { checkIntegrity, type CorruptRead, type IntegrityResult } from './integrity.js';
export { checkElectionSafety, type ElectionResult, type TermWithLeaders } from './election.js';
export { checkConvergence, type ConvergenceResult } from './convergence.js';
export { checkLiveness, RECOVERY_BOUND_MS, type LivenessOptions, type LivenessResult, type Recovery } from './liveness.js';
export { EXAMPLES_MAX, describeOperation } from './common.js';
export { checkWatchFeed, type WatchFeedResult } from './watch-feed.js';
