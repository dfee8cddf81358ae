// Proves the simulator's PRNG is a pure function of its seed (the basis of replayable runs), that
// different seeds and forks give different streams, and that int/range/pick/shuffle stay within
// their bounds and spread over them. Plain calls on real Prng objects, no mocks.

import t from 'tap';
import { Prng } from '../../src/sim/index.js';

function draw(prng: Prng, n: number): number[] {
  return Array.from({ length: n }, () => prng.nextU32());
}

t.test('the same seed gives the same stream, other seeds another', async (t) => {
  t.same(draw(new Prng(42), 100), draw(new Prng(42), 100), 'seed 42 twice');
  t.notSame(draw(new Prng(42), 100), draw(new Prng(43), 100), 'seeds 42 and 43 differ');
  t.notSame(draw(new Prng(0), 10), draw(new Prng(1), 10), 'small seeds are spread');
  const a = new Prng(7);
  const fork = a.fork();
  t.notSame(draw(fork, 10), draw(a, 10), 'a fork has its own stream');
  t.same(draw(new Prng(7).fork(), 10), draw(new Prng(7).fork(), 10), 'forks are deterministic too');
});

t.test('values stay in their ranges and cover them', async (t) => {
  const prng = new Prng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const v = prng.int(10);
    if (!Number.isInteger(v) || v < 0 || v >= 10) t.fail(`int(10) gave ${v}`);
    seen.add(v);
    const r = prng.range(-3, 3);
    if (r < -3 || r > 3) t.fail(`range(-3, 3) gave ${r}`);
    const f = prng.float();
    if (f < 0 || f >= 1) t.fail(`float() gave ${f}`);
  }
  t.equal(seen.size, 10, 'int(10) produced every value');
  let heads = 0;
  for (let i = 0; i < 10_000; i++) if (prng.chance(0.3)) heads++;
  t.ok(heads > 2700 && heads < 3300, `chance(0.3) is close to 30% (${heads}/10000)`);
  t.throws(() => prng.int(0), RangeError, 'int(0) is refused');
  t.throws(() => prng.pick([]), RangeError, 'pick from nothing is refused');
});

t.test('shuffle permutes without losing or inventing items', async (t) => {
  const prng = new Prng(9);
  const items = [1, 2, 3, 4, 5, 6, 7, 8];
  const shuffled = prng.shuffle(items);
  t.same([...shuffled].sort((a, b) => a - b), items, 'same items');
  t.same(items, [1, 2, 3, 4, 5, 6, 7, 8], 'input untouched');
  let moved = 0;
  for (let i = 0; i < 50; i++) if (prng.shuffle(items).join() !== items.join()) moved++;
  t.ok(moved > 45, 'shuffles almost always change the order');
});
