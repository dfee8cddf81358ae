// Entry points: run one seed, or a range of seeds with a summary. A run is fully determined by
// its seed and options, so a violation found without tracing is replayed with tracing on to get
// its event trace (and the replay must reach the same violation at the same step).
import { Simulation } from './simulation.js';
import type { RaftModule, SimOptions, SimResult, SimStats } from './types.js';
import { emptyStats } from './types.js';

export function runSeed(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

/** Runs a seed; when it finds a violation, replays it traced and returns the traced result. */
export function runSeedWithTraceOnViolation(options: SimOptions): SimResult {
  const result = runSeed(options);
  if (result.violation === undefined || options.trace) return result;
  const traced = runSeed({ ...options, trace: true });
  if (traced.violation?.step !== result.violation.step || traced.violation.message !== result.violation.message) {
    throw new Error(
      `seed ${options.seed} is not deterministic: untraced run stopped at step ${result.violation.step} ` +
        `(${result.violation.message}), traced replay at step ${traced.violation?.step} (${traced.violation?.message})`,
    );
  }
  return traced;
}

export interface BatchOptions {
  raft: RaftModule;
  nodes: number;
  seeds: number[];
  stepsMax: number;
  protocolRules?: boolean;
  /** Stop at the first violation (the mutation runner does). */
  stopAtViolation?: boolean;
  /** Called after each seed (progress output). */
  onResult?: (result: SimResult) => void;
}

export interface BatchSummary {
  seeds: number;
  violations: number;
  results: SimResult[];
  /** Failing results only, traced. */
  failures: SimResult[];
  totals: SimStats;
}

export function addStats(into: SimStats, s: SimStats): void {
  for (const key of Object.keys(s) as (keyof SimStats)[]) {
    if (key === 'faults') {
      for (const [kind, n] of Object.entries(s.faults)) into.faults[kind] = (into.faults[kind] ?? 0) + n;
    } else if (key === 'livenessTicksMax') {
      into.livenessTicksMax = Math.max(into.livenessTicksMax, s.livenessTicksMax);
    } else {
      into[key] += s[key];
    }
  }
}

export function runSeeds(options: BatchOptions): BatchSummary {
  const results: SimResult[] = [];
  const failures: SimResult[] = [];
  const totals = emptyStats();
  for (const seed of options.seeds) {
    const simOptions: SimOptions = { seed, nodes: options.nodes, raft: options.raft, stepsMax: options.stepsMax };
    if (options.protocolRules !== undefined) simOptions.protocolRules = options.protocolRules;
    const result = runSeed(simOptions);
    results.push(result);
    addStats(totals, result.stats);
    options.onResult?.(result);
    if (result.violation !== undefined) {
      failures.push(runSeedWithTraceOnViolation(simOptions));
      if (options.stopAtViolation) break;
    }
  }
  return { seeds: results.length, violations: failures.length, results, failures, totals };
}
