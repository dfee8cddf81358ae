// Proves checkHistory, the verdict `kvc chaos` prints: a clean history (with faults, unknown
// outcomes, concurrent clients) is ok with the fields filled in; and each planted bug the
// issue names (a lost write, a stale read, a corrupt read) turns `ok` false through its own field
// and says why, as do two leaders in a term, diverged members, a slow recovery and an undecided
// linearizability check.
import t from 'tap';
import { checkHistory } from '../../../src/chaos/checkers/index.js';
import type { FaultEvent } from '../../../src/chaos/history.js';
import { HistoryBuilder, page } from './helpers.js';

const KILL: FaultEvent = { nemesis: 'kill', detail: 'kill n1 (leader)', startMs: 10, endMs: 20, members: [1] };

/** A healthy run: three clients on two keys, one fault, a few unknown outcomes, converged members. */
function clean(): HistoryBuilder {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 2, 'stored');
  h.lookup(1, 'a', 1, 3, 'present');
  h.put(2, 'b', 2, 1, 4, 'stored');
  h.put(0, 'a', 3, 11, 19, 'unknown'); // During the kill: may or may not have landed.
  h.del(1, 'b', 12, 25, 'unknown');
  h.put(2, 'b', 4, 21, 23, 'exists-different');
  h.get(0, 'a', 21, 22, page(1));
  h.put(0, 'c', 5, 22, 24, 'stored');
  h.lookup(2, 'c', 25, 26, 'present');
  h.faults = [KILL];
  h.leaders = [
    { atMs: 0, member: 1, term: 2 },
    { atMs: 21, member: 2, term: 3 },
  ];
  for (const member of [1, 2, 3]) h.final(member, { a: 1, b: null, c: 5 }, 40, 'digest');
  return h;
}

t.test('a clean history is ok', async (t) => {
  const verdict = checkHistory(clean().build());
  t.same(verdict.failures, []);
  t.match(verdict, {
    ok: true,
    operations: 9,
    acknowledgedPuts: 3,
    lostPuts: 0,
    corruptReads: 0,
    linearizable: true,
    leadersPerTermMax: 1,
    converged: true,
    recoverySecondsMax: 0.003, // Heal at 20 ms; the first write invoked after it (b's put) answered at 23 ms.
  });
  t.equal(verdict.details.linearizability.keys, 3);
  t.equal(verdict.details.liveness.healsMeasured, 1);
  t.same(JSON.parse(JSON.stringify(verdict)).linearizable, true, 'the verdict survives JSON');
});

t.test('planted bug: a lost write', async (t) => {
  const h = clean();
  h.finals[2].pages.c = null;
  const verdict = checkHistory(h.build());
  t.equal(verdict.ok, false);
  t.equal(verdict.lostPuts, 1);
  t.equal(verdict.converged, false, 'the member that lost it also diverged');
  t.match(verdict.failures, [/1 acknowledged pages are missing on some member/]);
});

t.test('planted bug: a stale read', async (t) => {
  const h = clean();
  h.lookup(1, 'c', 27, 28, 'absent');
  const verdict = checkHistory(h.build());
  t.equal(verdict.ok, false);
  t.equal(verdict.linearizable, false);
  t.equal(verdict.details.linearizability.witnesses[0].key, 'c');
  t.same(verdict.failures, ['1 keys have histories that are not linearizable']);
});

t.test('planted bug: a corrupt read', async (t) => {
  const h = clean();
  h.get(1, 'a', 30, 31, { crc32c: 0xdead, bytes: 4096 });
  const verdict = checkHistory(h.build());
  t.equal(verdict.ok, false);
  t.equal(verdict.corruptReads, 1);
  t.same(verdict.failures, ['1 gets returned bytes no put wrote']);
});

t.test('every other check can fail the verdict too', async (t) => {
  const leaders = clean();
  leaders.leaders.push({ atMs: 22, member: 3, term: 3 });
  t.same(checkHistory(leaders.build()).failures, ['1 terms had more than one leader']);
  t.equal(checkHistory(leaders.build()).leadersPerTermMax, 2);

  const diverged = clean();
  diverged.finals[1].digest = 'other';
  t.match(checkHistory(diverged.build()).failures, [/members did not converge: digest/]);

  const slow = clean();
  slow.faults = [{ ...KILL, endMs: 5 }, { ...KILL, startMs: 6, endMs: 7 }];
  const slowVerdict = checkHistory(slow.build(), { recoveryBoundMs: 1 });
  t.equal(slowVerdict.ok, false);
  t.match(slowVerdict.failures, [/heals were not followed by a successful write within 1 ms/]);

  const corrupt = clean();
  corrupt.finals[0].pages.d = page(77);
  corrupt.finals[1].pages.d = page(77);
  corrupt.finals[2].pages.d = page(77);
  t.same(checkHistory(corrupt.build()).failures, ['3 member copies hold bytes no put wrote']);

  const resurrected = clean();
  resurrected.del(2, 'c', 27, 28);
  t.same(checkHistory(resurrected.build()).failures, ['3 member copies survive an acknowledged delete']);

  const undecided = checkHistory(clean().build(), { linearizability: { stepsPerKeyMax: 1 } });
  t.equal(undecided.linearizable, 'unknown');
  t.equal(undecided.ok, false, 'an undecided check is not a pass');
  t.match(undecided.failures, [/linearizability undecided for 3 keys/]);

  const unhealed = clean();
  unhealed.faults = [{ nemesis: 'pause', detail: 'pause n2', startMs: 30, members: [2] }];
  t.match(checkHistory(unhealed.build()).failures, ['1 faults were never healed']);
});
