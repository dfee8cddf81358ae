// Proves the WAL's own promises beyond the conformance suite, on real files in a temp dir:
// group commit (exactly one fdatasync per save, counted by a FaultInjectingFileLayer, plus one
// directory fsync when a save opens a new segment); identical state after close and reopen;
// segment rollover and compaction deleting whole segments, including the replay of an overwrite
// that reaches into entries of a deleted segment; 1 MiB entries and a 32 MiB entry (alone in
// its own segment) read back from disk with their checksums; overwriting the tail after a
// reopen; where an entry's data lies on disk (entryDataAt); the entry cache's budget and its
// release through an index; a failed fsync poisoning the WAL until it is reopened; created snapshots and
// the bootstrap membership surviving a reopen after the segments holding them were deleted; and a new
// segment's directory fsync running beside its first write, which waits for it.

import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { bufferedFileLayer, FaultInjectingFileLayer, NodeFileLayer, Wal, WalFailedError } from '../../src/wal/index.js';
import type { WalOptions } from '../../src/wal/index.js';
import { entries, entry, indexTerms, openWal, PassThroughFileLayer, payloadsIntact, segmentFiles, tempDir } from './helpers.js';

const MIB = 1024 * 1024;

async function reopen(t: Test, wal: Wal, options: WalOptions): Promise<Wal> {
  await wal.close();
  return (await openWal(t, options)).wal;
}

t.test('one fdatasync per save, whatever the batch holds', async (t) => {
  const dir = tempDir(t);
  const files = new FaultInjectingFileLayer(bufferedFileLayer);
  const { wal } = await openWal(t, { dir, files, segmentBytes: 1 * MIB });
  const before = (): { data: number; dir: number } => ({
    data: files.fdatasyncCount(),
    dir: files.syncs.filter((sync) => sync.kind === 'fsyncDir').length,
  });
  const batches = [
    { entries: entries(1, 1, 1) },
    { entries: entries(2, 100, 1, 100), hardState: { term: 1, vote: 1, commit: 50 } },
    { hardState: { term: 1, vote: 1, commit: 101 }, entries: [] },
    { entries: entries(102, 4, 1, 64 * 1024) },
    { entries: entries(50, 3, 2), hardState: { term: 2, vote: 2, commit: 49 } },
    { snapshot: { metadata: { index: 60, term: 2, confState: { voters: [1, 2, 3], learners: [] } }, data: Uint8Array.of(1) }, entries: entries(61, 2, 2), hardState: { term: 2, vote: 2, commit: 60 } },
  ];
  for (const [k, batch] of batches.entries()) {
    const start = before();
    await wal.save(batch);
    t.same(before(), { data: start.data + 1, dir: start.dir }, `batch ${k}: exactly one fdatasync, no directory fsync`);
  }
  let start = before();
  await wal.save({ entries: [] });
  t.same(before(), start, 'an empty save syncs nothing');
  start = before();
  await Promise.all([wal.save({ entries: entries(63, 1, 2) }), wal.save({ entries: entries(64, 1, 2) }), wal.save({ entries: entries(65, 1, 2) })]);
  t.same(before(), { data: start.data + 3, dir: start.dir }, 'three concurrent saves: three fdatasyncs');
  t.same(indexTerms(wal).slice(-3), [[63, 2], [64, 2], [65, 2]], 'concurrent saves landed in call order');
  start = before();
  await wal.save({ entries: entries(66, 1, 2, 1 * MIB) });
  t.same(before(), { data: start.data + 1, dir: start.dir + 1 }, 'a save that opens a new segment: one fdatasync, one directory fsync');
  t.equal(wal.stats().segments, 2, 'the 1 MiB entry went into a second segment');
  const off = await openWal(t, { dir: tempDir(t), files, fsync: false });
  start = before();
  await off.wal.save({ entries: entries(1, 10, 1) });
  t.same(before(), start, 'fsync: false syncs nothing');
});

t.test('a save with sync false writes without fdatasync; the next rollover syncs it first', async (t) => {
  const dir = tempDir(t);
  const files = new FaultInjectingFileLayer(bufferedFileLayer);
  const { wal } = await openWal(t, { dir, files, segmentBytes: 1 * MIB });
  await wal.save({ entries: entries(1, 2, 1), hardState: { term: 1, vote: 1, commit: 0 } });
  let start = files.fdatasyncCount();
  await wal.save({ hardState: { term: 1, vote: 1, commit: 2 }, entries: [], sync: false });
  t.equal(files.fdatasyncCount(), start, 'a commit-only save is not synced');
  t.same(wal.initialState().hardState, { term: 1, vote: 1, commit: 2 }, 'but it is written and read back');
  start = files.fdatasyncCount();
  await wal.save({ entries: entries(3, 1, 1, 1 * MIB) });
  t.equal(files.fdatasyncCount(), start + 2, 'rollover: the old segment is synced, then the new one');
  start = files.fdatasyncCount();
  await wal.save({ hardState: { term: 1, vote: 1, commit: 3 }, entries: [], sync: false });
  await wal.save({ entries: entries(4, 1, 1) });
  t.equal(files.fdatasyncCount(), start + 1, 'a later synced save covers the unsynced record');
  await wal.close();
  const reopened = await openWal(t, { dir });
  t.same(reopened.wal.initialState().hardState, { term: 1, vote: 1, commit: 3 }, 'everything reads back after a reopen');
  t.equal(reopened.wal.lastIndex(), 4);
});

t.test('close and reopen gives identical state', async (t) => {
  const dir = tempDir(t);
  const options = { dir, fsync: false, segmentBytes: 8 * 1024, entryCacheBytes: 4 * 1024 };
  let { wal } = await openWal(t, options);
  await wal.bootstrap({ voters: [1, 2, 3], learners: [] });
  for (let first = 1; first <= 200; first += 20) {
    await wal.save({ entries: entries(first, 20, 1 + Math.floor(first / 50), 97), hardState: { term: 5, vote: 3, commit: first } });
  }
  await wal.save({ entries: entries(150, 10, 9, 97) });
  const snapshot = wal.createSnapshot(120, { voters: [1, 2, 3], learners: [4] }, Uint8Array.of(42));
  await wal.compact(100);
  const state = (w: Wal) => ({
    log: indexTerms(w),
    payloads: payloadsIntact(w, 97),
    first: w.firstIndex(),
    last: w.lastIndex(),
    term100: w.term(100),
    initial: w.initialState(),
    snapshot: { metadata: w.snapshot().metadata, data: [...w.snapshot().data] },
    // What is cached in memory is not state: a reopened WAL starts with nothing cached.
    stats: { ...w.stats(), cachedBytes: undefined },
  });
  const expected = state(wal);
  t.equal(expected.last, 159, 'the overwrite cut the log at 159');
  t.ok(expected.payloads, 'payloads intact before the reopen');
  wal = await reopen(t, wal, options);
  t.same(state(wal), expected, 'the same log, payloads, hard state, snapshot and stats after a reopen');
  t.same(wal.snapshot().metadata, snapshot.metadata, 'the created snapshot was written by compact');
});

t.test('rollover and compaction delete whole segments; reopen after compaction', async (t) => {
  const dir = tempDir(t);
  const options = { dir, fsync: false, segmentBytes: 4096, entryCacheBytes: 0 };
  const opened = await openWal(t, options);
  const lines = opened.lines;
  let wal = opened.wal;
  await wal.setHardState({ term: 3, vote: 1, commit: 0 });
  for (let first = 1; first <= 100; first += 5) await wal.append(entries(first, 5, 3, 200));
  const segmentsBefore = wal.stats().segments;
  t.ok(segmentsBefore >= 5, `100 entries of 200 bytes in 4 KiB segments make ${segmentsBefore} segments`);
  t.equal(segmentFiles(dir).length, segmentsBefore, 'one file per segment');
  t.match(segmentFiles(dir)[0], /0000000000000001-0000000000000001\.wal$/, 'names show sequence and first index');
  await wal.compact(60);
  const after = wal.stats();
  t.ok(after.segments < segmentsBefore && after.segments > 1, `compact(60) deleted ${segmentsBefore - after.segments} segments`);
  await wal.segmentsDeleted();
  t.equal(segmentFiles(dir).length, after.segments, 'the files are gone from the directory');
  t.match(lines.join('\n'), /compacted to index 60; deleted \d+ segments/, 'the deletion is logged');
  const firstKept = Number(/(\d{16})\.wal$/.exec(segmentFiles(dir)[0]!)![1]);
  t.ok(firstKept <= 61, `the first kept segment starts at index ${firstKept}, not after 61`);
  wal = await reopen(t, wal, options);
  t.equal(wal.firstIndex(), 61, 'firstIndex after reopen');
  t.equal(wal.term(60), 3, 'the compaction point keeps its term');
  t.ok(payloadsIntact(wal, 200) && wal.lastIndex() === 100, 'entries 61..100 read back from disk intact');
  t.same(wal.initialState().hardState, { term: 3, vote: 1, commit: 0 }, 'the hard state of a deleted segment survives in the headers');
  await wal.compact(100);
  t.equal(wal.stats().segments, 1, 'compacting everything leaves only the active segment');
  wal = await reopen(t, wal, options);
  t.same([wal.firstIndex(), wal.lastIndex(), wal.term(100)], [101, 100, 3], 'an empty log at 100 after reopen');
  await wal.append(entries(101, 3, 4));
  wal = await reopen(t, wal, options);
  t.same(indexTerms(wal), [[101, 4], [102, 4], [103, 4]], 'appends continue');
});

t.test("a compaction's segment files are deleted in the background: saves queued behind it do not wait", async (t) => {
  const dir = tempDir(t);
  // Unlinks wait for a gate the test opens, as a slow disk's do under load.
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const unlinked: string[] = [];
  const files = new (class extends NodeFileLayer {
    override async unlink(path: string): Promise<void> {
      await gate;
      unlinked.push(path);
      await super.unlink(path);
    }
  })({ mode: 'dropped' });
  const options = { dir, files, fsync: false, segmentBytes: 4096, entryCacheBytes: 0 };
  let { wal } = await openWal(t, options);
  for (let first = 1; first <= 100; first += 5) await wal.append(entries(first, 5, 1, 200));
  const filesBefore = segmentFiles(dir);
  await wal.compact(60);
  const kept = wal.stats().segments;
  t.ok(kept < filesBefore.length, `compact(60) took ${filesBefore.length - kept} segments out of the log at once`);
  t.equal(wal.firstIndex(), 61, 'and the log starts after the compaction point');
  await wal.append(entries(101, 2, 1, 200));
  t.equal(wal.lastIndex(), 102, 'a save after the compaction completed while its deletions wait');
  t.same(segmentFiles(dir).slice(0, filesBefore.length - kept), filesBefore.slice(0, filesBefore.length - kept), 'the compacted files are still on disk');
  let deleted = false;
  const done = wal.segmentsDeleted().then(() => (deleted = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(deleted, 'segmentsDeleted() waits for the deletions');
  openGate();
  await done;
  t.same(unlinked, filesBefore.slice(0, filesBefore.length - kept), 'the compacted files were deleted oldest first');
  t.equal(segmentFiles(dir).length, wal.stats().segments, 'only the live segments are left');
  wal = await reopen(t, wal, options);
  t.same([wal.firstIndex(), wal.lastIndex()], [61, 102], 'the log reopens from the compaction point');
  t.ok(payloadsIntact(wal, 200), 'payloads intact');
});

t.test('a failed deletion of a compacted segment fails the WAL, as a failed write does', async (t) => {
  const dir = tempDir(t);
  const files = new (class extends NodeFileLayer {
    override async unlink(): Promise<void> {
      throw Object.assign(new Error('EIO: i/o error, unlink'), { code: 'EIO' });
    }
  })({ mode: 'dropped' });
  const options = { dir, files, fsync: false, segmentBytes: 4096, entryCacheBytes: 0 };
  const { wal } = await openWal(t, options);
  for (let first = 1; first <= 50; first += 5) await wal.append(entries(first, 5, 1, 200));
  await wal.compact(30);
  await wal.segmentsDeleted();
  await t.rejects(wal.append(entries(51, 1, 1)), WalFailedError, 'the next save is refused');
  await wal.close();
  const reopened = (await openWal(t, { ...options, files: bufferedFileLayer })).wal;
  t.same([reopened.firstIndex(), reopened.lastIndex()], [31, 50], 'the files left are skipped as compacted at the next start');
});

t.test('an overwrite that reaches into a deleted segment replays correctly', async (t) => {
  const dir = tempDir(t);
  const options = { dir, fsync: false, segmentBytes: 2000, entryCacheBytes: 0 };
  let { wal } = await openWal(t, options);
  await wal.append(entries(1, 10, 1, 150));
  // The segment is full: the overwrite from 8 goes into a new segment whose header says the log
  // was (0, 10]. After compact(12) the first segment is deleted, so recovery starts from a
  // header whose entries it does not have and sees entry 8 land inside them.
  await wal.append(entries(8, 5, 2, 150));
  t.equal(wal.stats().segments, 2, 'the overwrite went into a second segment');
  await wal.compact(12);
  t.equal(wal.stats().segments, 1, 'the first segment is deleted');
  await wal.append(entries(13, 2, 2, 150));
  wal = await reopen(t, wal, options);
  t.same([wal.firstIndex(), wal.term(12)], [13, 2], 'compaction point 12 with term 2');
  t.same(indexTerms(wal), [[13, 2], [14, 2]], 'the live log');
  t.ok(payloadsIntact(wal, 150), 'payloads intact');
});

t.test('overwriting the tail after a reopen', async (t) => {
  const dir = tempDir(t);
  const options = { dir, fsync: false, segmentBytes: 1024, entryCacheBytes: 0 };
  let { wal } = await openWal(t, options);
  for (let first = 1; first <= 30; first += 3) await wal.append(entries(first, 3, 1, 64));
  wal = await reopen(t, wal, options);
  await wal.append(entries(12, 4, 2, 64));
  t.equal(wal.lastIndex(), 15, 'the overwrite cut the log');
  wal = await reopen(t, wal, options);
  const expected = [...entries(1, 11, 1), ...entries(12, 4, 2)].map((e): [number, number] => [e.index, e.term]);
  t.same(indexTerms(wal), expected, 'entries 12..15 at term 2 and nothing after them');
  t.ok(payloadsIntact(wal, 64), 'payloads intact, read back from several segments');
  await wal.append(entries(16, 2, 3, 64));
  await wal.compact(13);
  wal = await reopen(t, wal, options);
  t.same(indexTerms(wal), [[14, 2], [15, 2], [16, 3], [17, 3]], 'appends and compaction after the overwrite');
});

t.test('1 MiB entries and a 32 MiB entry round-trip through the disk', async (t) => {
  const dir = tempDir(t);
  const options = { dir, fsync: false, segmentBytes: 4 * MIB, entryCacheBytes: 2 * MIB };
  let { wal } = await openWal(t, options);
  for (let index = 1; index <= 8; index++) await wal.append([entry(index, 1, 1 * MIB)]);
  t.ok(wal.stats().segments >= 2, 'eight saves of 1 MiB entries fill more than one 4 MiB segment');
  const segmentsBefore = wal.stats().segments;
  await wal.append([entry(9, 1, 32 * MIB)]);
  t.equal(wal.stats().segments, segmentsBefore + 1, 'the 32 MiB entry opened a segment of its own');
  const sizes = segmentFiles(dir).map((file) => fs.statSync(file).size);
  t.ok(sizes[sizes.length - 1]! > 32 * MIB, 'that segment is larger than segmentBytes, as allowed');
  t.ok(payloadsIntact(wal, 1 * MIB) === false, 'sanity: the 32 MiB entry differs from a 1 MiB pattern');
  wal = await reopen(t, wal, options);
  const read = wal.entries(1, 10, Infinity);
  t.same(read.map((e) => e.data.byteLength), [...Array(8).fill(1 * MIB), 32 * MIB], 'sizes after reopen');
  const intact = read.every((e) => Buffer.from(e.data).equals(Buffer.from(entry(e.index, 1, e.data.byteLength).data)));
  t.ok(intact, 'every payload is read back from disk byte for byte');
  t.same(wal.entries(1, 10, 3 * MIB).length, 2, 'byte limits count the payloads without reading them');
  await wal.append([entry(10, 1, 1 * MIB)]);
  t.equal(wal.entries(10, 11, 0)[0]!.data.byteLength, 1 * MIB, 'a fresh entry is served from the cache');
});

t.test("entryDataAt: where an entry's data lies on disk, small and large, before and after a reopen", async (t) => {
  const dir = tempDir(t);
  const options = { dir, segmentBytes: MIB / 2 };
  let { wal } = await openWal(t, options);
  // Small entries are encoded inline, large ones (by reference) as parts: both end with the data.
  const written = [...entries(1, 3, 1, 40), ...entries(4, 2, 1, 300 * 1024), ...entries(6, 2, 1, 5)];
  await wal.save({ entries: written.slice(0, 4) });
  await wal.save({ entries: written.slice(4) });
  const check = (what: string): void => {
    for (const e of written) {
      const at = wal.entryDataAt(e.index)!;
      const onDisk = fs.readFileSync(at.path).subarray(at.offset, at.offset + e.data.byteLength);
      t.ok(Buffer.compare(onDisk, e.data) === 0, `${what}: entry ${e.index} (${e.data.byteLength} bytes) lies at ${at.offset} of ${path.basename(at.path)}`);
    }
  };
  check('written');
  t.ok(new Set(written.map((e) => wal.entryDataAt(e.index)!.path)).size > 1, 'across more than one segment');
  t.equal(wal.entryDataAt(8), undefined, 'past the last index: undefined');
  wal = await reopen(t, wal, options);
  check('recovered');
  await wal.compact(5);
  t.equal(wal.entryDataAt(5), undefined, 'compacted: undefined');
  t.ok(wal.entryDataAt(6) !== undefined, 'the entries after it still have their place');
  await wal.close();
});

t.test('the entry cache: bounded by entryCacheBytes, released through an index, and reads still come from disk', async (t) => {
  const dir = tempDir(t);
  const { wal } = await openWal(t, { dir, fsync: false, segmentBytes: 4 * MIB, entryCacheBytes: 3 * MIB });
  for (let index = 1; index <= 5; index++) await wal.append([entry(index, 1, 1 * MIB)]);
  const cached = wal.stats().cachedBytes;
  t.ok(cached >= 2 * MIB && cached <= 3 * MIB, `the budget holds the newest entries (${cached} bytes)`);
  wal.releaseCachedThrough(4);
  t.ok(wal.stats().cachedBytes >= 1 * MIB && wal.stats().cachedBytes < 2 * MIB, 'entries through 4 released, 5 kept');
  wal.releaseCachedThrough(0);
  wal.releaseCachedThrough(99);
  t.equal(wal.stats().cachedBytes, 0, 'an index past the end releases everything; one before the log nothing more');
  const intact = wal.entries(1, 6, Infinity).every((e) => Buffer.from(e.data).equals(Buffer.from(entry(e.index, 1, 1 * MIB).data)));
  t.ok(intact, 'released entries are read back from disk');
  await wal.append([entry(6, 1, 1 * MIB)]);
  t.ok(wal.stats().cachedBytes >= 1 * MIB, 'a new entry is cached again');
});

t.test('a failed fsync poisons the WAL until it is reopened', async (t) => {
  const dir = tempDir(t);
  const files = new FaultInjectingFileLayer();
  const { wal } = await openWal(t, { dir, files });
  await wal.append(entries(1, 3, 1));
  files.failNextFsync();
  await t.rejects(wal.append(entries(4, 1, 1)), { code: 'EIO' }, 'the save reports the fsync failure');
  t.equal(wal.lastIndex(), 3, 'the reads do not show the batch that failed');
  await t.rejects(wal.append(entries(4, 1, 1)), WalFailedError, 'later saves are refused');
  await t.rejects(wal.compact(2), { code: 'KVC_WAL_FAILED' }, 'so is compaction');
  t.throws(() => wal.createSnapshot(2, undefined, new Uint8Array(0)), { code: 'KVC_WAL_FAILED' }, 'and createSnapshot');
  await wal.close();
  const reopened = (await openWal(t, { dir })).wal;
  t.ok(reopened.lastIndex() >= 3, 'recovery keeps what reached the disk');
  await reopened.append(entries(reopened.lastIndex() + 1, 1, 1));
  t.pass('the reopened WAL takes writes');
});

t.test('createSnapshot is written by the next save or close; bootstrap membership survives', async (t) => {
  const dir = tempDir(t);
  const options = { dir, fsync: false, segmentBytes: 1024 };
  let { wal } = await openWal(t, options);
  await wal.bootstrap({ voters: [1, 2], learners: [3] });
  t.same(wal.initialState().confState, { voters: [1, 2], learners: [3] }, 'bootstrap sets the membership');
  await t.rejects(wal.bootstrap({ voters: [1], learners: [] }), { code: 'ERR_ASSERTION' }, 'bootstrap twice fails');
  for (let first = 1; first <= 40; first += 4) await wal.append(entries(first, 4, 1, 100));
  wal.createSnapshot(30, undefined, Uint8Array.of(7));
  wal = await reopen(t, wal, options);
  t.same(wal.snapshot().metadata, { index: 30, term: 1, confState: { voters: [1, 2], learners: [3] } }, 'close wrote the snapshot');
  wal.createSnapshot(35, { voters: [1, 2, 3], learners: [] }, Uint8Array.of(8));
  await wal.append(entries(41, 1, 1, 100));
  await wal.compact(35);
  await wal.segmentsDeleted(); // Files go in the background, after compact() resolves.
  t.ok(!fs.existsSync(segmentFiles(dir)[0]!.replace(/\d{16}-/, '0000000000000001-')), 'the first segment is deleted');
  wal = await reopen(t, wal, options);
  t.same(wal.snapshot().metadata.index, 35, 'the save wrote the snapshot');
  t.same(wal.initialState().confState, { voters: [1, 2, 3], learners: [] }, 'its membership is the current one');
  t.same(Array.from(wal.snapshot().data), [8], 'with its data');
});

/** Resolves once `done()` holds; throws after 5 s, naming `what`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`waited 5 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** bufferedFileLayer, with directory fsyncs that wait for `release()` (or fail with `fail()`) and a log of what ran. */
class HeldDirSyncLayer extends PassThroughFileLayer {
  readonly log: string[] = [];
  #held: { go: () => void; stop: (error: Error) => void } | undefined;
  #holding = false;

  constructor() {
    super(bufferedFileLayer);
  }
  hold(): void {
    this.#holding = true;
  }
  release(): void {
    this.#holding = false;
    this.#held?.go();
  }
  fail(error: Error): void {
    this.#holding = false;
    this.#held?.stop(error);
  }
  override async write(fd: number, chunks: readonly Uint8Array[], position: number): Promise<void> {
    await super.write(fd, chunks, position);
    this.log.push('write');
  }
  override async fdatasync(fd: number): Promise<void> {
    await super.fdatasync(fd);
    this.log.push('fdatasync');
  }
  override async fsyncDir(dir: string): Promise<void> {
    this.log.push('dir sync asked');
    if (this.#holding) await new Promise<void>((go, stop) => (this.#held = { go, stop }));
    await super.fsyncDir(dir);
    this.log.push('dir synced');
  }
}

t.test("a new segment's directory fsync runs beside its first write; the save waits for both, and a failed one fails the WAL", async (t) => {
  const files = new HeldDirSyncLayer();
  const { wal } = await openWal(t, { dir: tempDir(t), files, segmentBytes: 64 * 1024 });
  await wal.save({ entries: entries(1, 1, 1, 40 * 1024) });
  files.hold();
  files.log.length = 0;
  let saved = false;
  const rolling = wal.save({ entries: entries(2, 1, 1, 40 * 1024) }).then(() => (saved = true));
  await until(() => files.log.includes('fdatasync'), "the new segment's first write and sync");
  t.same(files.log, ['dir sync asked', 'write', 'fdatasync'], "the new segment's first write and sync ran while its directory fsync was held");
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(saved, false, 'the save has not resolved: the name is not durable yet');
  files.release();
  await rolling;
  t.same(files.log, ['dir sync asked', 'write', 'fdatasync', 'dir synced'], 'it resolved once the directory fsync had ended');
  t.equal(wal.stats().segments, 2, 'in a second segment');
  files.hold();
  const failing = wal.save({ entries: entries(3, 1, 1, 40 * 1024) });
  await until(() => files.log.includes('dir sync asked', 4), 'the next directory fsync');
  files.fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  await t.rejects(failing, /EIO/, 'a failed directory fsync fails the save into the new segment');
  await t.rejects(wal.save({ entries: entries(4, 1, 1) }), WalFailedError, 'and the WAL after it');
});
