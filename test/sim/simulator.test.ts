// Proves the simulator, run on the real Raft core, finds no violation in a short batch of seeds
// (3 and 5 nodes) while actually exercising the faults it claims (crashes, elections, snapshots,
// membership changes, healed windows checked for liveness), and that a run is a pure function
// of its seed: the same seed twice, and the same seed traced, give the same run.

import t from 'tap';
import * as raft from '../../src/raft/index.js';
import { addStats, emptyStats, runSeed, runSeeds } from '../../src/sim/index.js';

/** Short runs keep the suite fast; the CLI (npm run sim) runs longer ones. */
const SEEDS = 20;
const STEPS = 12_000;

for (const nodes of [3, 5]) {
  t.test(`${SEEDS} seeds x ${nodes} nodes: no violation, faults exercised`, async (t) => {
    const seeds = Array.from({ length: SEEDS }, (_, i) => i);
    const summary = runSeeds({ raft, nodes, seeds, stepsMax: STEPS });
    for (const failure of summary.failures) {
      t.fail(`seed ${failure.seed}: ${failure.violation!.message}\n${(failure.trace ?? []).slice(-30).join('\n')}`);
    }
    t.equal(summary.violations, 0, 'no violations');
    const totals = emptyStats();
    for (const r of summary.results) addStats(totals, r.stats);
    t.ok(totals.elections > SEEDS, `leaders elected (${totals.elections})`);
    t.ok(totals.commits > SEEDS * 100, `entries committed (${totals.commits})`);
    t.ok(totals.crashes > 0 && totals.restarts > 0, `crashes and restarts (${totals.crashes}/${totals.restarts})`);
    t.ok(totals.snapshotsSent > 0, `snapshots sent (${totals.snapshotsSent})`);
    t.ok(totals.confChanges > 0, `membership changes (${totals.confChanges})`);
    t.ok(totals.livenessChecks > SEEDS, `healed windows checked for liveness (${totals.livenessChecks})`);
    t.ok(Object.keys(totals.faults).length >= 10, `fault kinds used: ${Object.keys(totals.faults).join(', ')}`);
  });
}

t.test('a seed replays exactly, traced or not', async (t) => {
  const options = { seed: 7, nodes: 5, raft, stepsMax: 6000 };
  const a = runSeed(options);
  const b = runSeed(options);
  t.same(b.stats, a.stats, 'same seed, same statistics');
  t.same(b.params, a.params, 'same seed, same parameters');
  const traced = runSeed({ ...options, trace: true });
  const tracedAgain = runSeed({ ...options, trace: true });
  t.same(traced.stats, a.stats, 'tracing does not change the run');
  t.same(tracedAgain.trace, traced.trace, 'the trace is the same event for event');
  t.equal(traced.trace!.filter((line) => /^\d+ t\d+ /.test(line)).length, a.stats.steps, 'one trace line per step');
  t.notSame(runSeed({ ...options, seed: 8 }).stats, a.stats, 'another seed, another run');
});
