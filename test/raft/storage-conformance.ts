// The conformance suite every Raft log storage must pass (CONVENTIONS: one storage interface,
// one suite, every implementation). It proves the `LogStorage` contract of src/raft/types.ts and
// etcd's MemoryStorage semantics for the writer methods: the `[lo, hi)` ranges and their error
// codes, byte limits that always return the first entry, tail truncation on overlapping appends,
// appends below the first index, compaction, snapshots, and the hard state. Each case starts
// from a fresh storage made by the factory; an implementation that persists (the WAL) passes a
// `reopen` option, and the suite then checks that what it wrote survives a close and reopen.
// Broken invariants (a gap in the log) must fail a node:assert assertion (code ERR_ASSERTION).

import type { Test } from 'tap';
import { EntryType, entrySizeBytes } from '../../src/raft/types.js';
import type { ConfState, Entry, HardState, LogStorage, RaftErrorCode, Snapshot } from '../../src/raft/types.js';

/** A log storage with etcd's MemoryStorage writers; each may be synchronous or asynchronous. */
export interface WritableLogStorage extends LogStorage {
  append(entries: Entry[]): void | Promise<void>;
  setHardState(hardState: HardState): void | Promise<void>;
  applySnapshot(snapshot: Snapshot): void | Promise<void>;
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot | Promise<Snapshot>;
  compact(compactIndex: number): void | Promise<void>;
}

/** Makes a fresh, empty storage; `t` is the subtest that uses it (register cleanup on it). */
export type LogStorageFactory<S extends WritableLogStorage> = (t: Test) => S | Promise<S>;

export interface ConformanceOptions<S extends WritableLogStorage> {
  /** Closes `storage` and opens it again from its durable state (default: the same object). */
  reopen?: (storage: S, t: Test) => S | Promise<S>;
}

interface Context {
  fresh(t: Test): Promise<WritableLogStorage>;
  reopen(storage: WritableLogStorage, t: Test): Promise<WritableLogStorage>;
}

type Case = (t: Test, context: Context) => Promise<void>;

/** Runs the whole suite as subtests of a test named `name`. */
export async function runLogStorageConformance<S extends WritableLogStorage>(
  t: Test,
  name: string,
  factory: LogStorageFactory<S>,
  options: ConformanceOptions<S> = {},
): Promise<void> {
  const context: Context = {
    fresh: async (subtest) => await factory(subtest),
    reopen: async (storage, subtest) =>
      options.reopen === undefined ? storage : await options.reopen(storage as S, subtest),
  };
  await t.test(name, async (suite) => {
    for (const [caseName, run] of Object.entries(CASES)) {
      await suite.test(caseName, async (subtest) => run(subtest, context));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** An entry whose payload is `bytes` long and filled with a pattern derived from its index. */
export function makeEntry(index: number, term: number, bytes = 8): Entry {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (index * 31 + i) % 251;
  return { index, term, type: EntryType.Normal, data };
}

/** Entries at consecutive indexes from `firstIndex`, with the given terms. */
function makeEntries(firstIndex: number, terms: number[], bytes = 8): Entry[] {
  return terms.map((term, i) => makeEntry(firstIndex + i, term, bytes));
}

function indexTerms(entries: Entry[]): [number, number][] {
  return entries.map((entry) => [entry.index, entry.term]);
}

/** The whole live log as [index, term] pairs. */
function logOf(storage: LogStorage): [number, number][] {
  return indexTerms(storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Infinity));
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo }, (_, i) => lo + i);
}

function expectRaftError(t: Test, fn: () => unknown, code: RaftErrorCode, what: string): void {
  t.throws(fn, { name: 'RaftError', code }, `${what} throws RaftError '${code}'`);
}

async function expectRejectsRaftError(t: Test, fn: () => unknown, code: RaftErrorCode, what: string): Promise<void> {
  await t.rejects(async () => await fn(), { name: 'RaftError', code }, `${what} throws RaftError '${code}'`);
}

async function expectAssertion(t: Test, fn: () => unknown, what: string): Promise<void> {
  await t.rejects(async () => await fn(), { code: 'ERR_ASSERTION' }, `${what} fails an assertion`);
}

/** A storage holding `terms` from index 1 (entry i has term terms[i - 1]). */
async function withLog(t: Test, context: Context, terms: number[], bytes = 8): Promise<WritableLogStorage> {
  const storage = await context.fresh(t);
  await storage.append(makeEntries(1, terms, bytes));
  return storage;
}

// ---------------------------------------------------------------------------------------------
// Cases

async function emptyLog(t: Test, context: Context): Promise<void> {
  let storage = await context.fresh(t);
  for (let pass = 0; pass < 2; pass++) {
    t.equal(storage.firstIndex(), 1, 'firstIndex of an empty log is 1');
    t.equal(storage.lastIndex(), 0, 'lastIndex of an empty log is 0');
    t.equal(storage.term(0), 0, 'term(0) is 0');
    expectRaftError(t, () => storage.term(1), 'unavailable', 'term(1)');
    t.same(storage.entries(1, 1, Infinity), [], 'entries(1, 1) is empty');
    expectRaftError(t, () => storage.entries(1, 2, Infinity), 'unavailable', 'entries(1, 2)');
    expectRaftError(t, () => storage.entries(0, 1, Infinity), 'compacted', 'entries(0, 1)');
    t.same(storage.snapshot().metadata, { index: 0, term: 0, confState: { voters: [], learners: [] } });
    t.same(storage.initialState(), {
      hardState: { term: 0, vote: 0, commit: 0 },
      confState: { voters: [], learners: [] },
    });
    storage = await context.reopen(storage, t);
  }
}

async function termAcrossRange(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 2, 3, 3]);
  t.same(range(0, 6).map((i) => storage.term(i)), [0, 1, 1, 2, 3, 3], 'term(0..5)');
  expectRaftError(t, () => storage.term(6), 'unavailable', 'term(lastIndex + 1)');
  expectRaftError(t, () => storage.term(100), 'unavailable', 'term(100)');
  await storage.compact(3);
  for (let pass = 0; pass < 2; pass++) {
    expectRaftError(t, () => storage.term(2), 'compacted', 'term below the compacted index');
    expectRaftError(t, () => storage.term(0), 'compacted', 'term(0) after compaction');
    t.equal(storage.term(3), 2, 'the compacted index keeps its term');
    t.same(range(3, 6).map((i) => storage.term(i)), [2, 3, 3], 'term(3..5) after compaction');
    expectRaftError(t, () => storage.term(6), 'unavailable', 'term(lastIndex + 1) after compaction');
    storage = await context.reopen(storage, t);
  }
}

async function entriesRangeAndEdges(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 2, 2, 3]);
  const all = storage.entries(1, 6, Infinity);
  t.same(indexTerms(all), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 3]], 'entries(1, 6) is the whole log');
  t.same(indexTerms(storage.entries(2, 4, Infinity)), [[2, 1], [3, 2]], 'entries(2, 4) excludes 4');
  t.same(indexTerms(storage.entries(5, 6, Infinity)), [[5, 3]], 'entries(5, 6) is the last entry');
  t.same(storage.entries(6, 6, Infinity), [], 'entries(lastIndex + 1, lastIndex + 1) is empty');
  t.same(storage.entries(3, 3, Infinity), [], 'entries(3, 3) is empty');
  expectRaftError(t, () => storage.entries(1, 7, Infinity), 'unavailable', 'entries(1, lastIndex + 2)');
  expectRaftError(t, () => storage.entries(6, 7, Infinity), 'unavailable', 'entries(lastIndex + 1, lastIndex + 2)');
  expectRaftError(t, () => storage.entries(0, 2, Infinity), 'compacted', 'entries(0, 2)');
  await storage.compact(3);
  storage = await context.reopen(storage, t);
  expectRaftError(t, () => storage.entries(3, 4, Infinity), 'compacted', 'entries(compacted index, ...)');
  expectRaftError(t, () => storage.entries(2, 6, Infinity), 'compacted', 'entries(below the compacted index, ...)');
  t.same(indexTerms(storage.entries(4, 6, Infinity)), [[4, 2], [5, 3]], 'entries(firstIndex, lastIndex + 1)');
  t.same(storage.entries(4, 4, Infinity), [], 'entries(firstIndex, firstIndex) is empty');
  for (const entry of storage.entries(4, 6, Infinity)) {
    t.same(entry.data, makeEntry(entry.index, entry.term).data, `entry ${entry.index} keeps its payload`);
    t.equal(entry.type, EntryType.Normal, `entry ${entry.index} keeps its type`);
  }
}

async function halfOpenContract(t: Test, context: Context): Promise<void> {
  const storage = await withLog(t, context, [1, 1, 1, 2, 2, 2, 3, 3]);
  await storage.compact(2);
  let checked = 0;
  let wrong = 0;
  for (let lo = 3; lo <= 9; lo++) {
    for (let hi = lo; hi <= 9; hi++) {
      const got = storage.entries(lo, hi, Infinity).map((entry) => entry.index);
      checked++;
      if (got.join() !== range(lo, hi).join()) {
        wrong++;
        t.fail(`entries(${lo}, ${hi}) returned [${got.join()}]`);
      }
    }
    expectRaftError(t, () => storage.entries(lo, 10, Infinity), 'unavailable', `entries(${lo}, 10)`);
  }
  t.equal(wrong, 0, `every one of ${checked} ranges [lo, hi) returns exactly lo..hi-1`);
  for (const lo of [0, 1, 2]) {
    expectRaftError(t, () => storage.entries(lo, 5, Infinity), 'compacted', `entries(${lo}, 5)`);
  }
}

async function byteLimits(t: Test, context: Context): Promise<void> {
  const storage = await context.fresh(t);
  await storage.append([makeEntry(1, 1, 100), makeEntry(2, 1, 200), makeEntry(3, 1, 300), makeEntry(4, 1, 400)]);
  await storage.append([makeEntry(5, 1, 10_000)]);
  const size = range(1, 6).map((i) => entrySizeBytes(storage.entries(i, i + 1, Infinity)[0]!));
  t.equal(size[0], 100 + entrySizeBytes(makeEntry(0, 0, 0)), 'sizes are counted by entrySizeBytes');
  const indexes = (lo: number, hi: number, maxBytes: number): number[] =>
    storage.entries(lo, hi, maxBytes).map((entry) => entry.index);
  t.same(indexes(1, 5, 0), [1], 'maxBytes 0 still returns the first entry');
  t.same(indexes(1, 5, size[0]! - 1), [1], 'a first entry over the limit is still returned');
  t.same(indexes(1, 5, size[0]!), [1], 'exactly one entry fits');
  t.same(indexes(1, 5, size[0]! + size[1]! - 1), [1], 'one byte short of two entries');
  t.same(indexes(1, 5, size[0]! + size[1]!), [1, 2], 'exactly two entries fit');
  t.same(indexes(1, 5, size[0]! + size[1]! + size[2]! + size[3]!), [1, 2, 3, 4], 'all four fit exactly');
  t.same(indexes(2, 4, size[1]! + size[2]!), [2, 3], 'a limit from an inner lo');
  t.same(indexes(1, 3, Number.MAX_SAFE_INTEGER), [1, 2], 'hi still bounds a generous limit');
  t.same(indexes(1, 6, Infinity), [1, 2, 3, 4, 5], 'Infinity means no limit');
  t.same(indexes(5, 6, 10), [5], 'a lone huge entry is returned');
  t.same(indexes(4, 6, size[3]! + 1), [4], 'a huge second entry is left out');
}

async function overlappingAppendTruncates(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 1, 1, 1]);
  await storage.append(makeEntries(3, [2, 2]));
  t.same(logOf(storage), [[1, 1], [2, 1], [3, 2], [4, 2]], 'entries from index 3 on are replaced');
  expectRaftError(t, () => storage.term(5), 'unavailable', 'the truncated index 5');
  await storage.append(makeEntries(5, [2]));
  t.same(logOf(storage), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 2]], 'appending at lastIndex + 1 extends');
  await storage.append(makeEntries(2, [3]));
  t.same(logOf(storage), [[1, 1], [2, 3]], 'a one-entry overlap drops the whole tail after it');
  await storage.append([]);
  t.same(logOf(storage), [[1, 1], [2, 3]], 'an empty append changes nothing');
  await storage.append(makeEntries(1, [4, 4, 4]));
  t.same(logOf(storage), [[1, 4], [2, 4], [3, 4]], 'an append at firstIndex replaces the whole log');
  storage = await context.reopen(storage, t);
  t.same(logOf(storage), [[1, 4], [2, 4], [3, 4]], 'the truncated log is what is kept');
  t.equal(storage.lastIndex(), 3, 'lastIndex after truncation');
  await storage.append(makeEntries(4, [4]));
  t.same(logOf(storage), [[1, 4], [2, 4], [3, 4], [4, 4]], 'appends continue after a reopen');
  await expectAssertion(t, () => storage.append(makeEntries(6, [4])), 'an append leaving a gap after lastIndex');
}

/** etcd's TestStorageAppend: a log compacted to 3@3 holding 4@4 and 5@5, then one append. */
async function appendBelowFirstIndex(t: Test, context: Context): Promise<void> {
  const cases: { append: [number, number][]; want: [number, number][]; why: string }[] = [
    { append: [[1, 1], [2, 2]], want: [[4, 4], [5, 5]], why: 'wholly compacted entries are ignored' },
    { append: [[3, 3], [4, 4], [5, 5]], want: [[4, 4], [5, 5]], why: 'the same entries change nothing' },
    { append: [[3, 3], [4, 6], [5, 6]], want: [[4, 6], [5, 6]], why: 'conflicting entries replace the tail' },
    { append: [[3, 3], [4, 4], [5, 5], [6, 5]], want: [[4, 4], [5, 5], [6, 5]], why: 'a longer overlap extends' },
    { append: [[2, 3], [3, 3], [4, 5]], want: [[4, 5]], why: 'the compacted head of the batch is cut off' },
    { append: [[4, 5]], want: [[4, 5]], why: 'an append at firstIndex truncates' },
    { append: [[6, 5]], want: [[4, 4], [5, 5], [6, 5]], why: 'an append at lastIndex + 1 extends' },
  ];
  for (const { append, want, why } of cases) {
    let storage = await withLog(t, context, [1, 2, 3, 4, 5]);
    await storage.compact(3);
    await storage.append(append.map(([index, term]) => makeEntry(index, term)));
    storage = await context.reopen(storage, t);
    t.same(logOf(storage), want, why);
    t.equal(storage.firstIndex(), 4, `${why}: firstIndex stays 4`);
    t.equal(storage.term(3), 3, `${why}: the compacted index keeps its term`);
  }
}

async function compaction(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  await expectRejectsRaftError(t, () => storage.compact(0), 'compacted', 'compact(0)');
  await storage.compact(5);
  t.equal(storage.firstIndex(), 6, 'firstIndex after compact(5)');
  t.equal(storage.lastIndex(), 10, 'lastIndex is unchanged by compaction');
  t.equal(storage.term(5), 1, 'term(5) is kept as the compacted index');
  expectRaftError(t, () => storage.entries(5, 7, Infinity), 'compacted', 'entries(5, 7) after compact(5)');
  await expectRejectsRaftError(t, () => storage.compact(5), 'compacted', 'compact(5) again');
  await expectRejectsRaftError(t, () => storage.compact(4), 'compacted', 'compact(4) after compact(5)');
  await storage.compact(10);
  storage = await context.reopen(storage, t);
  t.equal(storage.firstIndex(), 11, 'compacting up to lastIndex empties the log');
  t.equal(storage.lastIndex(), 10, 'lastIndex stays at the compacted index');
  t.equal(storage.term(10), 2, 'term(lastIndex) survives compaction');
  t.same(storage.entries(11, 11, Infinity), [], 'entries(11, 11) is empty');
  await expectAssertion(t, () => storage.compact(11), 'compact(lastIndex + 1)');
  await storage.append(makeEntries(11, [2, 3]));
  t.same(logOf(storage), [[11, 2], [12, 3]], 'appends continue after compacting everything');
}

/** Long runs of interleaved appends and compactions, as a node does for hours. */
async function manyCompactions(t: Test, context: Context): Promise<void> {
  const storage = await context.fresh(t);
  const termOf = (index: number): number => 1 + Math.floor(index / 1000);
  const batch = 500;
  let mismatches = 0;
  for (let first = 1; first <= 20_000; first += batch) {
    await storage.append(range(first, first + batch).map((i) => makeEntry(i, termOf(i), 4)));
    const compactTo = first + batch - 100;
    await storage.compact(compactTo);
    const got = storage.entries(compactTo + 1, storage.lastIndex() + 1, Infinity);
    const ok =
      storage.firstIndex() === compactTo + 1 &&
      storage.term(compactTo) === termOf(compactTo) &&
      got.length === 99 &&
      got.every((entry, k) => entry.index === compactTo + 1 + k && entry.term === termOf(entry.index));
    if (!ok) mismatches++;
  }
  t.equal(mismatches, 0, 'after each of 40 append-and-compact rounds the log is exact');
  t.equal(storage.lastIndex(), 20_000, 'lastIndex after 20,000 appended entries');
}

async function createSnapshot(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 2, 2, 3]);
  const confState: ConfState = { voters: [1, 2, 3], learners: [4] };
  const data = Uint8Array.of(1, 2, 3);
  const created = await storage.createSnapshot(3, confState, data);
  t.same(created.metadata, { index: 3, term: 2, confState }, 'the snapshot takes the term of its index');
  t.same(created.data, data, 'the snapshot carries the data');
  t.same(storage.snapshot().metadata, created.metadata, 'snapshot() returns the created snapshot');
  t.same(storage.initialState().confState, confState, 'initialState reads the snapshot membership');
  t.same(logOf(storage), [[1, 1], [2, 1], [3, 2], [4, 2], [5, 3]], 'creating a snapshot keeps the log');
  await expectRejectsRaftError(t, () => storage.createSnapshot(3, confState, data), 'snapshot-out-of-date', 'a second snapshot at 3');
  await expectRejectsRaftError(t, () => storage.createSnapshot(2, confState, data), 'snapshot-out-of-date', 'a snapshot at 2');
  const later = await storage.createSnapshot(5, undefined, Uint8Array.of(9));
  t.same(later.metadata, { index: 5, term: 3, confState }, 'an undefined confState keeps the membership');
  await expectAssertion(t, () => storage.createSnapshot(6, undefined, data), 'a snapshot after lastIndex');
  await storage.compact(5);
  storage = await context.reopen(storage, t);
  t.same(storage.snapshot().metadata, { index: 5, term: 3, confState }, 'the latest snapshot is kept');
  t.same(storage.snapshot().data, Uint8Array.of(9), 'with its data');
  t.same(storage.initialState().confState, confState, 'initialState reads the kept membership');
  t.equal(storage.firstIndex(), 6, 'compacting to the snapshot index');
  t.equal(storage.term(5), 3, 'term of the snapshot index');
}

async function applySnapshot(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  const hardState: HardState = { term: 1, vote: 1, commit: 4 };
  await storage.setHardState(hardState);
  const confState: ConfState = { voters: [1, 2], learners: [] };
  const snapshot: Snapshot = { metadata: { index: 7, term: 2, confState }, data: Uint8Array.of(7, 7) };
  await storage.applySnapshot(snapshot);
  for (let pass = 0; pass < 2; pass++) {
    t.equal(storage.firstIndex(), 8, 'firstIndex is the snapshot index + 1');
    t.equal(storage.lastIndex(), 7, 'the log after the snapshot is empty');
    t.equal(storage.term(7), 2, 'the snapshot index has the snapshot term');
    expectRaftError(t, () => storage.term(6), 'compacted', 'term below the snapshot');
    expectRaftError(t, () => storage.entries(7, 8, Infinity), 'compacted', 'entries(snapshot index, ...)');
    expectRaftError(t, () => storage.entries(8, 9, Infinity), 'unavailable', 'entries after the snapshot');
    t.same(storage.snapshot().metadata, snapshot.metadata, 'snapshot() is the applied snapshot');
    t.same(storage.snapshot().data, snapshot.data, 'with its data');
    t.same(storage.initialState(), { hardState, confState }, 'the hard state is kept, the membership updated');
    storage = await context.reopen(storage, t);
  }
  const older = { ...snapshot, metadata: { ...snapshot.metadata, index: 5 } };
  await expectRejectsRaftError(t, () => storage.applySnapshot(snapshot), 'snapshot-out-of-date', 'the same snapshot');
  await expectRejectsRaftError(t, () => storage.applySnapshot(older), 'snapshot-out-of-date', 'an older snapshot');
  await storage.append(makeEntries(8, [2, 3, 3]));
  t.same(logOf(storage), [[8, 2], [9, 3], [10, 3]], 'appends continue after the snapshot');
  const inside: Snapshot = { metadata: { index: 9, term: 3, confState }, data: Uint8Array.of(9) };
  await storage.applySnapshot(inside);
  storage = await context.reopen(storage, t);
  t.equal(storage.lastIndex(), 9, 'a snapshot inside the log replaces the whole log');
  t.equal(storage.term(9), 3, 'with the snapshot term at its index');
  await expectAssertion(t, () => storage.append(makeEntries(11, [3])), 'an append leaving a gap after a snapshot');
}

async function hardStateRoundTrip(t: Test, context: Context): Promise<void> {
  let storage = await withLog(t, context, [1, 1, 2, 3, 3, 3, 3]);
  const first: HardState = { term: 3, vote: 2, commit: 7 };
  await storage.setHardState(first);
  t.same(storage.initialState().hardState, { term: 3, vote: 2, commit: 7 }, 'the hard state reads back');
  first.commit = 1;
  t.equal(storage.initialState().hardState.commit, 7, 'changing the caller object later does not leak in');
  storage.initialState().hardState.term = 99;
  t.equal(storage.initialState().hardState.term, 3, 'changing a returned hard state does not leak in');
  await storage.setHardState({ term: 4, vote: 0, commit: 7 });
  storage = await context.reopen(storage, t);
  t.same(storage.initialState().hardState, { term: 4, vote: 0, commit: 7 }, 'the latest hard state wins');
  t.equal(logOf(storage).length, 7, 'setting the hard state leaves the log alone');
}

async function callerOwnsArrays(t: Test, context: Context): Promise<void> {
  const storage = await context.fresh(t);
  const batch = makeEntries(1, [1, 1, 1]);
  await storage.append(batch);
  batch.length = 0;
  t.equal(storage.lastIndex(), 3, 'emptying the appended array does not change the log');
  const read = storage.entries(1, 4, Infinity);
  read.pop();
  read.push(makeEntry(9, 9));
  t.same(logOf(storage), [[1, 1], [2, 1], [3, 1]], 'changing a returned array does not change the log');
}

/** A log as long as the raft benchmark builds, read back in byte-limited pages. */
async function largeLog(t: Test, context: Context): Promise<void> {
  const storage = await context.fresh(t);
  const total = 50_000;
  for (let first = 1; first <= total; first += 1000) {
    await storage.append(range(first, first + 1000).map((i) => makeEntry(i, 1 + Math.floor(i / 10_000), 16)));
  }
  t.equal(storage.lastIndex(), total, 'lastIndex after 50,000 entries');
  const pageBytes = 100 * entrySizeBytes(makeEntry(1, 1, 16));
  let next = 1;
  let pages = 0;
  while (next <= total) {
    const page = storage.entries(next, total + 1, pageBytes);
    if (page[0]?.index !== next) break;
    next += page.length;
    pages++;
  }
  t.equal(next, total + 1, 'paging with a byte limit reads every entry once');
  t.equal(pages, total / 100, 'each page holds exactly the entries that fit');
}

const CASES: Record<string, Case> = {
  'empty log': emptyLog,
  'term across the range and its edges': termAcrossRange,
  'entries across the range and its edges': entriesRangeAndEdges,
  '[lo, hi) contract on every range': halfOpenContract,
  'byte limits always return the first entry': byteLimits,
  'an overlapping append truncates the tail': overlappingAppendTruncates,
  'an append below the first index': appendBelowFirstIndex,
  'compaction': compaction,
  'many compactions': manyCompactions,
  'create a snapshot': createSnapshot,
  'apply a snapshot': applySnapshot,
  'hard state round trip': hardStateRoundTrip,
  'the caller owns the arrays': callerOwnsArrays,
  'a large log read in pages': largeLog,
};
