// Proves the checkers that read the cluster rather than the clients' answers: election safety
// catches two leaders in one term (at any times); convergence catches a different applied index,
// digest or page between members, and a history without final states; liveness measures the time
// from each quiet heal to the next successful write, flags a slow or missing recovery and an
// unhealed fault, and does not measure heals the run gave no time to recover. Inputs are
// written out by hand.
import t from 'tap';
import { checkConvergence, checkElectionSafety, checkLiveness } from '../../../src/chaos/checkers/index.js';
import type { FaultEvent } from '../../../src/chaos/history.js';
import { HistoryBuilder } from './helpers.js';

t.test('election safety: one leader per term', async (t) => {
  const ok = checkElectionSafety({
    leaders: [
      { atMs: 0, member: 1, term: 2 },
      { atMs: 5, member: 1, term: 2 },
      { atMs: 9, member: 3, term: 3 },
    ],
  });
  t.same(ok, { terms: 2, leadersPerTermMax: 1, termsWithManyLeaders: 0, offending: [] });
  t.equal(checkElectionSafety({ leaders: [] }).leadersPerTermMax, 0, 'no observation: no leader');

  const split = checkElectionSafety({
    leaders: [
      { atMs: 0, member: 1, term: 4 },
      { atMs: 100, member: 2, term: 4 }, // Long after: still the same term.
      { atMs: 101, member: 3, term: 5 },
    ],
  });
  t.equal(split.leadersPerTermMax, 2);
  t.same(split.offending, [{ term: 4, members: [1, 2] }]);
});

t.test('convergence: same applied index, digest and pages everywhere', async (t) => {
  const same = new HistoryBuilder().final(1, { a: 1, b: null }, 50, 'x').final(2, { a: 1 }, 50, 'x');
  t.equal(checkConvergence(same.build()).converged, true, 'a missing key and a null page are the same');

  const digest = new HistoryBuilder().final(1, { a: 1 }, 50, 'x').final(2, { a: 1 }, 50, 'y');
  const result = checkConvergence(digest.build());
  t.equal(result.converged, false, 'different digests');
  t.same(result.digests, { 1: 'x', 2: 'y' });
  t.match(result.differences[0], /digest: member 1 x, member 2 y/);

  const applied = new HistoryBuilder().final(1, { a: 1 }, 50).final(2, { a: 1 }, 49);
  t.equal(checkConvergence(applied.build()).converged, false, 'different applied indexes');

  const pages = new HistoryBuilder().final(1, { a: 1 }).final(2, { a: 2 }).final(3, { a: null });
  const differing = checkConvergence(pages.build());
  t.equal(differing.converged, false, 'different pages under equal digests');
  t.equal(differing.keysDiffering, 1);
  t.equal(differing.differences.length, 2);

  const none = checkConvergence(new HistoryBuilder().build());
  t.equal(none.converged, false, 'no final states: convergence not shown');
  t.same(none.differences, ['no member reported a final state']);
});

function fault(startMs: number, endMs: number | undefined, nemesis = 'kill'): FaultEvent {
  const event: FaultEvent = { nemesis, detail: `${nemesis} n1`, startMs, members: [1] };
  if (endMs !== undefined) event.endMs = endMs;
  return event;
}

t.test('liveness: writes succeed again within the bound after each heal', async (t) => {
  const h = new HistoryBuilder();
  h.faults = [fault(1_000, 2_000), fault(10_000, 12_000, 'partition')];
  h.put(0, 'a', 1, 1_500, 2_500, 'stored'); // Invoked before the heal: does not count.
  h.put(0, 'a', 2, 2_100, 3_000, 'unknown');
  const first = h.del(1, 'a', 2_200, 4_000);
  h.put(0, 'a', 3, 12_500, 13_000, 'exists-different');
  h.lookup(0, 'a', 20_000, 20_001, 'present');
  const result = checkLiveness(h.build());
  t.equal(result.ok, true);
  t.equal(result.healsMeasured, 2);
  t.equal(result.recoverySecondsMax, 2);
  t.same(result.recoveries[0], { healMs: 2_000, faults: ['kill: kill n1'], recoveryMs: 2_000, firstWriteId: first.id, status: 'recovered' });
  t.equal(result.recoveries[1].recoveryMs, 1_000);
});

t.test('liveness: slow, missing and unmeasurable recoveries', async (t) => {
  const slow = new HistoryBuilder();
  slow.faults = [fault(0, 1_000)];
  slow.put(0, 'a', 1, 1_000, 17_000, 'stored');
  const slowResult = checkLiveness(slow.build());
  t.equal(slowResult.ok, false, 'a recovery of 16 s is over the 15 s bound');
  t.equal(slowResult.flagged[0].status, 'slow');
  t.equal(slowResult.recoverySecondsMax, 16);
  t.equal(checkLiveness(slow.build(), { recoveryBoundMs: 20_000 }).ok, true, 'the bound is an option');

  const stuck = new HistoryBuilder();
  stuck.faults = [fault(0, 1_000), fault(30_000, 31_000)];
  stuck.put(0, 'a', 1, 2_000, 3_000, 'fail');
  stuck.put(0, 'a', 1, 31_000, 32_000, 'stored');
  const stuckResult = checkLiveness(stuck.build());
  t.equal(stuckResult.ok, false);
  t.same(
    stuckResult.recoveries.map((r) => [r.status, r.recoveryMs]),
    [
      ['no-write', 29_000], // Healed for 29 s, up to the next fault, without a successful write.
      ['recovered', 1_000],
    ],
  );

  const overlapping = new HistoryBuilder();
  overlapping.faults = [fault(0, 5_000), fault(2_000, 30_000, 'pause')];
  overlapping.put(0, 'a', 1, 30_500, 31_000, 'stored');
  const overlapResult = checkLiveness(overlapping.build());
  t.same(overlapResult.recoveries.map((r) => r.healMs), [30_000], 'a heal while another fault is on is not measured');

  const short = new HistoryBuilder();
  short.faults = [fault(0, 1_000)];
  short.lookup(0, 'a', 1_500, 2_000, 'absent');
  const shortResult = checkLiveness(short.build());
  t.equal(shortResult.ok, true, 'the run ended 1 s after the heal: not measured');
  t.equal(shortResult.recoveries[0].status, 'unmeasured');
  t.equal(shortResult.recoverySecondsMax, 0);

  const unhealed = new HistoryBuilder();
  unhealed.faults = [fault(0, undefined)];
  const unhealedResult = checkLiveness(unhealed.build());
  t.equal(unhealedResult.ok, false, 'a fault never healed fails liveness');
  t.equal(unhealedResult.unhealed.length, 1);
});
