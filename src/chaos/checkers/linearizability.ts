// The linearizability checker: is there, for every key, one order of its puts, deletes and
// linearizable lookups that respects real time (an operation that completed before another was
// invoked comes first) and the register's specification (register-model.ts)? Linearizability is
// local (Herlihy & Wing): a history is linearizable exactly when each key's sub-history is, so the
// keys are checked one by one (Porcupine's P-compositionality), each with the Wing-Gong-Lowe
// search (wgl-search.ts), and, if that runs out of its share of the key's steps, with the
// breadth-first sweep (sweep-search.ts), which proves violations among many unknown outcomes
// much faster. Both are exact; they differ only in speed.
//
// Times: an operation that completed at exactly the time another was invoked is treated as
// concurrent with it. The harness's clock has finite resolution, and calling such a pair ordered
// could accuse a correct cluster.
//
// Evictions: a key the removal record (history.removals) shows evicted k times gets k unknown
// deletes that may take effect at any time (register-model.ts), so a lookup that finds an
// evicted page absent is legal. When the record was trimmed, a key it does not name may have been
// evicted too, any number of times: such a key gets one possible eviction per put of it (more
// can never matter: an eviction changes the register only when a put filled it).
//
// Budgets: a time budget for the whole check and a step budget per key. A key whose search runs
// out is `unknown`, and so is every key not reached before the deadline; the result is `false` if
// any key is not linearizable, else `unknown` if any key is undecided, else `true`.
import type { History, Operation } from '../history.js';
import { EXAMPLES_MAX, assertWellFormed, completedByMs, describeOperation, groupByKey, keyId } from './common.js';
import { accountRemovals, type RemovalAccount } from './removals.js';
import { STATE_ABSENT, encodeKey, type KeyProblem } from './register-model.js';
import { KeySweep } from './sweep-search.js';
import { KeySearch, type SearchOutcome } from './wgl-search.js';

/** Default wall-clock budget for the whole check. */
export const LINEARIZABILITY_TIME_BUDGET_MS = 10_000;
/** Default search steps per key (one step tries one operation in one configuration). */
export const LINEARIZABILITY_STEPS_PER_KEY_MAX = 10_000_000;
/**
 * The steps the depth-first WGL search gets per operation of a key (plus a base) before the
 * breadth-first sweep takes over with the rest of the key's steps (sweep-search.ts says why).
 * WGL decides linearizable histories in a few steps per operation; the sweep is the faster of the
 * two at proving a violation among many unknown outcomes.
 */
const WGL_STEPS_PER_OPERATION = 50;
const WGL_STEPS_BASE = 100_000;
/** How many operations completed before the failing one a witness shows, to set the scene. */
const WITNESS_LEAD_IN_OPS = 4;
/** The most operations one witness lists. */
const WITNESS_OPS_MAX = 30;

export type Linearizable = true | false | 'unknown';

export interface LinearizabilityOptions {
  /** Wall-clock budget for all keys together; default LINEARIZABILITY_TIME_BUDGET_MS. */
  timeBudgetMs?: number;
  /** Search steps allowed per key; default LINEARIZABILITY_STEPS_PER_KEY_MAX. */
  stepsPerKeyMax?: number;
  /**
   * Which search decides: 'auto' (default) runs WGL, then the sweep if WGL runs out of its share;
   * 'wgl' and 'sweep' run only that one with the whole budget, to cross-check them.
   */
  search?: 'auto' | 'wgl' | 'sweep';
}

/** Why a key was not linearizable, for the report. */
export interface LinearizabilityWitness {
  ns: string;
  key: string;
  /** The operation whose completion no order of the key's operations could reach. */
  failing: Operation;
  /** The key's operations around the failure, in invocation order. */
  operations: Operation[];
  /** The same operations, one line each, for the report. */
  timeline: string[];
  /**
   * Ids of the last definite operations the deepest partial order placed, oldest first (empty
   * when the breadth-first sweep decided: it keeps no paths).
   */
  deepestOrder: number[];
  /** The register after the deepest partial order: what the failing operation was checked against. */
  deepestState: 'absent' | 'present';
  explanation: string;
}

export interface UndecidedKey {
  ns: string;
  key: string;
  reason: 'steps' | 'time';
  operations: number;
  unknownOperations: number;
}

export interface LinearizabilityResult {
  linearizable: Linearizable;
  keys: number;
  keysLinearizable: number;
  keysNotLinearizable: number;
  keysUndecided: number;
  /** Operations that took part (puts, deletes, lookups that are `ok`, or `unknown` writes). */
  operationsChecked: number;
  /** Keys checked with possible evictions (unknown deletes from the removal record). */
  keysWithEvictions: number;
  steps: number;
  elapsedMs: number;
  /** At most EXAMPLES_MAX, in key order. */
  witnesses: LinearizabilityWitness[];
  /** At most EXAMPLES_MAX, in key order. */
  undecided: UndecidedKey[];
}

/** What a finished search of one key reports; both searches provide it. */
interface SearchReport {
  steps: number;
  deepest: number;
  deepestState: number;
  deepestTail?: number[];
}

function witnessFor(problem: KeyProblem, all: readonly Operation[], search: SearchReport): LinearizabilityWitness {
  const failing = problem.definite[search.deepest];
  const endMs = completedByMs(failing);
  const startMs = failing.invokeMs;
  // The scene: what completed just before the failing operation began, what overlapped it, and
  // the unknown writes that were pending (they could have taken effect at any point).
  const before = all
    .filter((op) => op.outcome === 'ok' && completedByMs(op) < startMs && op.kind !== 'get')
    .slice(-WITNESS_LEAD_IN_OPS);
  const during = all.filter(
    (op) => op.kind !== 'get' && op.outcome !== 'fail' && op.invokeMs <= endMs && completedByMs(op) >= startMs,
  );
  const operations = [...new Set([...before, ...during])].sort((a, b) => a.invokeMs - b.invokeMs || a.id - b.id);
  const deepestState = search.deepestState === STATE_ABSENT ? 'absent' : 'present';
  return {
    ns: problem.ns,
    key: problem.key,
    failing,
    operations: operations.slice(-WITNESS_OPS_MAX),
    timeline: operations.slice(-WITNESS_OPS_MAX).map(describeOperation),
    deepestOrder: search.deepestTail ?? [],
    deepestState,
    explanation:
      `no order of key ${problem.key}'s operations respects real time and the register up to ` +
      `operation #${failing.id} (${failing.kind} -> ${failing.result}); the longest order found leaves the key ` +
      `${deepestState} before it`,
  };
}

/** WGL first; if it runs out of its share of steps, the sweep with what is left (or only one, by option). */
function searchKey(
  problem: KeyProblem,
  options: Required<Pick<LinearizabilityOptions, 'search' | 'stepsPerKeyMax'>>,
  deadlineMs: number,
): { outcome: SearchOutcome; search: SearchReport } {
  if (performance.now() > deadlineMs) return { outcome: 'time', search: { steps: 0, deepest: 0, deepestState: STATE_ABSENT } };
  const stepsMax = options.stepsPerKeyMax;
  let wglSteps = 0;
  if (options.search !== 'sweep') {
    const wgl = new KeySearch(problem);
    const operations = problem.definite.length + problem.unknown.length;
    const share = options.search === 'wgl' ? stepsMax : WGL_STEPS_BASE + WGL_STEPS_PER_OPERATION * operations;
    const outcome = wgl.run(Math.min(stepsMax, share), deadlineMs);
    if (outcome !== 'steps' || wgl.steps >= stepsMax) return { outcome, search: wgl };
    wglSteps = wgl.steps;
  }
  const sweep = new KeySweep(problem);
  const outcome = sweep.run(stepsMax - wglSteps, deadlineMs);
  return { outcome, search: { steps: wglSteps + sweep.steps, deepest: sweep.deepest, deepestState: sweep.deepestState } };
}

/** Checks every key's register history; see the file comment for the rules. */
/** How many evictions of the key's page the removal record allows; see the file comment. */
function possibleEvictions(account: RemovalAccount, ops: readonly Operation[]): number {
  const recorded = account.evictionsByKey.get(keyId(ops[0])) ?? 0;
  if (!account.available || account.complete) return recorded;
  return Math.max(recorded, ops.filter((op) => op.kind === 'put' && op.outcome !== 'fail').length);
}

export function checkLinearizability(
  history: Pick<History, 'operations' | 'removals'>,
  options: LinearizabilityOptions = {},
): LinearizabilityResult {
  const startMs = performance.now();
  const deadlineMs = startMs + (options.timeBudgetMs ?? LINEARIZABILITY_TIME_BUDGET_MS);
  const searchOptions = {
    search: options.search ?? 'auto',
    stepsPerKeyMax: options.stepsPerKeyMax ?? LINEARIZABILITY_STEPS_PER_KEY_MAX,
  } as const;
  for (const op of history.operations) assertWellFormed(op);
  const groups = [...groupByKey(history.operations).values()].sort((a, b) =>
    a[0].ns === b[0].ns ? (a[0].key < b[0].key ? -1 : 1) : a[0].ns < b[0].ns ? -1 : 1,
  );
  const result: LinearizabilityResult = {
    linearizable: true,
    keys: groups.length,
    keysLinearizable: 0,
    keysNotLinearizable: 0,
    keysUndecided: 0,
    operationsChecked: 0,
    keysWithEvictions: 0,
    steps: 0,
    elapsedMs: 0,
    witnesses: [],
    undecided: [],
  };
  const account = accountRemovals(history.removals);
  for (const ops of groups) {
    const evictions = possibleEvictions(account, ops);
    if (evictions > 0) result.keysWithEvictions++;
    const problem = encodeKey(ops[0].ns, ops[0].key, ops, evictions);
    result.operationsChecked += problem.definite.length + problem.unknown.length;
    const { outcome, search } = searchKey(problem, searchOptions, deadlineMs);
    result.steps += search.steps;
    if (outcome === 'linearizable') {
      result.keysLinearizable++;
    } else if (outcome === 'not-linearizable') {
      result.keysNotLinearizable++;
      if (result.witnesses.length < EXAMPLES_MAX) result.witnesses.push(witnessFor(problem, ops, search));
    } else {
      result.keysUndecided++;
      if (result.undecided.length < EXAMPLES_MAX) {
        const operations = problem.definite.length + problem.unknown.length;
        result.undecided.push({ ns: problem.ns, key: problem.key, reason: outcome, operations, unknownOperations: problem.unknown.length });
      }
    }
  }
  result.linearizable = result.keysNotLinearizable > 0 ? false : result.keysUndecided > 0 ? 'unknown' : true;
  result.elapsedMs = performance.now() - startMs;
  return result;
}
