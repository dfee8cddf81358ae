// The Wing-Gong-Lowe search for one key, in the form Porcupine gives it (Athalye's Go checker,
// after Lowe, "Testing for linearizability", and Horn & Kroening, "Faster linearizability
// checking via P-compositionality"):
//
// - The definite operations' call and return events sit in one doubly linked list in time order.
//   The search walks it from the head: each call it meets before the first return is an operation
//   that may be ordered next. Ordering one "lifts" its call and return out of the list (dancing
//   links), so undoing it is two relinks. Meeting a return means that operation was not ordered in
//   time: the search tries the alternatives left, then backtracks.
// - A cache of configurations already explored prunes the search: a configuration is the set of
//   ordered operations plus the register's state. Here it also holds how many unknown operations
//   of each class were used (see register-model.ts), and the cache keeps, per (ordered set,
//   state), only the smallest such counts: a configuration that used at least as many of every
//   class as one already explored can do nothing that one could not (unused unknown operations can
//   always be left out), so it is pruned too. That is what keeps histories with many unknown
//   puts and deletes tractable.
// - The ordered set is a bitset over the definite operations in return order. Every operation
//   before the first unordered one is ordered, so the set is written in the cache key as that
//   position plus the few words after it: a few bytes instead of n/8.
//
// At each configuration the search first orders a read-only operation that fits, if there is one,
// and then tries nothing else there (register-model.ts proves that move safe); otherwise it tries
// the definite writes before the unknown operations, so unknown operations are used only where
// the definite ones cannot go on without them. The order changes only the speed, never the
// answer. A step budget and a deadline bound the search; running out is reported, never guessed,
// and linearizability.ts then hands the key to the breadth-first sweep (sweep-search.ts).
import { ILLEGAL, STATE_ABSENT, stepDefinite, stepUnknown, type Answer, type KeyProblem } from './register-model.js';
import { NO_CHOICE, UnknownPool } from './unknown-pool.js';

/**
 * The list's head sentinel. The op of rank r has its call at node 1 + 2r and its return at 2 + 2r;
 * the tail sentinel is 2n + 2, even like a return, so a walk that reached it would stop there.
 */
const HEAD = 0;
/** How often (in steps, minus one, a power of two) the search looks at the clock. */
const CLOCK_CHECK_MASK = 0x0fff;
/** How many of the deepest partial order's last operations are kept for the witness. */
export const WITNESS_TAIL_MAX = 12;

export type SearchOutcome = 'linearizable' | 'not-linearizable' | 'steps' | 'time';

// The search's phases at one configuration: order a read-only operation if one fits (that move
// is forced: register-model.ts on read-only operations), else try each write, then each pool of
// unknown operations, then backtrack.
const PHASE_READS = 0;
const PHASE_WRITES = 1;
const PHASE_UNKNOWN = 2;
const PHASE_BACKTRACK = 3;

// What trying one definite operation did.
const TRIED_ILLEGAL = 0;
const TRIED_SEEN = 1;
const TRIED_PUSHED = 2;

/** Links the call and return events of every definite operation in time order, calls first on ties. */
function linkEvents(problem: KeyProblem, next: Int32Array, prev: Int32Array): void {
  const n = problem.definite.length;
  const events = Array.from({ length: 2 * n }, (_, i) => i + 1);
  const time = (node: number): number =>
    (node & 1) === 1 ? problem.invokeMs[(node - 1) >> 1] : problem.completeMs[(node - 2) >> 1];
  // Explicit comparisons: completions may be +Infinity, and Infinity - Infinity is NaN.
  const compare = (a: number, b: number): number => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    if ((a & 1) !== (b & 1)) return (a & 1) === 1 ? -1 : 1;
    return a - b;
  };
  events.sort(compare);
  let last = HEAD;
  for (const node of events) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  next[last] = 2 * n + 2;
  prev[2 * n + 2] = last;
}

export class KeySearch {
  readonly #problem: KeyProblem;
  readonly #n: number;
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  /** Ordered definite operations, by return rank. */
  readonly #ordered: Uint32Array;
  #firstUnordered = 0;
  #highestOrdered = -1;
  #state = STATE_ABSENT;
  readonly #pool: UnknownPool;
  // The stack of choices: a call node (> 0) for a definite operation, -(class + 1) for an unknown
  // one, with what is needed to undo it.
  readonly #stackNode: Int32Array;
  readonly #stackState: Int32Array;
  readonly #stackFirstUnordered: Int32Array;
  readonly #stackHighestOrdered: Int32Array;
  #depth = 0;
  /** Per (ordered set, state, live shared counts): the (deletes, merged puts) counts seen, as pairs. */
  readonly #cache = new Map<string, number[]>();

  steps = 0;
  /** The most definite operations (in return order) any branch ordered; the next one is where it failed. */
  deepest = 0;
  /** Op ids of the last definite operations ordered by the deepest branch, oldest first. */
  deepestTail: number[] = [];
  /** The register's state at the end of the deepest branch. */
  deepestState = STATE_ABSENT;

  constructor(problem: KeyProblem) {
    this.#problem = problem;
    const n = problem.definite.length;
    this.#n = n;
    this.#next = new Int32Array(2 * n + 3);
    this.#prev = new Int32Array(2 * n + 3);
    linkEvents(problem, this.#next, this.#prev);
    this.#ordered = new Uint32Array((n >>> 5) + 1);
    this.#pool = new UnknownPool(problem);
    // Every unknown operation of every class, the removal record's evictions included.
    const depthMax = n + problem.classInvokeMs.reduce((sum, times) => sum + times.length, 0) + 1;
    this.#stackNode = new Int32Array(depthMax);
    this.#stackState = new Int32Array(depthMax);
    this.#stackFirstUnordered = new Int32Array(depthMax);
    this.#stackHighestOrdered = new Int32Array(depthMax);
  }

  /** Searches for a linearization; stops after `stepsMax` steps or at `deadlineMs` (performance.now()). */
  run(stepsMax: number, deadlineMs: number): SearchOutcome {
    if (this.#n === 0) return 'linearizable';
    const readOnly = this.#problem.readOnly;
    let node = this.#next[HEAD];
    let phase = PHASE_READS;
    let choice = NO_CHOICE;
    for (;;) {
      this.steps++;
      if (this.steps > stepsMax) return 'steps';
      if ((this.steps & CLOCK_CHECK_MASK) === 0 && performance.now() > deadlineMs) return 'time';
      if (phase === PHASE_READS || phase === PHASE_WRITES) {
        if ((node & 1) === 0) {
          // A return: no more definite candidates in this pass.
          if (phase === PHASE_READS) node = this.#next[HEAD];
          else choice = this.#pool.firstChoice(this.#state === STATE_ABSENT);
          phase++;
          continue;
        }
        const reading = readOnly[(node - 1) >> 1] === 1;
        const tried = reading === (phase === PHASE_READS) ? this.#tryDefinite(node) : TRIED_ILLEGAL;
        if (tried === TRIED_PUSHED) {
          if (this.#firstUnordered === this.#n) return 'linearizable';
          node = this.#next[HEAD];
          phase = PHASE_READS;
        } else if (tried === TRIED_SEEN && reading) {
          phase = PHASE_BACKTRACK; // The forced read leads only where the search has failed before.
        } else {
          node = this.#next[node];
        }
      } else if (phase === PHASE_UNKNOWN) {
        if (choice === NO_CHOICE) {
          phase = PHASE_BACKTRACK;
        } else if (this.#tryUnknown(choice)) {
          node = this.#next[HEAD];
          phase = PHASE_READS;
        } else {
          choice = this.#pool.nextChoice(choice);
        }
      } else {
        if (this.#depth === 0) return 'not-linearizable';
        const undone = this.#pop();
        // Resume where the undone choice was taken, after it; a forced read has no alternatives.
        if (undone < 0) {
          phase = PHASE_UNKNOWN;
          choice = this.#pool.nextChoice(-undone - 1);
        } else if (readOnly[(undone - 1) >> 1] === 0) {
          phase = PHASE_WRITES;
          node = this.#next[undone];
        }
      }
    }
  }

  #tryDefinite(node: number): number {
    const rank = (node - 1) >> 1;
    const problem = this.#problem;
    const valueState = problem.valueStates[rank];
    const stepped = stepDefinite(this.#state, problem.answers[rank] as Answer, valueState);
    if (stepped === ILLEGAL) return TRIED_ILLEGAL;
    const firstUnordered = this.#firstUnordered;
    const highestOrdered = this.#highestOrdered;
    this.#setOrdered(rank);
    this.#pool.orderedPut(valueState);
    const state = this.#pool.canonical(stepped);
    if (this.#seen(state)) {
      this.#pool.unorderedPut(valueState);
      this.#ordered[rank >>> 5] &= ~(1 << (rank & 31));
      this.#firstUnordered = firstUnordered;
      this.#highestOrdered = highestOrdered;
      return TRIED_SEEN;
    }
    this.#push(node, firstUnordered, highestOrdered);
    this.#state = state;
    this.#lift(node);
    if (this.#firstUnordered > this.deepest) this.#recordDeepest();
    return TRIED_PUSHED;
  }

  #tryUnknown(cls: number): boolean {
    // Unknown operations invoked before the first unordered completion may be ordered now.
    if (!this.#pool.available(cls, this.#problem.completeMs[this.#firstUnordered])) return false;
    const state = this.#pool.canonical(stepUnknown(this.#state, cls));
    this.#pool.use(cls);
    if (this.#seen(state)) {
      this.#pool.unuse(cls);
      return false;
    }
    this.#push(-(cls + 1), this.#firstUnordered, this.#highestOrdered);
    this.#state = state;
    return true;
  }

  #setOrdered(rank: number): void {
    this.#ordered[rank >>> 5] |= 1 << (rank & 31);
    if (rank > this.#highestOrdered) this.#highestOrdered = rank;
    let first = this.#firstUnordered;
    while (first < this.#n && (this.#ordered[first >>> 5] & (1 << (first & 31))) !== 0) first++;
    this.#firstUnordered = first;
  }

  /** True if this configuration, or one that dominates it, was reached before; else records it. */
  #seen(state: number): boolean {
    let key = `${this.#firstUnordered}:${state}`;
    if (this.#highestOrdered > this.#firstUnordered) {
      for (let w = this.#firstUnordered >>> 5; w <= this.#highestOrdered >>> 5; w++) key += `:${this.#ordered[w]}`;
    }
    key += this.#pool.sharedKey();
    const deletes = this.#pool.usedDeletes;
    const merged = this.#pool.usedMerged;
    const pairs = this.#cache.get(key);
    if (pairs === undefined) {
      this.#cache.set(key, [deletes, merged]);
      return false;
    }
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] <= deletes && pairs[i + 1] <= merged) return true;
    // Keep only the smallest counts: pairs at least as large as the new one are now redundant.
    const kept: number[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      if (!(deletes <= pairs[i] && merged <= pairs[i + 1])) kept.push(pairs[i], pairs[i + 1]);
    }
    kept.push(deletes, merged);
    this.#cache.set(key, kept);
    return false;
  }

  #push(node: number, firstUnordered: number, highestOrdered: number): void {
    const d = this.#depth++;
    this.#stackNode[d] = node;
    this.#stackState[d] = this.#state;
    this.#stackFirstUnordered[d] = firstUnordered;
    this.#stackHighestOrdered[d] = highestOrdered;
  }

  /** Undoes the last choice and returns its stack node (see #stackNode). */
  #pop(): number {
    const d = --this.#depth;
    const node = this.#stackNode[d];
    this.#state = this.#stackState[d];
    if (node > 0) {
      const rank = (node - 1) >> 1;
      this.#pool.unorderedPut(this.#problem.valueStates[rank]);
      this.#unlift(node);
      this.#ordered[rank >>> 5] &= ~(1 << (rank & 31));
      this.#firstUnordered = this.#stackFirstUnordered[d];
      this.#highestOrdered = this.#stackHighestOrdered[d];
    } else {
      this.#pool.unuse(-node - 1);
    }
    return node;
  }
  /** Takes a call and its return out of the list; #unlift puts them back in reverse order. */
  #lift(call: number): void {
    const next = this.#next;
    const prev = this.#prev;
    next[prev[call]] = next[call];
    prev[next[call]] = prev[call];
    const ret = call + 1;
    next[prev[ret]] = next[ret];
    prev[next[ret]] = prev[ret];
  }

  #unlift(call: number): void {
    const next = this.#next;
    const prev = this.#prev;
    const ret = call + 1;
    next[prev[ret]] = ret;
    prev[next[ret]] = ret;
    next[prev[call]] = call;
    prev[next[call]] = call;
  }

  #recordDeepest(): void {
    this.deepest = this.#firstUnordered;
    this.deepestState = this.#state;
    const tail: number[] = [];
    for (let d = this.#depth - 1; d >= 0 && tail.length < WITNESS_TAIL_MAX; d--) {
      const node = this.#stackNode[d];
      if (node > 0) tail.push(this.#problem.definite[(node - 1) >> 1].id);
    }
    this.deepestTail = tail.reverse();
  }
}
