// Mutation check of the simulator (src/sim/mutations.ts): for each mutation, patch a copy of
// src/raft, import it, and run seeds until the simulator finds a violation. Then a control run
// of an unpatched copy, loaded the same way, must find none.
//
//   npm run sim:mutations -- [--json] [--seeds N] [--steps N] [--only NAME] [--control-seeds N]
//
// Exit 0 when every mutation is caught within its seed budget and the control run is clean.
// With --json the last stdout line is a JSON array, one object per mutation:
// {"mutation", "caught", "seed", "nodes", "step", "invariant", "violation", "checks", "seedsRun", "seconds"}.
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MUTATIONS, checkMutation, huntViolation, loadMutatedRaft, type MutationVerdict } from '../src/sim/mutations.js';
import { intOption } from './options.js';

/** Seeds tried per mutation before it counts as not caught. */
const SEED_BUDGET_DEFAULT = 300;
const STEPS_PER_SEED_DEFAULT = 30_000;
/** Seeds of the unmutated control run. */
const CONTROL_SEEDS_DEFAULT = 100;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seeds: { type: 'string' },
    steps: { type: 'string' },
    only: { type: 'string' },
    'control-seeds': { type: 'string' },
  },
  strict: true,
});

const seedBudget = intOption('seeds', values.seeds, SEED_BUDGET_DEFAULT);
const stepsMax = intOption('steps', values.steps, STEPS_PER_SEED_DEFAULT);
const controlSeeds = intOption('control-seeds', values['control-seeds'], CONTROL_SEEDS_DEFAULT);
const selected = values.only === undefined ? MUTATIONS : MUTATIONS.filter((m) => m.name === values.only);
if (selected.length === 0) throw new Error(`no mutation named ${values.only}; known: ${MUTATIONS.map((m) => m.name).join(', ')}`);

const verdicts: MutationVerdict[] = [];
for (const mutation of selected) {
  const verdict = await checkMutation(mutation, seedBudget, stepsMax);
  verdicts.push(verdict);
  const where = verdict.caught
    ? `caught by seed ${verdict.seed} (${verdict.nodes} nodes) at step ${verdict.step}: ${verdict.violation}`
    : `NOT CAUGHT in ${verdict.seedsRun} seeds`;
  console.log(`${mutation.name} [${mutation.checks}]: ${where} (${verdict.seedsRun} seeds, ${verdict.seconds.toFixed(1)} s)`);
  if (verdict.caught) {
    const rules = mutation.checks === 'protocol' ? '' : ' --no-protocol-rules';
    console.log(`  replay: npm run sim -- --seed ${verdict.seed} --nodes ${verdict.nodes} --steps ${stepsMax}${rules} --mutation ${mutation.name} --trace`);
  }
}

// The control: an unpatched copy through the same loader, with every check on.
const control = await loadMutatedRaft(undefined);
const clean = huntViolation({ raft: control.raft, seedBudget: controlSeeds, stepsMax, protocolRules: true });
rmSync(control.dir, { recursive: true, force: true });
const controlOk = clean.caught === undefined;
console.log(
  controlOk
    ? `control (unmutated core): 0 violations in ${clean.seedsRun} seeds`
    : `control (unmutated core): VIOLATION at seed ${clean.caught!.seed}: ${clean.caught!.violation!.message}`,
);

const allCaught = verdicts.every((v) => v.caught);
if (values.json) {
  const report = verdicts.map(({ result: _result, ...rest }) => ({ ...rest, seconds: Math.round(rest.seconds * 100) / 100 }));
  console.log(JSON.stringify(report));
}
process.exitCode = allCaught && controlOk ? 0 : 1;
