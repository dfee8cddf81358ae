// Proves that each safety checker of the simulator fires on a planted violation and stays quiet
// on the matching legal history: the checker is fed synthetic observations (who led which term,
// what each node persisted, committed and applied), exactly as the simulator feeds it from real
// runs, and must throw an InvariantViolation naming the broken invariant.

import t, { type Test } from 'tap';
import { EntryType, type Entry } from '../../src/raft/index.js';
import { InvariantViolation, SafetyChecker, type TermLookup } from '../../src/sim/index.js';

const encoder = new TextEncoder();

function entry(index: number, term: number, data = `${term}/${index}`): Entry {
  return { index, term, type: EntryType.Normal, data: encoder.encode(data) };
}

/** A TermLookup over a log given as the terms of indexes 1.. (index 0 has term 0). */
function log(terms: number[]): TermLookup {
  return (i) => (i === 0 ? 0 : terms[i - 1]);
}

function violates(t: Test, invariant: string, fn: () => void, what: string): void {
  try {
    fn();
    t.fail(`${what}: no violation`);
  } catch (err) {
    t.ok(err instanceof InvariantViolation, `${what}: an InvariantViolation`);
    t.equal((err as InvariantViolation).invariant, invariant, `${what}: ${invariant}`);
  }
}

t.test('election safety: one leader per term over the whole run', async (t) => {
  const c = new SafetyChecker();
  c.observeLeader(1, 2, 'test');
  c.observeLeader(1, 2, 'again');
  c.observeLeader(2, 3, 'next term');
  t.ok(c.hasLeader(2) && c.hasLeader(3) && !c.hasLeader(4), 'terms with leaders are known');
  violates(t, 'election-safety', () => c.observeLeader(3, 2, 'test'), 'second leader in term 2');
});

t.test('log matching: an (index, term) names one entry after one previous term', async (t) => {
  const c = new SafetyChecker();
  c.observeAppend(1, [entry(1, 1), entry(2, 1), entry(3, 2)], log([1, 1, 2]));
  c.observeAppend(2, [entry(1, 1), entry(2, 1)], log([1, 1]));
  c.observeAppend(2, [entry(3, 2)], log([1, 1, 2]));
  violates(t, 'log-matching', () => c.observeAppend(3, [entry(2, 1, 'other')], log([1, 1])), 'different payload');
  violates(t, 'log-matching', () => c.observeAppend(4, [entry(3, 2)], log([1, 3, 2])), 'different previous term');
  const compacted = new SafetyChecker();
  compacted.observeAppend(1, [entry(5, 2)], () => undefined);
  compacted.observeAppend(2, [entry(5, 2)], log([1, 1, 1, 2]));
  violates(t, 'log-matching', () => compacted.observeAppend(3, [entry(5, 2)], log([1, 1, 1, 1, 1])), 'previous term learned later');
});

t.test('commits: monotonic per life and on disk, one entry per committed index', async (t) => {
  const c = new SafetyChecker();
  c.observeCommit(1, 2, 1, log([1, 1]));
  c.observeCommit(2, 2, 1, log([1, 1]));
  t.equal(c.commitMax, 2, 'commit max');
  violates(t, 'commit-monotonic', () => c.observeCommit(1, 1, 1, log([1, 1])), 'commit moved back in one life');
  c.observeCrash(2);
  c.observeCommit(2, 1, 1, log([1, 1]));
  violates(t, 'commit-safety', () => c.observeCommit(3, 2, 2, log([1, 2])), 'another entry committed at index 2');

  const disk = new SafetyChecker();
  disk.observePersistedHardState(1, { term: 2, vote: 1, commit: 5 });
  disk.observeCrash(1);
  disk.observePersistedHardState(1, { term: 2, vote: 1, commit: 5 });
  violates(t, 'commit-monotonic', () => disk.observePersistedHardState(1, { term: 3, vote: 0, commit: 4 }), 'persisted commit moved back');
});

t.test('leader completeness: a new leader holds what was committed in earlier terms', async (t) => {
  const c = new SafetyChecker();
  c.observeCommit(1, 3, 2, log([1, 1, 2]));
  c.observeLeaderLog(2, 3, 1, log([1, 1, 2, 3]));
  c.observeLeaderLog(3, 2, 1, log([1, 1]));
  t.pass('a leader of the same term need not hold what its own term committed');
  c.observeLeaderLog(2, 4, 3, log([0, 0, 2]));
  t.pass('entries below the leader’s first index are covered by its snapshot');
  violates(t, 'leader-completeness', () => c.observeLeaderLog(3, 3, 1, log([1, 1])), 'leader missing a committed entry');
  violates(t, 'leader-completeness', () => c.observeLeaderLog(3, 3, 1, log([1, 1, 3])), 'leader with another entry there');
});

t.test('state-machine safety: same entry and state at every index, applied in order', async (t) => {
  const c = new SafetyChecker();
  c.observeRestore(1, 0, 0);
  c.observeRestore(2, 0, 0);
  c.observeApply(1, entry(1, 1), 11);
  c.observeApply(1, entry(2, 1), 12);
  c.observeApply(2, entry(1, 1), 11);
  t.equal(c.appliedEntry(2)?.term, 1, 'the first application is recorded');
  violates(t, 'state-machine-safety', () => c.observeApply(2, entry(2, 2), 99), 'another entry at index 2');
  violates(t, 'state-machine-safety', () => c.observeApply(3, entry(1, 1), 10), 'another state hash');
  violates(t, 'apply-order', () => c.observeApply(1, entry(4, 1), 14), 'a gap in the applied indexes');
  violates(t, 'state-machine-safety', () => c.observeRestore(3, 2, 13), 'a snapshot image with another state');
  c.observeRestore(3, 2, 12);
  c.observeApply(3, entry(3, 1), 13);
  t.pass('applying resumes after a restored snapshot');
});

t.test('protocol rules: durable votes, one vote per term, terms never go down, commit bounded by the append', async (t) => {
  const c = new SafetyChecker({ protocolRules: true });
  c.observePersistedHardState(1, { term: 3, vote: 2, commit: 0 });
  c.observeVoteGranted(1, 2, 3, { term: 3, vote: 2, commit: 0 });
  c.observeVoteGranted(1, 2, 3, { term: 4, vote: 0, commit: 0 });
  t.pass('a vote is durable, or overtaken by a later durable term');
  violates(t, 'durable-vote', () => c.observeVoteGranted(1, 3, 5, { term: 5, vote: 0, commit: 0 }), 'vote sent before it is durable');
  violates(t, 'one-vote-per-term', () => c.observePersistedHardState(1, { term: 3, vote: 3, commit: 0 }), 'second vote in term 3');
  violates(t, 'durable-term', () => c.observePersistedHardState(1, { term: 2, vote: 0, commit: 0 }), 'term went down');
  c.observeFollowerCommit(1, 4, 6, 6);
  c.observeFollowerCommit(1, 6, 6, 2);
  violates(t, 'follower-commit-bound', () => c.observeFollowerCommit(1, 4, 7, 6), 'commit past the last new entry');

  const lenient = new SafetyChecker({ protocolRules: false });
  lenient.observePersistedHardState(1, { term: 3, vote: 2, commit: 0 });
  lenient.observePersistedHardState(1, { term: 3, vote: 3, commit: 0 });
  lenient.observeVoteGranted(1, 3, 5, { term: 1, vote: 0, commit: 0 });
  lenient.observeFollowerCommit(1, 4, 7, 6);
  t.pass('without protocol rules only the safety properties are checked');
});
