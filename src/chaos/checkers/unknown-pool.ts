// The unknown puts and deletes of one key, as the search sees them: pools of interchangeable
// operations (register-model.ts explains why two invoked unknown operations of one class are
// interchangeable), counted rather than named.
//
// Pools:
// - the deletes;
// - the "merged" puts: puts of values written once (their effect is STATE_UNIQUE), plus the puts
//   of every shared value that no unordered definite put writes any more. Such a value can no
//   longer be told from a unique one, so its unknown puts join the merged pool while that holds
//   ("the class is dead");
// - each live shared value's unknown puts (a client's retry of a page whose first put had an
//   unknown outcome, while the definite retry is not ordered yet).
// Without the merging, every retried page would add one dimension to the counts the cache
// compares, and the cache would stop recognising configurations as the same.
//
// Everything changes in stack order with the search (a class dies when its last definite put is
// ordered and revives when that is undone), so undo is exact.
import type { KeyProblem } from './register-model.js';

/** Class codes: 0 deletes, 1 the merged puts, >= 2 a shared value's puts. */
export const CLASS_DELETES = 0;
export const CLASS_MERGED = 1;
/** Returned by nextChoice when no class is left to try. */
export const NO_CHOICE = -1;

/** The number of entries of an ascending array that are <= limit. */
export function countAtMost(sorted: Float64Array, limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class UnknownPool {
  readonly #invokeMs: Float64Array[];
  /** Per shared class, definite puts of its value not yet ordered; 0 means the class is dead. */
  readonly #remaining: Int32Array;
  /** Unknown operations used: per live shared class, and (index 0, 1) the deletes and merged puts. */
  readonly #used: Int32Array;
  /** Sum of #used over live shared classes, so the usual case (zero) costs nothing in cache keys. */
  #usedLiveShared = 0;
  // Live shared classes that have unknown operations, as a doubly linked list (head = 1), so the
  // search walks only those; dead ones are unlinked and relinked in stack order.
  readonly #nextLive: Int32Array;
  readonly #prevLive: Int32Array;
  // Dead shared classes in the order they died, to count the merged pool's operations.
  readonly #dead: Int32Array;
  #deadCount = 0;

  constructor(problem: KeyProblem) {
    const classCount = problem.classInvokeMs.length;
    this.#invokeMs = problem.classInvokeMs;
    this.#remaining = new Int32Array(classCount);
    for (const code of problem.valueStates) if (code >= 2) this.#remaining[code]++;
    this.#used = new Int32Array(classCount);
    this.#nextLive = new Int32Array(classCount + 1).fill(NO_CHOICE);
    this.#prevLive = new Int32Array(classCount + 1).fill(NO_CHOICE);
    this.#dead = new Int32Array(classCount);
    // Every shared class starts live: a definite put writes its value (register-model.ts).
    let last = CLASS_MERGED;
    for (let cls = 2; cls < classCount; cls++) {
      if (this.#invokeMs[cls].length === 0) continue;
      this.#nextLive[last] = cls;
      this.#prevLive[cls] = last;
      last = cls;
    }
  }

  /** The state a definite put's or an unknown put's value gives, folding dead shared values. */
  canonical(state: number): number {
    return state >= 2 && this.#remaining[state] === 0 ? CLASS_MERGED : state;
  }

  /** The first class to try: deletes from a present state, puts from an absent one. */
  firstChoice(absent: boolean): number {
    if (absent) return CLASS_MERGED;
    return this.#invokeMs[CLASS_DELETES].length > 0 ? CLASS_DELETES : NO_CHOICE;
  }

  nextChoice(cls: number): number {
    return cls === CLASS_DELETES ? NO_CHOICE : this.#nextLive[cls];
  }

  /** Whether an unknown operation of `cls` invoked at or before `frontierMs` is left unused. */
  available(cls: number, frontierMs: number): boolean {
    let callable = countAtMost(this.#invokeMs[cls], frontierMs);
    if (cls === CLASS_MERGED) {
      for (let i = 0; i < this.#deadCount; i++) callable += countAtMost(this.#invokeMs[this.#dead[i]], frontierMs);
    }
    return callable > this.#used[cls];
  }

  use(cls: number): void {
    this.#used[cls]++;
    if (cls >= 2) this.#usedLiveShared++;
  }

  unuse(cls: number): void {
    this.#used[cls]--;
    if (cls >= 2) this.#usedLiveShared--;
  }

  /** A definite put of value state `code` was ordered (codes below 2 are not shared values). */
  orderedPut(code: number): void {
    if (code < 2 || --this.#remaining[code] > 0) return;
    // The class dies: its used operations join the merged pool's count.
    this.#dead[this.#deadCount++] = code;
    this.#used[CLASS_MERGED] += this.#used[code];
    this.#usedLiveShared -= this.#used[code];
    this.#unlinkLive(code);
  }

  /** Undoes orderedPut(code). */
  unorderedPut(code: number): void {
    if (code < 2 || this.#remaining[code]++ > 0) return;
    this.#deadCount--;
    this.#used[CLASS_MERGED] -= this.#used[code];
    this.#usedLiveShared += this.#used[code];
    this.#relinkLive(code);
  }

  /** Used deletes and merged puts: the counts the cache compares by dominance. */
  get usedDeletes(): number {
    return this.#used[CLASS_DELETES];
  }

  get usedMerged(): number {
    return this.#used[CLASS_MERGED];
  }

  /** The live shared classes' used counts, for the cache key (compared exactly); usually empty. */
  sharedKey(): string {
    if (this.#usedLiveShared === 0) return '';
    let key = '';
    for (let cls = this.#nextLive[CLASS_MERGED]; cls !== NO_CHOICE; cls = this.#nextLive[cls]) {
      if (this.#used[cls] > 0) key += `/${cls}=${this.#used[cls]}`;
    }
    return key;
  }

  #unlinkLive(cls: number): void {
    const prev = this.#prevLive[cls];
    if (prev === NO_CHOICE) return; // Never linked: it has no unknown operations.
    const next = this.#nextLive[cls];
    this.#nextLive[prev] = next;
    if (next !== NO_CHOICE) this.#prevLive[next] = prev;
  }

  #relinkLive(cls: number): void {
    const prev = this.#prevLive[cls];
    if (prev === NO_CHOICE) return;
    const next = this.#nextLive[cls];
    this.#nextLive[prev] = cls;
    if (next !== NO_CHOICE) this.#prevLive[next] = cls;
  }
}
