// Runs the deterministic Raft cluster simulator (src/sim) over a range of seeds and checks the
// safety invariants after every step and liveness after every healed fault window.
//
//   npm run sim -- [--seeds N] [--start S] [--seed S] [--nodes 3|5] [--steps N] [--json] [--trace]
//                  [--no-protocol-rules] [--mutation NAME]
//
// --mutation runs a patched copy of the core (src/sim/mutations.ts), to replay what
// `npm run sim:mutations` found.
//
// Exit 0 when no seed breaks an invariant; on a violation exit 1 and print the seed, the step,
// the violation and the command that replays it with its trace. With --json the last stdout line
// is one JSON summary object. A run is a pure function of (seed, nodes, steps), so a replay is the
// same run again, printed event by event with --trace.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as realRaft from '../src/raft/index.js';
import { addStats, emptyStats, runSeed, runSeeds, type RaftModule, type SimResult } from '../src/sim/index.js';
import { MUTATIONS, loadMutatedRaft } from '../src/sim/mutations.js';
import { intOption } from './options.js';

/** Default seeds per run, and events per seed (300 seeds x 5 nodes take under a minute on one core). */
const SEEDS_DEFAULT = 100;
const STEPS_PER_SEED_DEFAULT = 50_000;
/** Trace lines shown with a violation (the full trace comes with the replay command). */
const TRACE_TAIL_LINES = 40;
const MILLISECONDS_PER_SECOND = 1000;

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string' },
    nodes: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
    'no-protocol-rules': { type: 'boolean', default: false },
    mutation: { type: 'string' },
  },
  strict: true,
});

const nodes = intOption('nodes', values.nodes, 3);
if (nodes !== 3 && nodes !== 5) throw new Error(`--nodes must be 3 or 5, got ${nodes}`);
const stepsMax = intOption('steps', values.steps, STEPS_PER_SEED_DEFAULT);
const protocolRules = !values['no-protocol-rules'];
const single = values.seed !== undefined ? intOption('seed', values.seed, 0) : undefined;
const start = intOption('start', values.start, 0);
const count = single !== undefined ? 1 : intOption('seeds', values.seeds, SEEDS_DEFAULT);
const seeds = single !== undefined ? [single] : Array.from({ length: count }, (_, i) => start + i);

let raft: RaftModule = realRaft;
let mutatedDir: string | undefined;
if (values.mutation !== undefined) {
  const mutation = MUTATIONS.find((m) => m.name === values.mutation);
  if (mutation === undefined) throw new Error(`no mutation ${values.mutation}; known: ${MUTATIONS.map((m) => m.name).join(', ')}`);
  ({ raft, dir: mutatedDir } = await loadMutatedRaft(mutation));
}

function replayCommand(seed: number): string {
  const rules = protocolRules ? '' : ' --no-protocol-rules';
  const mutation = values.mutation === undefined ? '' : ` --mutation ${values.mutation}`;
  return `npm run sim -- --seed ${seed} --nodes ${nodes} --steps ${stepsMax}${rules}${mutation} --trace`;
}

function printViolation(failure: SimResult): void {
  const v = failure.violation!;
  const tail = (failure.trace ?? []).slice(-TRACE_TAIL_LINES);
  console.error(`\nVIOLATION seed ${failure.seed} (${nodes} nodes) at step ${v.step}, tick ${v.tick}: ${v.message}`);
  console.error(`last events:\n${tail.join('\n')}`);
  console.error(`replay with its trace: ${replayCommand(failure.seed)}`);
}

const startedAt = performance.now();
let failures: SimResult[];
let results: SimResult[];
if (values.trace) {
  // Tracing prints every event of each seed as it happens (meant for one seed: --seed S).
  results = seeds.map((seed) =>
    runSeed({ seed, nodes, raft, stepsMax, protocolRules, trace: true, onTraceLine: (line) => console.log(line) }),
  );
  failures = results.filter((r) => r.violation !== undefined);
} else {
  const summary = runSeeds({ raft, nodes, seeds, stepsMax, protocolRules });
  results = summary.results;
  failures = summary.failures;
}
const seconds = (performance.now() - startedAt) / MILLISECONDS_PER_SECOND;
if (mutatedDir !== undefined) rmSync(mutatedDir, { recursive: true, force: true });

const totals = emptyStats();
for (const r of results) addStats(totals, r.stats);
const { faults, livenessTicksMax, ...counts } = totals;

for (const failure of failures) printViolation(failure);
const summary = {
  seeds: results.length,
  nodes,
  stepsPerSeed: stepsMax,
  protocolRules,
  violations: failures.length,
  ...(values.mutation === undefined ? {} : { mutation: values.mutation }),
  ...counts,
  livenessTicksMax,
  faults,
  seconds: Math.round(seconds * 100) / 100,
  failures: failures.map((f) => ({
    seed: f.seed,
    step: f.violation!.step,
    tick: f.violation!.tick,
    invariant: f.violation!.invariant,
    violation: f.violation!.message,
    replay: replayCommand(f.seed),
  })),
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  const c = counts;
  console.log(
    `${summary.seeds} seeds x ${nodes} nodes, ${c.steps} steps, ${c.ticks} ticks: ${summary.violations} violations; ` +
      `${c.commits} commits, ${c.elections} elections, ${c.crashes} crashes, ${c.confChanges} membership changes, ` +
      `${c.snapshotsSent} snapshots sent, ${c.livenessChecks} liveness checks (slowest recovery ${livenessTicksMax} ticks) ` +
      `in ${summary.seconds} s`,
  );
  console.log(`faults: ${JSON.stringify(faults)}`);
}
process.exitCode = failures.length > 0 ? 1 : 0;
