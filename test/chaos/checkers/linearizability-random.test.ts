// Proves the linearizability checker on seeded random histories, three ways:
// 1. against a brute-force oracle that tries every order, on thousands of tiny histories with
//    random answers (linearizable or not), random overlaps, shared values and unknown outcomes:
//    each search (WGL, the breadth-first sweep, and the two combined) must agree on every one, and
//    the two must name the same failing operation;
// 2. on linearizable histories built by running a sequential register under concurrent clients
//    (each operation takes effect at a random point of its interval; unknown writes take effect or
//    not): the checker must say true; then one answer is flipped where the order is forced (no
//    overlap and no unknown operation on that key up to the flipped one), which is provably not
//    linearizable: the checker must say false and point at it;
// 3. on large histories (the size of a long chaos run, and one busy key with many unknown
//    outcomes): the checker must decide, within its default budget.
import t from 'tap';
import { checkLinearizability } from '../../../src/chaos/checkers/index.js';
import type { Operation } from '../../../src/chaos/history.js';
import { Prng } from '../../../src/sim/index.js';
import { bruteForceLinearizable, generateLinearizable, page } from './helpers.js';

const TINY_HISTORIES = 3000;
const TINY_OPS_MAX = 9;
const GENERATED_SEEDS = 40;

/** A tiny single-key history with random intervals, kinds, values (of 3) and answers. */
function tinyHistory(seed: number): Operation[] {
  const rng = new Prng(seed);
  const count = 1 + rng.int(TINY_OPS_MAX);
  const ops: Operation[] = [];
  for (let i = 0; i < count; i++) {
    const invokeMs = rng.int(20);
    const roll = rng.float();
    const kind = roll < 0.4 ? 'put' : roll < 0.6 ? 'delete' : 'lookup';
    const outcome = rng.float() < 0.3 ? 'unknown' : rng.float() < 0.05 ? 'fail' : 'ok';
    const op: Operation = { id: i, client: i, kind, ns: 'chaos', key: 'k', invokeMs, completeMs: invokeMs + rng.int(8), outcome };
    if (kind === 'put') op.value = page(1 + rng.int(3));
    if (outcome === 'ok') {
      if (kind === 'put') op.result = rng.float() < 0.6 ? 'stored' : 'exists-different';
      else if (kind === 'delete') op.result = 'deleted';
      else op.result = rng.float() < 0.5 ? 'present' : 'absent';
    }
    ops.push(op);
  }
  return ops;
}

t.test('agrees with brute force on tiny random histories', async (t) => {
  let linearizable = 0;
  let disagreements = 0;
  for (let seed = 1; seed <= TINY_HISTORIES; seed++) {
    const ops = tinyHistory(seed);
    const expected = bruteForceLinearizable(ops);
    const results = (['auto', 'wgl', 'sweep'] as const).map((search) => checkLinearizability({ operations: ops }, { search }));
    const answers = results.map((result) => result.linearizable);
    const failing = results.map((result) => result.witnesses[0]?.failing.id);
    if (answers.some((answer) => answer !== expected) || failing[1] !== failing[2]) {
      disagreements++;
      if (disagreements <= 3) t.fail(`seed ${seed}: brute force says ${expected}; auto, wgl, sweep say ${answers}, failing at ${failing}`);
    }
    if (expected) linearizable++;
  }
  t.equal(disagreements, 0, `agreement on ${TINY_HISTORIES} histories`);
  // Both answers must be well represented, or the agreement proves little.
  t.ok(linearizable > TINY_HISTORIES / 4 && linearizable < (TINY_HISTORIES * 3) / 4, `${linearizable} linearizable`);
});

/** Whether every non-get operation of `victim`'s key invoked before it completes forms a chain with it (no overlap, nothing unknown). */
function forcedUpTo(operations: readonly Operation[], victim: Operation): boolean {
  const before = operations
    .filter((op) => op.key === victim.key && op.kind !== 'get' && op.outcome !== 'fail' && op.invokeMs <= victim.completeMs!)
    .sort((a, b) => a.invokeMs - b.invokeMs);
  if (before.some((op) => op.outcome === 'unknown')) return false;
  return before.every((op, i) => i === 0 || before[i - 1].completeMs! < op.invokeMs);
}

t.test('generated linearizable histories pass; a forced answer flipped fails', async (t) => {
  let flipped = 0;
  for (let seed = 1; seed <= GENERATED_SEEDS; seed++) {
    const history = generateLinearizable(seed, { clients: 3, keys: 4, operations: 400, unknownRatio: 0.1, failRatio: 0.05 });
    t.equal(checkLinearizability(history).linearizable, true, `seed ${seed} is linearizable`);
    const victims = history.operations.filter(
      (op) => op.outcome === 'ok' && (op.kind === 'lookup' || op.kind === 'put') && forcedUpTo(history.operations, op),
    );
    if (victims.length === 0) continue;
    const victim = victims[victims.length - 1];
    const flip: Record<string, Operation['result']> = {
      present: 'absent',
      absent: 'present',
      stored: 'exists-different',
      'exists-different': 'stored',
    };
    victim.result = flip[victim.result!];
    const result = checkLinearizability(history);
    t.equal(result.linearizable, false, `seed ${seed}: op ${victim.id} flipped`);
    t.equal(result.witnesses[0]?.failing.id, victim.id, `seed ${seed}: the witness names the flipped operation`);
    flipped++;
  }
  t.ok(flipped >= GENERATED_SEEDS / 2, `${flipped} seeds had a forced operation to flip`);
});

// The step budget is the default; the wall-clock budget is raised so that a loaded CI machine
// (the chaos smoke runs member processes beside this file) cannot turn a decision into 'unknown'.
const LOADED_MACHINE_BUDGET = { timeBudgetMs: 120_000 };

t.test('large histories are decided within the default step budget', async (t) => {
  const sizes = [
    { name: 'a long run: 50,000 ops, 32 keys, 8 clients, 2% unknown', clients: 8, keys: 32, operations: 50_000, unknownRatio: 0.02 },
    { name: 'one busy key: 6,000 ops, 8 clients, 10% unknown', clients: 8, keys: 1, operations: 6_000, unknownRatio: 0.1 },
  ];
  for (const size of sizes) {
    const history = generateLinearizable(11, { ...size, failRatio: 0.02 });
    const result = checkLinearizability(history, LOADED_MACHINE_BUDGET);
    t.equal(result.linearizable, true, `${size.name}: true in ${result.elapsedMs.toFixed(0)} ms, ${result.steps} steps`);
    // Then, after everything else, one key alternates present/absent more often than all its
    // unknown deletes could explain: provably not linearizable, and every order must be exhausted.
    const endMs = Math.max(...history.operations.map((op) => op.completeMs ?? op.invokeMs));
    const unknownDeletes = history.operations.filter((op) => op.key === 'k0' && op.kind === 'delete' && op.outcome === 'unknown').length;
    for (let i = 0; i < 2 * unknownDeletes + 4; i++) {
      const invokeMs = endMs + 1 + 2 * i;
      const result = i % 2 === 0 ? 'present' : 'absent';
      history.operations.push({ id: history.operations.length, client: 99, kind: 'lookup', ns: 'chaos', key: 'k0', invokeMs, completeMs: invokeMs + 1, outcome: 'ok', result });
    }
    const rejected = checkLinearizability(history, LOADED_MACHINE_BUDGET);
    t.equal(rejected.linearizable, false, `${size.name}, plus flapping reads: false in ${rejected.elapsedMs.toFixed(0)} ms`);
  }
});
