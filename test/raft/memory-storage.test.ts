// Proves that MemoryStorage, the simulator's "disk", passes the log storage conformance suite,
// and checks what is specific to it: the membership given to `create`, copies handed out by
// `initialState`, and the assertions that catch a caller's bug (a non-consecutive batch, a term
// going down, lo above hi). Everything runs on real MemoryStorage objects.

import t from 'tap';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { runLogStorageConformance, makeEntry } from './storage-conformance.js';

await runLogStorageConformance(t, 'MemoryStorage', () => MemoryStorage.create());

t.test('create carries the membership in the initial snapshot', async (t) => {
  const confState = { voters: [1, 2, 3], learners: [4] };
  const storage = MemoryStorage.create(confState);
  t.same(storage.snapshot().metadata, { index: 0, term: 0, confState }, 'snapshot at index 0 with the membership');
  t.same(storage.initialState().confState, confState, 'initialState reads it');
  confState.voters.push(5);
  t.same(storage.initialState().confState.voters, [1, 2, 3], 'the caller keeps ownership of its arrays');
  storage.initialState().confState.learners.push(9);
  t.same(storage.initialState().confState.learners, [4], 'a returned membership is a copy');
  t.same(new MemoryStorage().initialState().confState, { voters: [], learners: [] }, 'no membership by default');
});

t.test('a new snapshot membership replaces the old one', async (t) => {
  const storage = MemoryStorage.create({ voters: [1], learners: [] });
  storage.append([makeEntry(1, 1), makeEntry(2, 1)]);
  storage.createSnapshot(2, { voters: [1, 2], learners: [3] }, new Uint8Array(0));
  t.same(storage.initialState().confState, { voters: [1, 2], learners: [3] }, 'membership from the latest snapshot');
});

t.test('broken invariants fail assertions', async (t) => {
  const storage = MemoryStorage.create();
  storage.append([makeEntry(1, 2), makeEntry(2, 2)]);
  t.throws(() => storage.append([makeEntry(3, 2), makeEntry(5, 2)]), { code: 'ERR_ASSERTION' }, 'a batch with a hole');
  const other = MemoryStorage.create();
  other.append([makeEntry(1, 2)]);
  t.throws(() => other.append([makeEntry(2, 1)]), { code: 'ERR_ASSERTION' }, 'a term below the previous entry');
  t.throws(() => other.append([makeEntry(2, 3), makeEntry(3, 2)]), { code: 'ERR_ASSERTION' }, 'a term going down in a batch');
  t.throws(() => other.entries(2, 1, Infinity), { code: 'ERR_ASSERTION' }, 'entries with lo above hi');
});

t.test('stores entry objects without copying them', async (t) => {
  const storage = MemoryStorage.create();
  const entry = makeEntry(1, 1, 1024);
  storage.append([entry]);
  t.equal(storage.entries(1, 2, Infinity)[0], entry, 'the same entry object comes back');
  t.equal(storage.entries(1, 2, Infinity)[0]!.data, entry.data, 'and the same payload buffer');
});

t.test('hundreds of thousands of entries, as the raft benchmark appends', async (t) => {
  const storage = MemoryStorage.create();
  const total = 300_000;
  for (let first = 1; first <= total; first += 100) {
    const batch = [];
    for (let i = first; i < first + 100; i++) batch.push(makeEntry(i, 1, 0));
    storage.append(batch);
    if (first > 10_000) storage.compact(first - 10_000);
  }
  t.equal(storage.lastIndex(), total, 'every entry appended');
  t.equal(storage.firstIndex(), total - 100 - 10_000 + 2, 'the compacted prefix is dropped');
  t.equal(storage.entries(total - 9, total + 1, Infinity).length, 10, 'the tail reads back');
});
