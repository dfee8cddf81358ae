// Proves the mutation check works end to end on small budgets: a patched copy of the Raft core
// that skips the follower's previous-term check is caught by log matching, one that lets a node
// vote twice in a term is caught by election safety, one that never starts elections is caught
// by the liveness check, and a pattern that no longer matches the core fails loudly instead of
// testing an unpatched copy. (npm run sim:mutations runs every mutation with the full budget.)

import { rmSync } from 'node:fs';
import t from 'tap';
import { MUTATIONS, checkMutation, huntViolation, loadMutatedRaft, writeMutatedCopy, type Mutation } from '../../src/sim/mutations.js';

const SEED_BUDGET = 20;
const STEPS = 15_000;

function mutation(name: string): Mutation {
  const found = MUTATIONS.find((m) => m.name === name);
  if (found === undefined) throw new Error(`no mutation ${name}`);
  return found;
}

t.test('every registered mutation still applies to the current core', async (t) => {
  for (const m of MUTATIONS) {
    const dir = writeMutatedCopy(m);
    rmSync(dir, { recursive: true, force: true });
    t.pass(`${m.name} patches apply exactly once`);
  }
});

for (const [name, invariant] of [
  ['append-without-prev-term-check', 'log-matching'],
  ['double-vote', 'election-safety'],
] as const) {
  t.test(`${name} is caught`, async (t) => {
    const verdict = await checkMutation(mutation(name), SEED_BUDGET, STEPS);
    t.ok(verdict.caught, `caught within ${SEED_BUDGET} seeds (seed ${verdict.seed}, step ${verdict.step})`);
    t.equal(verdict.invariant, invariant, verdict.violation ?? 'no violation');
    t.ok((verdict.result?.trace?.length ?? 0) > 0, 'the failing seed comes with its replayed trace');
  });
}

t.test('a core that never campaigns fails the liveness check', async (t) => {
  const neverCampaigns: Mutation = {
    name: 'never-campaign',
    description: 'followers never time out',
    checks: 'safety',
    patches: [{ file: 'raft.ts', find: '  #tickElection(): void {\n    this.electionElapsed++;', replace: '  #tickElection(): void {' }],
  };
  const { raft, dir } = await loadMutatedRaft(neverCampaigns);
  const hunt = huntViolation({ raft, seedBudget: 2, stepsMax: STEPS, protocolRules: false });
  rmSync(dir, { recursive: true, force: true });
  t.equal(hunt.caught?.violation?.invariant, 'liveness', hunt.caught?.violation?.message ?? 'not caught');
});

t.test('a pattern that does not match exactly once fails loudly', async (t) => {
  const drifted: Mutation = {
    name: 'drifted',
    description: 'pattern no longer in the core',
    checks: 'safety',
    patches: [{ file: 'log.ts', find: 'this pattern is not in the core', replace: '' }],
  };
  t.throws(() => writeMutatedCopy(drifted), /expected its pattern exactly once in src\/raft\/log.ts, found it 0 times/);
  const twice: Mutation = { ...drifted, patches: [{ file: 'raft.ts', find: 'this.electionElapsed++;', replace: '' }] };
  t.throws(() => writeMutatedCopy(twice), /found it 2 times/);
});
