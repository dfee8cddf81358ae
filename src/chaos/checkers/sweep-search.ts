// The exhaustive fallback for one key, for when the Wing-Gong-Lowe search (wgl-search.ts) runs
// out of steps: a breadth-first sweep over the same configurations, in the manner of Lowe's
// "just-in-time" linearization and of the configuration-set checkers.
//
// Why a second search: WGL is a depth-first search, and its cache prunes a configuration only
// when one with no more unknown operations used was explored before it. On a history that is not
// linearizable and has many unknown outcomes, depth-first order often explores a configuration
// first with more unknown operations used and later again with fewer, and so re-explores whole
// subtrees: the search can blow up exactly when it has to prove a violation. The sweep instead
// visits configurations in an order where anything that could prune a configuration is visited
// first, so each is expanded at most once:
// - level p holds the configurations whose first unordered definite operation (in return order)
//   is p; a move never lowers the level, so all of level p is known before it is expanded;
// - inside a level, each move orders one more operation (a "straddler", ordered before p) or
//   uses one more unknown operation, so "generation" = straddlers + unknown operations used grows
//   by one per move, and a configuration that dominates another (same straddlers and state, no
//   more unknown operations used of any pool) has no larger generation. Generations are expanded
//   in order.
// The configurations and the moves are those of wgl-search.ts, register-model.ts and
// unknown-pool.ts (the pools of unknown operations, with dead shared classes merged).
import { ILLEGAL, STATE_ABSENT, STATE_UNIQUE, stepDefinite, stepUnknown, type Answer, type KeyProblem } from './register-model.js';
import { CLASS_DELETES, CLASS_MERGED, countAtMost } from './unknown-pool.js';
import type { SearchOutcome } from './wgl-search.js';

/** How often (in expanded configurations, minus one, a power of two) the sweep looks at the clock. */
const CLOCK_CHECK_MASK = 0x00ff;

interface Config {
  /** Ordered definite operations of rank above the level, ascending. */
  straddlers: number[];
  state: number;
  /** Unknown operations used, per class. */
  used: Int32Array;
  generation: number;
  /** Dominated by a configuration found later, before this one was expanded. */
  dropped: boolean;
}

interface Level {
  /** Configurations by everything but the deletes' and merged puts' counts, which are compared by dominance. */
  byKey: Map<string, Config[]>;
  byGeneration: Map<number, Config[]>;
  generationMin: number;
  generationMax: number;
}

function configKey(config: Config): string {
  let key = `${config.straddlers.join(',')}|${config.state}`;
  for (let cls = 2; cls < config.used.length; cls++) if (config.used[cls] > 0) key += `/${cls}=${config.used[cls]}`;
  return key;
}

/** Whether `a` used no more of the deletes and merged puts than `b` (the rest is equal by key). */
function usesNoMore(a: Config, b: Config): boolean {
  return a.used[0] <= b.used[0] && a.used[1] <= b.used[1];
}

export class KeySweep {
  readonly #problem: KeyProblem;
  readonly #n: number;
  readonly #levels = new Map<number, Level>();
  /** Definite ranks by invocation time, and the operations invoked so far that may still be unordered. */
  readonly #byInvoke: Int32Array;
  #invoked = 0;
  readonly #active = new Set<number>();
  /** Per shared value's state code, the ranks of the definite puts that write it, ascending. */
  readonly #sharedRanks: number[][];
  #succeeded = false;
  #expanded = 0;

  steps = 0;
  /** The highest level reached; the operation of that rank is where every order failed. */
  deepest = 0;
  /** The register's state in the first configuration of the deepest level. */
  deepestState = STATE_ABSENT;

  constructor(problem: KeyProblem) {
    this.#problem = problem;
    this.#n = problem.definite.length;
    this.#byInvoke = Int32Array.from({ length: this.#n }, (_, i) => i).sort((a, b) => problem.invokeMs[a] - problem.invokeMs[b]);
    this.#sharedRanks = problem.classInvokeMs.map(() => []);
    problem.valueStates.forEach((code, rank) => {
      if (code >= 2) this.#sharedRanks[code].push(rank);
    });
  }

  run(stepsMax: number, deadlineMs: number): SearchOutcome {
    if (this.#n === 0) return 'linearizable';
    this.#insert(0, { straddlers: [], state: STATE_ABSENT, used: new Int32Array(this.#problem.classInvokeMs.length) });
    for (let level = 0; level !== -1; level = this.#nextLevel(level)) {
      const outcome = this.#expandLevel(level, stepsMax, deadlineMs);
      if (outcome !== undefined) return outcome;
    }
    return 'not-linearizable';
  }

  /** Expands every configuration of `level`, generation by generation; undefined when done. */
  #expandLevel(level: number, stepsMax: number, deadlineMs: number): SearchOutcome | undefined {
    const entry = this.#levels.get(level)!;
    this.deepest = level;
    this.deepestState = [...entry.byKey.values()][0][0].state;
    const window = this.#window(level);
    for (let generation = entry.generationMin; generation <= entry.generationMax; generation++) {
      for (const config of entry.byGeneration.get(generation) ?? []) {
        if (config.dropped) continue;
        this.#expand(level, config, window);
        if (this.#succeeded) return 'linearizable';
        if (this.steps > stepsMax) return 'steps';
        if ((++this.#expanded & CLOCK_CHECK_MASK) === 0 && performance.now() > deadlineMs) return 'time';
      }
    }
    this.#levels.delete(level);
    return undefined;
  }

  /** The lowest level above `level` that holds configurations, or -1. */
  #nextLevel(level: number): number {
    let next = -1;
    for (const pending of this.#levels.keys()) if (pending > level && (next === -1 || pending < next)) next = pending;
    return next;
  }

  /**
   * The definite operations that may be ordered at `level` (invoked by the completion of the
   * operation of rank `level`, not ordered below it). Levels are asked for in increasing order.
   */
  #window(level: number): number[] {
    const problem = this.#problem;
    const limitMs = problem.completeMs[level];
    while (this.#invoked < this.#n && problem.invokeMs[this.#byInvoke[this.#invoked]] <= limitMs) {
      this.#active.add(this.#byInvoke[this.#invoked++]);
    }
    for (const rank of this.#active) if (rank < level) this.#active.delete(rank);
    return [...this.#active].sort((a, b) => a - b);
  }

  #expand(level: number, config: Config, window: readonly number[]): void {
    const problem = this.#problem;
    this.steps++;
    // A read-only operation that fits is the only move worth making (register-model.ts says why).
    const reads = window.filter(
      (rank) =>
        problem.readOnly[rank] === 1 &&
        !config.straddlers.includes(rank) &&
        stepDefinite(config.state, problem.answers[rank] as Answer, problem.valueStates[rank]) !== ILLEGAL,
    );
    this.steps += reads.length;
    for (const rank of reads.length > 0 ? reads.slice(0, 1) : window) {
      if (config.straddlers.includes(rank)) continue;
      this.steps++;
      const stepped = stepDefinite(config.state, problem.answers[rank] as Answer, problem.valueStates[rank]);
      if (stepped === ILLEGAL) continue;
      let straddlers = config.straddlers;
      let next = level;
      if (rank !== level) {
        straddlers = [...straddlers, rank].sort((a, b) => a - b);
      } else {
        // The level's own operation is ordered: move up past every straddler that now closes the gap.
        next = level + 1;
        while (straddlers.length > 0 && straddlers[0] === next) {
          straddlers = straddlers.slice(1);
          next++;
        }
        if (next === this.#n) {
          this.#succeeded = true;
          return;
        }
      }
      // The counts are shared, not copied: a configuration's counts never change once made.
      this.#insert(next, { straddlers, state: this.#canonical(stepped, next, straddlers), used: config.used });
    }
    if (reads.length === 0) this.#expandUnknown(level, config);
  }

  #expandUnknown(level: number, config: Config): void {
    const problem = this.#problem;
    const frontierMs = problem.completeMs[level];
    const absent = config.state === STATE_ABSENT;
    const last = absent ? problem.classInvokeMs.length - 1 : CLASS_DELETES;
    for (let cls = absent ? CLASS_MERGED : CLASS_DELETES; cls <= last; cls++) {
      // A dead shared class's operations are in the merged pool (unknown-pool.ts), not on their own.
      if (cls >= 2 && (problem.classInvokeMs[cls].length === 0 || this.#isDead(cls, level, config.straddlers))) continue;
      this.steps++;
      let callable = countAtMost(problem.classInvokeMs[cls], frontierMs);
      if (cls === CLASS_MERGED) {
        for (let shared = 2; shared < problem.classInvokeMs.length; shared++) {
          if (this.#isDead(shared, level, config.straddlers)) callable += countAtMost(problem.classInvokeMs[shared], frontierMs);
        }
      }
      if (callable <= config.used[cls]) continue;
      const used = config.used.slice();
      used[cls]++;
      const state = this.#canonical(stepUnknown(config.state, cls), level, config.straddlers);
      this.#insert(level, { straddlers: config.straddlers, state, used });
    }
  }

  /** Whether no unordered definite put writes shared value `cls` (ordered: below `level` or a straddler). */
  #isDead(cls: number, level: number, straddlers: readonly number[]): boolean {
    return this.#sharedRanks[cls].every((rank) => rank < level || straddlers.includes(rank));
  }

  /** Folds a shared value that no unordered definite put writes into STATE_UNIQUE (register-model.ts). */
  #canonical(state: number, level: number, straddlers: readonly number[]): number {
    return state >= 2 && this.#isDead(state, level, straddlers) ? STATE_UNIQUE : state;
  }

  /** Moves the counts of dead shared classes into the merged pool's, as unknown-pool.ts does. */
  #mergeDead(level: number, straddlers: readonly number[], used: Int32Array): Int32Array {
    let merged = used;
    for (let cls = 2; cls < used.length; cls++) {
      if (used[cls] === 0 || !this.#isDead(cls, level, straddlers)) continue;
      if (merged === used) merged = used.slice();
      merged[CLASS_MERGED] += merged[cls];
      merged[cls] = 0;
    }
    return merged;
  }

  #insert(levelIndex: number, fields: Pick<Config, 'straddlers' | 'state' | 'used'>): void {
    const used = this.#mergeDead(levelIndex, fields.straddlers, fields.used);
    let generation = fields.straddlers.length;
    for (const count of used) generation += count;
    const config: Config = { ...fields, used, generation, dropped: false };
    let level = this.#levels.get(levelIndex);
    if (level === undefined) {
      level = { byKey: new Map(), byGeneration: new Map(), generationMin: config.generation, generationMax: config.generation };
      this.#levels.set(levelIndex, level);
    }
    const key = configKey(config);
    const same = level.byKey.get(key) ?? [];
    if (same.some((other) => !other.dropped && usesNoMore(other, config))) return;
    // Anything the new configuration dominates has a larger generation, so it was not expanded yet.
    for (const other of same) if (usesNoMore(config, other)) other.dropped = true;
    level.byKey.set(key, [...same.filter((other) => !other.dropped), config]);
    const peers = level.byGeneration.get(generation);
    if (peers === undefined) level.byGeneration.set(generation, [config]);
    else peers.push(config);
    level.generationMin = Math.min(level.generationMin, generation);
    level.generationMax = Math.max(level.generationMax, generation);
  }
}
