// Proves the Wing-Gong-Lowe linearizability checker right on known histories of the cache's
// register (put first-writer-wins, delete, linearizable lookup): sequential and concurrent
// linearizable ones pass; stale reads, reads before the write, lost writes, double `stored`
// answers and impossible `exists-different` answers fail, with a witness naming the key and the
// operation; unknown outcomes count only when they explain the history; an exhausted budget says
// 'unknown'. Each history is written out by hand with its interval times in ms.
import t from 'tap';
import { checkLinearizability } from '../../../src/chaos/checkers/index.js';
import type { History } from '../../../src/chaos/history.js';
import { HistoryBuilder } from './helpers.js';

function verdict(h: HistoryBuilder | History): true | false | 'unknown' {
  return checkLinearizability(h instanceof HistoryBuilder ? h.build() : h).linearizable;
}

t.test('sequential histories follow the register exactly', async (t) => {
  const h = new HistoryBuilder();
  h.lookup(0, 'k', 0, 1, 'absent');
  h.put(0, 'k', 1, 2, 3, 'stored');
  h.lookup(0, 'k', 4, 5, 'present');
  h.put(0, 'k', 2, 6, 7, 'exists-different');
  h.put(0, 'k', 1, 8, 9, 'stored'); // Same value again: idempotent success.
  h.del(0, 'k', 10, 11);
  h.del(0, 'k', 12, 13); // Deleting an absent key still answers deleted.
  h.lookup(0, 'k', 14, 15, 'absent');
  h.put(0, 'k', 2, 16, 17, 'stored');
  h.lookup(0, 'k', 18, 19, 'present');
  t.equal(verdict(h), true);
  t.equal(verdict(new HistoryBuilder()), true, 'an empty history is linearizable');
});

t.test('concurrent histories pass when some order explains them', async (t) => {
  const overlap = new HistoryBuilder();
  overlap.put(0, 'k', 1, 0, 10, 'stored');
  overlap.lookup(1, 'k', 2, 5, 'absent'); // Before the put took effect.
  overlap.lookup(2, 'k', 3, 8, 'present'); // After it.
  t.equal(verdict(overlap), true, 'a lookup either side of an overlapping put');

  const race = new HistoryBuilder();
  race.put(0, 'k', 1, 0, 10, 'exists-different');
  race.put(1, 'k', 2, 1, 9, 'stored');
  t.equal(verdict(race), true, 'the later-invoked put may win the race');

  const churn = new HistoryBuilder();
  churn.put(0, 'k', 1, 0, 10, 'stored');
  churn.del(1, 'k', 0, 10);
  churn.put(2, 'k', 2, 0, 10, 'stored');
  churn.lookup(3, 'k', 11, 12, 'present');
  t.equal(verdict(churn), true, 'put, delete, put all concurrent: both puts stored');

  // The Porcupine register example: a write overlapping two reads that see new then old.
  const porcupine = new HistoryBuilder();
  porcupine.put(0, 'k', 1, 0, 100, 'stored');
  porcupine.lookup(1, 'k', 25, 75, 'present');
  porcupine.lookup(2, 'k', 30, 60, 'absent');
  t.equal(verdict(porcupine), true, 'reads may be ordered against invocation order when they overlap');

  const tie = new HistoryBuilder();
  tie.put(0, 'k', 1, 0, 5, 'stored');
  tie.lookup(1, 'k', 5, 6, 'absent');
  t.equal(verdict(tie), true, 'completion at the exact invocation time counts as concurrent');
});

t.test('non-linearizable histories fail', async (t) => {
  const cases: Array<[string, (h: HistoryBuilder) => void]> = [
    ['stale read: absent after an acknowledged put, no delete', (h) => {
      h.put(0, 'k', 1, 0, 1, 'stored');
      h.lookup(1, 'k', 2, 3, 'absent');
    }],
    ['read of a value before it was written', (h) => {
      h.lookup(0, 'k', 0, 1, 'present');
      h.put(1, 'k', 1, 2, 3, 'stored');
    }],
    ['lost write: two different puts both stored, no delete between', (h) => {
      h.put(0, 'k', 1, 0, 1, 'stored');
      h.put(1, 'k', 2, 2, 3, 'stored');
    }],
    ['exists-different answered for an absent key', (h) => {
      h.put(0, 'k', 1, 0, 1, 'exists-different');
    }],
    ['exists-different after the only page was deleted', (h) => {
      h.put(0, 'k', 1, 0, 1, 'stored');
      h.del(0, 'k', 2, 3);
      h.put(1, 'k', 2, 4, 5, 'exists-different');
    }],
    ['present after an acknowledged delete', (h) => {
      h.put(0, 'k', 1, 0, 1, 'stored');
      h.del(1, 'k', 2, 3);
      h.lookup(0, 'k', 4, 5, 'present');
    }],
    ['Porcupine: a read sees the new value, a later read the old one', (h) => {
      h.put(0, 'k', 1, 0, 100, 'stored');
      h.lookup(1, 'k', 10, 30, 'present');
      h.lookup(2, 'k', 40, 90, 'absent');
    }],
    ['a stale read that only concurrency could have hidden, had it overlapped', (h) => {
      h.lookup(0, 'k', 0, 10, 'present');
      h.put(1, 'k', 1, 5, 6, 'stored');
      h.lookup(2, 'k', 11, 12, 'absent');
    }],
  ];
  for (const [name, build] of cases) {
    const h = new HistoryBuilder();
    build(h);
    t.equal(verdict(h), false, name);
  }
});

t.test('unknown and failed outcomes', async (t) => {
  const took = new HistoryBuilder();
  took.put(0, 'k', 1, 0, 5, 'unknown');
  took.lookup(1, 'k', 6, 7, 'present');
  t.equal(verdict(took), true, 'an unknown put explains a later present');

  const inFlight = new HistoryBuilder();
  inFlight.put(0, 'k', 1, 0, undefined, 'unknown');
  inFlight.lookup(1, 'k', 100, 101, 'present');
  inFlight.lookup(1, 'k', 102, 103, 'present');
  t.equal(verdict(inFlight), true, 'an unknown put without completion time takes effect late');

  const failed = new HistoryBuilder();
  failed.put(0, 'k', 1, 0, 5, 'fail');
  failed.lookup(1, 'k', 6, 7, 'present');
  t.equal(verdict(failed), false, 'a failed put explains nothing');

  const late = new HistoryBuilder();
  late.lookup(0, 'k', 0, 1, 'present');
  late.put(1, 'k', 1, 2, undefined, 'unknown');
  t.equal(verdict(late), false, 'an unknown put invoked after the read cannot explain it');

  const deleted = new HistoryBuilder();
  deleted.put(0, 'k', 1, 0, 1, 'stored');
  deleted.del(1, 'k', 2, 3, 'unknown');
  deleted.lookup(0, 'k', 4, 5, 'absent');
  t.equal(verdict(deleted), true, 'an unknown delete explains a later absent');

  const once = new HistoryBuilder();
  once.put(0, 'k', 1, 0, 1, 'stored');
  once.del(1, 'k', 2, 3, 'unknown');
  once.lookup(0, 'k', 4, 5, 'absent');
  once.put(0, 'k', 2, 6, 7, 'stored');
  once.lookup(0, 'k', 8, 9, 'absent');
  t.equal(verdict(once), false, 'one unknown delete takes effect at most once');

  const unused = new HistoryBuilder();
  unused.put(0, 'k', 1, 0, 1, 'stored');
  unused.del(1, 'k', 2, undefined, 'unknown');
  unused.lookup(0, 'k', 4, 5, 'present');
  unused.lookup(0, 'k', 6, 7, 'present');
  t.equal(verdict(unused), true, 'an unknown delete may never take effect');

  const lostCompletion = new HistoryBuilder();
  lostCompletion.put(0, 'k', 1, 0, undefined, 'stored'); // ok, but the harness lost the completion time.
  lostCompletion.lookup(1, 'k', 10, 11, 'absent');
  lostCompletion.lookup(1, 'k', 20, 21, 'present');
  for (const search of ['wgl', 'sweep'] as const) {
    t.equal(checkLinearizability(lostCompletion.build(), { search }).linearizable, true, `${search}: an ok operation without completion may end any time`);
  }
  lostCompletion.lookup(1, 'k', 30, 31, 'absent');
  t.equal(verdict(lostCompletion), false, 'but it still takes effect only once');

  const unknownRead = new HistoryBuilder();
  unknownRead.put(0, 'k', 1, 0, 1, 'stored');
  unknownRead.lookup(1, 'k', 2, 3, 'unknown');
  t.equal(verdict(unknownRead), true, 'an unknown lookup observed nothing');
});

t.test('a client retrying the same page (a value with several writers)', async (t) => {
  const retry = new HistoryBuilder();
  retry.put(0, 'k', 7, 0, 5, 'unknown');
  retry.lookup(1, 'k', 6, 7, 'present');
  retry.put(0, 'k', 7, 8, 9, 'stored');
  t.equal(verdict(retry), true, 'the retry finds its own page: stored');

  const other = new HistoryBuilder();
  other.put(0, 'k', 7, 0, 5, 'unknown');
  other.lookup(1, 'k', 6, 7, 'present');
  other.put(0, 'k', 8, 8, 9, 'stored');
  t.equal(verdict(other), false, 'a different page cannot be stored over the one the lookup saw');

  const differs = new HistoryBuilder();
  differs.put(0, 'k', 7, 0, 5, 'unknown');
  differs.put(0, 'k', 7, 6, 7, 'exists-different');
  t.equal(verdict(differs), false, 'only the same page can be present, so exists-different is impossible');

  const twice = new HistoryBuilder();
  twice.put(0, 'k', 7, 0, 1, 'stored');
  twice.put(1, 'k', 7, 2, 3, 'stored');
  twice.del(0, 'k', 4, 5);
  twice.put(1, 'k', 7, 6, 7, 'stored');
  twice.put(0, 'k', 8, 8, 9, 'exists-different');
  t.equal(verdict(twice), true, 'the same page stored, kept, deleted and stored again');
});

t.test('keys are independent; the witness names the key and the failing operation', async (t) => {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.lookup(0, 'a', 2, 3, 'present');
  const put = h.put(1, 'b', 2, 0, 1, 'stored');
  h.lookup(2, 'b', 1.5, 1.8, 'present');
  const stale = h.lookup(1, 'b', 2, 3, 'absent');
  h.lookup(1, 'b', 10, 11, 'present');
  h.get(2, 'b', 2, 3, null); // Gets are not linearizable and not part of this check.
  const result = checkLinearizability(h.build());
  t.equal(result.linearizable, false);
  t.equal(result.keys, 2);
  t.equal(result.keysLinearizable, 1);
  t.equal(result.keysNotLinearizable, 1);
  t.equal(result.operationsChecked, 6);
  const [witness] = result.witnesses;
  t.equal(witness.key, 'b');
  t.equal(witness.failing.id, stale.id, 'the stale lookup is where every order fails');
  t.equal(witness.deepestState, 'present');
  t.ok(witness.operations.some((op) => op.id === put.id), 'the witness shows the acknowledged put');
  t.ok(witness.operations.some((op) => op.id === stale.id), 'and the stale lookup');
  t.ok(witness.operations.every((op) => op.key === 'b' && op.kind !== 'get'), 'only that key, no gets');
  t.match(witness.explanation, /operation #\d+ \(lookup -> absent\)/);
  t.equal(witness.timeline.length, witness.operations.length);
  t.match(witness.timeline, [/^#\d+ c1 put 2:4096 -> stored \[0\.0, 1\.0\] ms$/]);
});

t.test('an exhausted budget answers unknown, never a guess', async (t) => {
  const h = new HistoryBuilder();
  for (let i = 0; i < 20; i++) h.put(i % 4, 'k', i, i, i + 3, i === 0 ? 'stored' : 'exists-different');
  const steps = checkLinearizability(h.build(), { stepsPerKeyMax: 10 });
  t.equal(steps.linearizable, 'unknown');
  t.equal(steps.keysUndecided, 1);
  t.same(steps.undecided[0], { ns: 'chaos', key: 'k', reason: 'steps', operations: 20, unknownOperations: 0 });
  const time = checkLinearizability(h.build(), { timeBudgetMs: -1 });
  t.equal(time.linearizable, 'unknown');
  t.equal(time.undecided[0].reason, 'time');
  t.equal(checkLinearizability(h.build()).linearizable, true, 'with the default budget it decides');

  // A definite failure on one key wins over an undecided one elsewhere.
  h.put(0, 'z', 1, 0, 1, 'exists-different');
  t.equal(checkLinearizability(h.build(), { stepsPerKeyMax: 10 }).linearizable, false);
});

t.test('malformed records are harness bugs and fail loudly', async (t) => {
  const h = new HistoryBuilder();
  const put = h.put(0, 'k', 1, 0, 1, 'stored');
  delete put.result;
  t.throws(() => checkLinearizability(h.build()), /an ok put must have a result/);
  const g = new HistoryBuilder();
  g.put(0, 'k', 1, 5, 4, 'stored');
  t.throws(() => checkLinearizability(g.build()), /completes \(4\) before it is invoked \(5\)/);
  const wrong = new HistoryBuilder();
  wrong.put(0, 'k', 1, 0, 1, 'stored').result = 'deleted';
  t.throws(() => checkLinearizability(wrong.build()), /got deleted/, 'an answer the operation cannot give');
});
