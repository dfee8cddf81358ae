// Proves that the WAL keeps exactly the log MemoryStorage (the reference model) keeps, under
// long seeded random runs of every writer: appends that overwrite the tail (or start below the
// compaction point), hard states, compactions, created snapshots, snapshots from a leader
// (alone and together with entries in one save), and close/reopen — with tiny segments and a
// tiny entry cache, so that rollover, segment deletion, replay from a segment whose older
// neighbours are gone, and reads from disk all happen many times. After every step the whole
// state (indexes, terms, payloads, hard state, snapshot) is compared with the model.

import t from 'tap';
import { EntryType, MemoryStorage } from '../../src/raft/index.js';
import type { Entry, HardState, Snapshot } from '../../src/raft/index.js';
import type { Wal } from '../../src/wal/index.js';
import { openWal, tempDir } from './helpers.js';

const STEPS = 1500;
const SEEDS = [1, 2, 3, 4];

/** mulberry32: a small seeded PRNG, so a failing seed replays exactly. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function makeEntry(index: number, term: number, bytes: number, salt: number): Entry {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 7 + term * 13 + salt + i) & 0xff;
  return { index, term, type: index % 5 === 0 ? EntryType.ConfChange : EntryType.Normal, data };
}

/** Everything observable about a log, as plain data. */
function stateOf(storage: MemoryStorage | Wal): unknown {
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  const entries = storage.entries(first, last + 1, Infinity).map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]);
  const snapshot = storage.snapshot();
  return {
    first,
    last,
    dummyTerm: storage.term(first - 1),
    entries,
    initial: storage.initialState(),
    snapshot: { metadata: snapshot.metadata, data: Buffer.from(snapshot.data).toString('hex') },
  };
}

interface Run {
  random: (n: number) => number;
  model: MemoryStorage;
  wal: Wal;
  salt: number;
}

/** A batch starting anywhere from below the first index to just after the last one. */
function randomEntries(run: Run, from: number, after: () => number): Entry[] {
  const { random } = run;
  const { model } = run;
  const start = Math.min(model.lastIndex() + 1, Math.max(1, from + random(3) - 1));
  const count = 1 + random(6);
  // Entries below the first index are skipped, so the term to follow is that of the entry
  // before the first one kept.
  const previous = Math.min(Math.max(start - 1, model.firstIndex() - 1), model.lastIndex());
  let term = Math.max(model.term(previous), after());
  const batch: Entry[] = [];
  for (let k = 0; k < count; k++) {
    if (random(4) === 0) term++;
    batch.push(makeEntry(start + k, term, random(300), run.salt++));
  }
  return batch;
}

function maxTerm(model: MemoryStorage): number {
  return Math.max(model.term(model.lastIndex()), model.snapshot().metadata.term, model.initialState().hardState.term);
}

async function step(run: Run, reopen: () => Promise<void>): Promise<string> {
  const { random, model, wal } = run;
  const choice = random(100);
  if (choice < 45) {
    const from = model.firstIndex() + random(model.lastIndex() - model.firstIndex() + 2);
    const batch = randomEntries(run, from, () => 0);
    model.append(batch);
    await wal.append(batch);
    return `append ${batch[0]!.index}..${batch[batch.length - 1]!.index}`;
  }
  if (choice < 55) {
    const hardState: HardState = { term: maxTerm(model) + random(2), vote: random(4), commit: random(model.lastIndex() + 1) };
    model.setHardState(hardState);
    await wal.setHardState(hardState);
    return 'hard state';
  }
  if (choice < 70 && model.lastIndex() > model.firstIndex() - 1) {
    const index = model.firstIndex() + random(model.lastIndex() - model.firstIndex() + 1);
    model.compact(index);
    await wal.compact(index);
    return `compact ${index}`;
  }
  if (choice < 78) {
    const low = Math.max(model.snapshot().metadata.index + 1, model.firstIndex() - 1);
    if (low > model.lastIndex()) return 'skip';
    const index = low + random(model.lastIndex() - low + 1);
    const confState = random(2) === 0 ? undefined : { voters: [1, 2, 3].slice(0, 1 + random(3)), learners: [] };
    const data = Uint8Array.of(run.salt++ & 0xff);
    model.createSnapshot(index, confState, data);
    wal.createSnapshot(index, confState, data);
    return `create snapshot ${index}`;
  }
  if (choice < 88) {
    const current = model.snapshot().metadata.index;
    const index = current + 1 + random(Math.max(1, model.lastIndex() + 5 - current));
    const snapshot: Snapshot = { metadata: { index, term: maxTerm(model) + 1, confState: { voters: [1 + random(5)], learners: [] } }, data: Uint8Array.of(run.salt++ & 0xff) };
    const withEntries = random(2) === 0;
    model.applySnapshot(snapshot);
    const entries = withEntries ? randomEntries(run, index + 1, () => snapshot.metadata.term).filter((e) => e.index > index) : [];
    const batch = entries.length > 0 && entries[0]!.index === index + 1 ? entries : [];
    model.append(batch);
    await wal.save({ snapshot, entries: batch });
    return `apply snapshot ${index} with ${batch.length} entries`;
  }
  await reopen();
  return 'reopen';
}

for (const seed of SEEDS) {
  t.test(`seed ${seed}: ${STEPS} random steps match MemoryStorage`, async (t) => {
    const dir = tempDir(t);
    const options = { dir, fsync: false, segmentBytes: 1024, entryCacheBytes: 500 };
    const logs: string[][] = [];
    const open = async (): Promise<Wal> => {
      const opened = await openWal(t, options);
      logs.push(opened.lines);
      return opened.wal;
    };
    const run: Run = { random: prng(seed), model: MemoryStorage.create(), wal: await open(), salt: 0 };
    const reopen = async (): Promise<void> => {
      await run.wal.close();
      run.wal = await open();
    };
    let mismatches = 0;
    const counts = new Map<string, number>();
    for (let k = 0; k < STEPS; k++) {
      const what = await step(run, reopen);
      const kind = what.split(' ')[0]!;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const expected = stateOf(run.model);
      if (JSON.stringify(stateOf(run.wal)) !== JSON.stringify(expected)) {
        mismatches++;
        t.same(stateOf(run.wal), expected, `step ${k} (${what})`);
        break;
      }
    }
    await reopen();
    t.same(stateOf(run.wal), stateOf(run.model), 'the final state survives a reopen');
    t.equal(mismatches, 0, `every step matched (${[...counts].map(([kind, n]) => `${n} ${kind}`).join(', ')})`);
    const deletions = logs.flat().filter((line) => / deleted \d+ segments/.test(line)).length;
    t.ok(deletions > 10, `compactions deleted segments ${deletions} times`);
  });
}
