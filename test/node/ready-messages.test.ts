// Which committed entries of a Ready the member applies while the Ready is written
// (splitCommittedByDurability): only those its WAL holds already, so the store never gets ahead
// of its own WAL. The Readies here are the shapes a leader and a follower meet.
import t from 'tap';
import { EntryType, type Entry, type Ready } from '../../src/raft/index.js';
import { splitCommittedByDurability } from '../../src/node/ready-messages.js';

function entries(first: number, last: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let index = first; index <= last; index++) out.push({ term, index, type: EntryType.Normal, data: new Uint8Array(0) });
  return out;
}

function ready(fields: Partial<Ready>): Ready {
  return { readStates: [], entries: [], committedEntries: [], messages: [], mustSync: false, ...fields };
}

const indexes = (list: Entry[]): number[] => list.map((e) => e.index);

t.test("a leader: what it commits was appended by an earlier Ready, so all of it is durable", async (t) => {
  const split = splitCommittedByDurability(ready({ entries: entries(11, 12, 3), committedEntries: entries(8, 10, 3) }), 10);
  t.same([indexes(split.durable), indexes(split.rest)], [[8, 9, 10], []]);
});

t.test('a follower told to append and commit in one message: what it appends now waits for the write', async (t) => {
  const split = splitCommittedByDurability(ready({ entries: entries(9, 12, 3), committedEntries: entries(7, 11, 3) }), 8);
  t.same([indexes(split.durable), indexes(split.rest)], [[7, 8], [9, 10, 11]]);
});

t.test('a follower whose tail is overwritten: committed entries at rewritten indexes wait for the write', async (t) => {
  // Its WAL holds 8..10 of term 2, never committed; the new leader's 8..10 of term 3 replace them
  // in this Ready and are committed by the same message. The WAL's last index (10) covers them,
  // but what it holds there is the old entries.
  const split = splitCommittedByDurability(ready({ entries: entries(8, 10, 3), committedEntries: entries(6, 10, 3) }), 10);
  t.same([indexes(split.durable), indexes(split.rest)], [[6, 7], [8, 9, 10]]);
});

t.test('a Ready with a snapshot: nothing is applied before it is written', async (t) => {
  const snapshot = { data: new Uint8Array(0), metadata: { index: 20, term: 3, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } };
  const split = splitCommittedByDurability(ready({ snapshot, committedEntries: entries(21, 22, 3) } as Partial<Ready>), 30);
  t.same([indexes(split.durable), indexes(split.rest)], [[], [21, 22]]);
});

t.test('a Ready without new entries: everything committed up to the WAL is durable', async (t) => {
  const split = splitCommittedByDurability(ready({ committedEntries: entries(5, 9, 2) }), 7);
  t.same([indexes(split.durable), indexes(split.rest)], [[5, 6, 7], [8, 9]]);
});
