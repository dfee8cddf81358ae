// Proves the key-value separation of the page store on real LevelDB and real files: payloads at or
// above the blob threshold live in blob files ('b' refs), smaller ones inline ('p'), and both read
// back; a flipped byte in a blob file is refused as KVC_CHECKSUM_MISMATCH, never served; garbage
// left after the blob append and before the batch (a crash in between) changes nothing that is
// indexed; GC reclaims a mostly-deleted file while reads and a snapshot stream in progress still
// get the right bytes, and a delete that races a GC rewrite wins; a snapshot of a store with blobs
// installs into a fresh store that reads every page, has the same digest and its own blob files;
// a stream of an unknown format version is refused with KVC_SNAPSHOT_INVALID; and the start-up
// scrub finds a damaged blob payload, which a good copy (only one with the page's crc32c)
// repairs without changing the digest. A WAL segment linked in before a restart takes the refs
// put after it under the same name, unless GC is collecting that name.

import t from 'tap';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { PageStore } from '../../src/store/index.js';
import type { PageStoreOptions, SnapshotChunk } from '../../src/store/index.js';
import { ChunkWriter } from '../../src/store/snapshot-stream.js';
import { BlobFiles } from '../../src/store/blob/index.js';
import { setAppendMode } from '../../src/io/index.js';
import { crc32c } from '../../src/codec/index.js';
import { LARGE_BUDGET_BYTES, bytesEqual, items, key, page, put, tempDirs } from './helpers.js';

const NS = 'blob/ns';
const KIB = 1024;
const LARGE = 100 * KIB;
const SMALL = 4 * KIB;

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

function openBlobStore(dir: string, extra: Partial<PageStoreOptions> = {}): Promise<PageStore> {
  return PageStore.open({ dir, budgetBytes: LARGE_BUDGET_BYTES, blobGc: { intervalMs: 0 }, ...extra });
}

function blobFiles(dir: string): string[] {
  const blobs = join(dir, 'blobs');
  return existsSync(blobs) ? readdirSync(blobs).filter((n) => n.endsWith('.blob')).sort() : [];
}

async function collect(chunks: AsyncIterable<SnapshotChunk>): Promise<SnapshotChunk[]> {
  const out: SnapshotChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function* replay(chunks: SnapshotChunk[]): AsyncGenerator<SnapshotChunk> {
  yield* chunks;
}

t.test('large pages go to blob files, small ones inline; both read back', async (t) => {
  const dir = dirs.path('round-trip');
  const store = await openBlobStore(dir);
  const pages = [page(NS, 1, 1, LARGE), page(NS, 2, 2, SMALL), page(NS, 3, 3, 64 * KIB)];
  t.ok((await store.apply(items(1, put(...pages))))[0]!.ok);
  t.equal(blobFiles(dir).length, 1, 'one blob file');
  t.same(store.blobStats(), { bytes: LARGE + 64 * KIB, garbageBytes: 0, files: 1, gcRuns: 0, walFiles: 0, walLinksRefused: '' }, 'the two payloads at or above 64 KiB are in it');
  for (const p of pages) t.ok(bytesEqual((await store.getPage(NS, p.meta.key))?.data, p.data), `page of ${p.data.byteLength} bytes reads back`);
  await store.close();
  const reopened = await openBlobStore(dir);
  t.teardown(() => reopened.close());
  t.equal(reopened.blobStats().garbageBytes, 0, 'live bytes rebuilt from the refs at open');
  for (const p of pages) t.ok(bytesEqual((await reopened.getPage(NS, p.meta.key))?.data, p.data), `after reopen: ${p.data.byteLength} bytes`);
});

t.test('a flipped byte in a blob file is refused, never served', async (t) => {
  const dir = dirs.path('corrupt');
  const store = await openBlobStore(dir);
  t.teardown(() => store.close());
  await store.apply(items(1, put(page(NS, 1, 1, LARGE), page(NS, 2, 2, LARGE))));
  const file = await open(join(dir, 'blobs', blobFiles(dir)[0]!), 'r+');
  const byte = new Uint8Array(1);
  await file.read(byte, 0, 1, LARGE + 10); // inside page 2
  byte[0] = byte[0]! ^ 0xff;
  await file.write(byte, 0, 1, LARGE + 10);
  await file.close();
  await t.rejects(store.getPage(NS, key(2)), { code: 'KVC_CHECKSUM_MISMATCH' }, 'the damaged page is refused');
  await t.rejects(collect(store.snapshotReader()), { code: 'KVC_CHECKSUM_MISMATCH' }, 'and never streamed');
  t.ok(bytesEqual((await store.getPage(NS, key(1)))?.data, page(NS, 1, 1, LARGE).data), 'its neighbour still reads');
});

t.test('the scrub finds a damaged blob payload and a good copy repairs it; nothing replicated changes', async (t) => {
  const dir = dirs.path('scrub');
  const store = await openBlobStore(dir);
  t.teardown(() => store.close());
  const [one, two, small] = [page(NS, 1, 1, LARGE), page(NS, 2, 2, LARGE), page(NS, 3, 3, SMALL)];
  await store.apply(items(1, put(one, two, small)));
  t.same(await store.scrubBlobs(), [], 'an intact store has nothing to repair');
  const digest = await store.digest();
  const file = await open(join(dir, 'blobs', blobFiles(dir)[0]!), 'r+');
  const byte = new Uint8Array(1);
  await file.read(byte, 0, 1, LARGE + 10); // inside page 2
  byte[0] = byte[0]! ^ 0x5a;
  await file.write(byte, 0, 1, LARGE + 10);
  await file.close();
  const damaged = await store.scrubBlobs();
  t.same(damaged.map((d) => [d.ns, Buffer.from(d.key).toString('hex')]), [[NS, Buffer.from(key(2)).toString('hex')]], 'the scrub names page 2 alone');
  t.equal(await store.repairPayload(NS, key(2), one.data), 'mismatch', 'another page\'s bytes are refused');
  t.equal(await store.repairPayload(NS, key(9), two.data), 'gone', 'a page that is not here needs nothing');
  await t.rejects(store.getPage(NS, key(2)), { code: 'KVC_CHECKSUM_MISMATCH' }, 'still refused before the repair');
  t.equal(await store.repairPayload(NS, key(2), two.data), 'repaired');
  t.ok(bytesEqual((await store.getPage(NS, key(2)))?.data, two.data), 'the repaired page reads back whole');
  t.same(await store.scrubBlobs(), [], 'and the scrub is clean');
  t.equal(await store.repairPayload(NS, key(3), small.data), 'repaired', 'an inline payload is rewritten in place');
  t.ok(bytesEqual((await store.getPage(NS, key(3)))?.data, small.data));
  t.equal(await store.digest(), digest, 'the digest (metadata only) is unchanged');
  t.ok(store.blobStats().garbageBytes >= LARGE, 'the damaged copy is garbage for GC');
});

t.test('bytes appended but never indexed (a crash before the batch) are only garbage', async (t) => {
  const dir = dirs.path('torn');
  const store = await openBlobStore(dir);
  await store.apply(items(1, put(page(NS, 1, 1, LARGE))));
  await store.close();
  // What a crash after the blob append and before the LevelDB batch leaves: a torn tail.
  await appendFile(join(dir, 'blobs', blobFiles(dir)[0]!), page(NS, 2, 2, LARGE).data.subarray(0, 5000));
  const reopened = await openBlobStore(dir);
  t.teardown(() => reopened.close());
  t.equal(reopened.blobStats().garbageBytes, 5000, 'the torn tail counts as garbage');
  t.ok(bytesEqual((await reopened.getPage(NS, key(1)))?.data, page(NS, 1, 1, LARGE).data), 'the indexed page is intact');
  t.equal(await reopened.getPage(NS, key(2)), undefined, 'the unindexed one does not exist');
  // The WAL would replay the entry: it applies as a fresh put into a new active file.
  t.ok((await reopened.apply(items(2, put(page(NS, 2, 2, LARGE)))))[0]!.ok);
  t.ok((await reopened.apply(items(3, put(page(NS, 2, 2, LARGE)))))[0]!.ok, 'replaying it again is ok');
  t.equal(reopened.stats().pages, 2, 'and adds nothing');
  t.ok(bytesEqual((await reopened.getPage(NS, key(2)))?.data, page(NS, 2, 2, LARGE).data), 'the replayed page reads');
  t.equal(blobFiles(dir).length, 2, 'appends after a restart never go after a torn tail');
});

t.test('GC reclaims a mostly deleted file while reads and a snapshot stream go on', async (t) => {
  const dir = dirs.path('gc');
  // Small files so the batch below fills one and later appends go to the next.
  const store = await openBlobStore(dir, { blobFileBytes: 512 * KIB });
  t.teardown(() => store.close());
  const pages = Array.from({ length: 10 }, (_, i) => page(NS, i + 1, i + 1, LARGE));
  await store.apply(items(1, put(...pages)));
  await store.apply(items(2, put(page(NS, 100, 100, LARGE)))); // rotates: file 1 is no longer active
  t.equal(blobFiles(dir).length, 2);
  const survivors = [pages[0]!, pages[5]!];
  await store.apply(items(3, { op: 'delete', ns: NS, keys: pages.filter((p) => !survivors.includes(p)).map((p) => p.meta.key) }));
  const before = store.blobStats();
  t.equal(before.garbageBytes, 8 * LARGE, 'deleted payloads are garbage');
  const digest = await store.digest();
  // A stream taken now holds file 1 against GC until it ends.
  const stream = store.snapshotReader()[Symbol.asyncIterator]();
  const first = await stream.next();
  const reads = Array.from({ length: 20 }, (_, i) => store.getPage(NS, survivors[i % 2]!.meta.key));
  t.equal(await store.runGc(), 1, 'one file collected');
  const after = store.blobStats();
  t.equal(after.gcRuns, 1);
  t.ok(after.garbageBytes < before.garbageBytes, `garbage dropped (${before.garbageBytes} -> ${after.garbageBytes})`);
  for (const [i, read] of (await Promise.all(reads)).entries()) t.ok(bytesEqual(read?.data, survivors[i % 2]!.data), `read ${i} during GC is right`);
  t.ok(blobFiles(dir).includes('000001.blob'), 'the old file stays while the stream is open');
  const chunks = [first.value as SnapshotChunk];
  for (let next = await stream.next(); next.done !== true; next = await stream.next()) chunks.push(next.value);
  // The file is unlinked in the background once the stream's pin is released.
  for (let i = 0; i < 100 && blobFiles(dir).includes('000001.blob'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.notOk(blobFiles(dir).includes('000001.blob'), 'and goes once the stream ends');
  for (const p of [...survivors, page(NS, 100, 100, LARGE)]) t.ok(bytesEqual((await store.getPage(NS, p.meta.key))?.data, p.data), 'a moved page reads');
  const target = dirs.path('gc-target');
  await PageStore.installSnapshot(target, replay(chunks));
  const installed = await openBlobStore(target);
  t.teardown(() => installed.close());
  t.equal(await installed.digest(), digest, 'the stream taken during GC installs the same state');
  t.equal(await store.digest(), digest, 'GC changed no digest');
});

t.test('a snapshot reader closed without being iterated releases the blob files it held', async (t) => {
  const dir = dirs.path('gc-unread');
  const store = await openBlobStore(dir, { blobFileBytes: 512 * KIB });
  t.teardown(() => store.close());
  const pages = Array.from({ length: 10 }, (_, i) => page(NS, i + 1, i + 1, LARGE));
  await store.apply(items(1, put(...pages)));
  await store.apply(items(2, put(page(NS, 100, 100, LARGE))));
  await store.apply(items(3, { op: 'delete', ns: NS, keys: pages.slice(1).map((p) => p.meta.key) }));
  // A transfer that failed before its first chunk: the reader was made, never iterated.
  const unread = store.snapshotReader();
  const halfRead = store.snapshotReader();
  await halfRead[Symbol.asyncIterator]().next();
  t.equal(await store.runGc(), 1, 'one file collected');
  t.ok(blobFiles(dir).includes('000001.blob'), 'the readers hold the old file');
  await unread.close();
  await halfRead.close();
  await halfRead.close();
  for (let i = 0; i < 100 && blobFiles(dir).includes('000001.blob'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.notOk(blobFiles(dir).includes('000001.blob'), 'closing both readers let it go');
  t.ok(bytesEqual((await store.getPage(NS, pages[0]!.meta.key))?.data, pages[0]!.data), 'the moved page reads');
});

t.test('a delete that races a GC rewrite wins', async (t) => {
  const dir = dirs.path('gc-race');
  const store = await openBlobStore(dir, { blobFileBytes: 256 * KIB });
  const pages = Array.from({ length: 4 }, (_, i) => page(NS, i + 1, i + 1, LARGE));
  await store.apply(items(1, put(...pages)));
  await store.apply(items(2, put(page(NS, 100, 100, LARGE))));
  await store.apply(items(3, { op: 'delete', ns: NS, keys: [key(1), key(2), key(3)] }));
  // GC copies page 4 outside the queue; the delete is queued before its ref rewrite.
  const gc = store.runGc();
  const deleted = store.apply(items(4, { op: 'delete', ns: NS, keys: [key(4)] }));
  t.equal(await gc, 1);
  await deleted;
  t.equal(await store.getPage(NS, key(4)), undefined, 'the deleted page stays deleted');
  const stats = store.blobStats();
  await store.close();
  const reopened = await openBlobStore(dir);
  t.teardown(() => reopened.close());
  t.same(reopened.blobStats().garbageBytes, stats.garbageBytes, 'live bytes after reopen agree with the in-memory count');
  t.ok(bytesEqual((await reopened.getPage(NS, key(100)))?.data, page(NS, 100, 100, LARGE).data));
});

t.test('a snapshot of a store with blobs installs with its own blob files; unknown versions are refused', async (t) => {
  const dir = dirs.path('snap-source');
  const store = await openBlobStore(dir);
  const pages = [page(NS, 1, 1, LARGE), page(NS, 2, 2, SMALL), page(NS, 3, 3, 3 * 1024 * KIB)];
  await store.apply(items(1, put(...pages)));
  const digest = await store.digest();
  const chunks = await collect(store.snapshotReader());
  await store.close();
  const target = dirs.path('snap-target');
  t.same(await PageStore.installSnapshot(target, replay(chunks)), { installed: true, appliedIndex: 1 });
  const installed = await openBlobStore(target);
  t.teardown(() => installed.close());
  t.equal(await installed.digest(), digest, 'same digest');
  for (const p of pages) t.ok(bytesEqual((await installed.getPage(NS, p.meta.key))?.data, p.data), `${p.data.byteLength} bytes read back`);
  t.equal(blobFiles(target).length, 1, 'the receiver filed the large payloads in its own blob file');
  t.equal(installed.blobStats().bytes, LARGE + 3 * 1024 * KIB);

  const writer = new ChunkWriter(undefined, 99);
  const future = [...writer.add({ key: Uint8Array.of(0x61), value: new Uint8Array(8) }), writer.finish(0)];
  await t.rejects(PageStore.installSnapshot(dirs.path('snap-future'), replay(future)), { code: 'KVC_SNAPSHOT_INVALID', message: /format version 99 is unknown/ });
  t.notOk(existsSync(dirs.path('snap-future')), 'nothing installed');
});

t.test('direct appends: a rotation and a close cut the padding; after a crash it is garbage and every payload reads', async (t) => {
  setAppendMode('direct');
  t.teardown(() => setAppendMode('dropped'));
  const dir = dirs.path('direct');
  const blobs = await BlobFiles.open(dir, { fileBytes: 250 * KIB });
  const payloads = [1, 2, 3, 4, 5].map((n) => ({ data: new Uint8Array(LARGE + n).fill(n), crc32c: 0 }));
  for (const p of payloads) p.crc32c = crc32c(p.data);
  const refs = [];
  for (const p of payloads) refs.push(...(await blobs.append([p], false)));
  const sizes = blobFiles(dir).map((name) => statSync(join(dir, 'blobs', name)).size);
  t.same(sizes.slice(0, -1), [LARGE * 3 + 1 + 2 + 3], 'the file left by the rotation ends at its last payload');
  t.ok(sizes[sizes.length - 1]! >= LARGE * 2 + 4 + 5, 'the active file holds its two payloads');
  t.equal(sizes[sizes.length - 1]! % 4096, 0, 'padded to a block while it is written (direct appends)');
  // A crash: the files stay as they are, and a new process opens them.
  const reopened = await BlobFiles.open(dir, { fileBytes: 250 * KIB });
  t.teardown(() => reopened.close());
  for (const ref of refs) reopened.addLive(ref);
  t.ok(reopened.stats().garbageBytes > 0 && reopened.stats().garbageBytes < 4096, 'the padding is counted as garbage');
  for (const [k, ref] of refs.entries()) t.ok(bytesEqual(await reopened.read(ref), payloads[k]!.data), `payload ${k + 1} reads back`);
  await blobs.close();
  const active = blobFiles(dir)[blobFiles(dir).length - 1]!;
  t.equal(statSync(join(dir, 'blobs', active)).size, LARGE * 2 + 4 + 5, 'a clean close cuts the padding');
});

t.test('a WAL segment linked before a restart takes new refs, unless GC is collecting that link', async (t) => {
  const dir = dirs.path('relink');
  const segment = dirs.path('relink-seg');
  const payload = (n: number): { data: Uint8Array; crc32c: number } => {
    const data = new Uint8Array(LARGE).fill(n);
    return { data, crc32c: crc32c(data) };
  };
  const [a, b, c] = [payload(1), payload(2), payload(3)];
  await appendFile(segment, a.data);
  const first = await BlobFiles.open(dir, { fileBytes: 250 * KIB });
  const [refA] = await first.place([{ ...a, inWal: { path: segment, offset: 0 } }], false);
  await first.close();

  // A restart: the WAL goes on writing the same segment.
  const second = await BlobFiles.open(dir, { fileBytes: 250 * KIB });
  second.addLive(refA!);
  await appendFile(segment, b.data);
  const [refB] = await second.place([{ ...b, inWal: { path: segment, offset: LARGE } }], false);
  t.equal(refB!.fileId, refA!.fileId, 'the link found at open takes the ref');
  second.addLive(refB!);
  t.match(second.stats(), { files: 1, walFiles: 1, bytes: 2 * LARGE, garbageBytes: 0 }, "the segment's bytes counted once");
  t.equal(second.gcCandidate(1.01), undefined, 'that link is the newest now: never a GC candidate');
  await second.close();

  // Another restart, and GC picks the link (any file qualifies at a ratio above 1) before the next ref.
  const third = await BlobFiles.open(dir, { fileBytes: 250 * KIB });
  t.teardown(() => third.close());
  for (const ref of [refA!, refB!]) third.addLive(ref);
  const victim = third.gcCandidate(1.01);
  t.equal(victim?.id, refA!.fileId, 'GC picks the link');
  await appendFile(segment, c.data);
  const [refC] = await third.place([{ ...c, inWal: { path: segment, offset: 2 * LARGE } }], false);
  t.not(refC!.fileId, refA!.fileId, 'a link being collected takes no new ref: the segment gets a name of its own');
  t.equal(third.stats().walFiles, 2);
  third.collectionEnded(victim!.id);
  for (const [ref, p] of [[refA, a], [refB, b], [refC, c]] as const) t.ok(bytesEqual(await third.read(ref!), p.data), `payload ${p.data[0]} reads back`);
});
