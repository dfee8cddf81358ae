// Proves the blob mark (src/store/blob/blob-files.ts BlobMark, PageStore.flush and open): a
// store whose payloads are appended without an fdatasync (a member's, whose WAL makes puts
// durable) records at each flush where its blob files were synced, and after a power loss finds
// at open exactly the pages past that mark whose bytes did not reach the disk. A power loss is
// played by closing the store (the page cache would keep everything a process crash leaves) and
// then cutting or zeroing the blob bytes past the mark, as a lost page cache would. A new file
// never takes the id of one the mark names that is gone (GC deleted it), or its bytes would be
// trusted as synced.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { KvcError } from '../../src/errors.js';
import { PageStore } from '../../src/store/index.js';
import { encodeBlobMark } from '../../src/store/blob/index.js';
import { BLOB_MARK_KEY } from '../../src/store/keys.js';
import { ChunkWriter } from '../../src/store/snapshot-stream.js';
import { loseUnsyncedBlobs, readBlobMark } from '../power-loss.js';
import { LARGE_BUDGET_BYTES, bytesEqual, items, page, put, tempDirs } from './helpers.js';

const NS = 'mark';
/** Above LIMITS.store.blobThresholdBytes (64 KiB): every page goes to a blob file. */
const BYTES = 96 * 1024;

function openUnsynced(dir: string): Promise<PageStore> {
  return PageStore.open({ dir, budgetBytes: LARGE_BUDGET_BYTES, sync: false, blobSync: false, blobGc: { intervalMs: 0 } });
}

async function checksumMismatch(read: Promise<unknown>): Promise<boolean> {
  return read.then(
    () => false,
    (error: unknown) => error instanceof KvcError && error.code === 'KVC_CHECKSUM_MISMATCH',
  );
}

for (const how of ['cut', 'zero'] as const) {
  t.test(`pages appended past the mark that a power loss ${how === 'cut' ? 'cut off' : 'zeroed'} are found at open, and only those`, async (t) => {
    const dirs = await tempDirs();
    t.teardown(() => dirs.cleanup());
    const dir = dirs.path('store');
    const pages = [0, 1, 2, 3, 4].map((k) => page(NS, k, k + 1, BYTES));
    let store = await openUnsynced(dir);
    t.same(await readBlobMark(dir).catch(() => 'locked'), 'locked', 'the store holds its LevelDB');
    await store.apply(items(1, put(pages[0]!), put(pages[1]!)));
    await store.flush();
    await store.apply(items(3, put(pages[2]!), put(pages[3]!, pages[4]!)));
    await store.close();

    const mark = (await readBlobMark(dir))!;
    t.ok(mark.fileId >= 1 && mark.size === 2 * BYTES, `the flush recorded the mark after the first two pages (${JSON.stringify(mark)})`);
    await loseUnsyncedBlobs(dir, how, mark);

    store = await openUnsynced(dir);
    t.teardown(() => store.close());
    t.same(
      store.unsyncedDamage().map((d) => ({ ns: d.ns, key: [...d.key], crc32c: d.crc32c })),
      [2, 3, 4].map((k) => ({ ns: NS, key: [...pages[k]!.meta.key], crc32c: pages[k]!.meta.crc32c })),
      'exactly the pages put after the flush are listed as damaged',
    );
    for (const k of [0, 1]) t.ok(bytesEqual((await store.getPage(NS, pages[k]!.meta.key))?.data, pages[k]!.data), `page ${k}, under the mark, reads back`);
    for (const k of [2, 3, 4]) t.ok(await checksumMismatch(store.getPage(NS, pages[k]!.meta.key)), `page ${k} is refused (KVC_CHECKSUM_MISMATCH), never served`);

    for (const k of [2, 3, 4]) t.equal(await store.repairPayload(NS, pages[k]!.meta.key, pages[k]!.data), 'repaired', `page ${k} repaired from a good copy`);
    for (const k of [2, 3, 4]) t.ok(bytesEqual((await store.getPage(NS, pages[k]!.meta.key))?.data, pages[k]!.data), `page ${k} reads back after its repair`);

    // The next flush vouches for everything; a reopen then checks nothing.
    await store.flush();
    await store.close();
    store = await openUnsynced(dir);
    t.same(store.unsyncedDamage(), [], 'after a flush nothing is past the mark');
  });
}

t.test('a new store has a mark before its first append; an unflushed store is checked whole', async (t) => {
  const dirs = await tempDirs();
  t.teardown(() => dirs.cleanup());
  const dir = dirs.path('store');
  let store = await openUnsynced(dir);
  await store.close();
  t.same(await readBlobMark(dir), { fileId: 0, size: 0 }, 'created with the mark {0, 0}: it vouches for nothing');

  store = await openUnsynced(dir);
  const p = page(NS, 0, 7, BYTES);
  await store.apply(items(1, put(p)));
  await store.close();
  store = await openUnsynced(dir);
  t.same(store.unsyncedDamage(), [], 'a process crash loses nothing: the unflushed page reads back at open');
  await store.close();
  await loseUnsyncedBlobs(dir, 'cut', { fileId: 0, size: 0 });
  store = await openUnsynced(dir);
  t.teardown(() => store.close());
  t.same(store.unsyncedDamage().map((d) => [...d.key]), [[...p.meta.key]], 'a power loss before the first flush: the page is found');
});

t.test('a store without a mark (written before marks, or installed) takes its files as synced', async (t) => {
  const dirs = await tempDirs();
  t.teardown(() => dirs.cleanup());
  const dir = dirs.path('store');
  // Synced appends, as every store was written before marks.
  let store = await PageStore.open({ dir, budgetBytes: LARGE_BUDGET_BYTES, blobGc: { intervalMs: 0 } });
  await store.apply(items(1, put(page(NS, 0, 3, BYTES))));
  await store.close();
  t.same(await readBlobMark(dir), { fileId: 1, size: BYTES }, 'with synced appends the mark moves in the batch that holds their refs');
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.del(BLOB_MARK_KEY);
  await db.close();

  store = await openUnsynced(dir);
  t.same(store.unsyncedDamage(), [], 'nothing to check');
  await store.close();
  t.same(await readBlobMark(dir), { fileId: 1, size: BYTES }, 'the mark is the files\u2019 end, recorded at open');
});

t.test('the mark is member-local: not in the digest, not in a snapshot stream; a stream carrying one is refused', async (t) => {
  const dirs = await tempDirs();
  t.teardown(() => dirs.cleanup());
  const pages = [0, 1].map((k) => page(NS, k, k + 11, BYTES));
  const flushed = await openUnsynced(dirs.path('a'));
  const unflushed = await openUnsynced(dirs.path('b'));
  t.teardown(() => Promise.all([flushed.close(), unflushed.close()]));
  for (const s of [flushed, unflushed]) await s.apply(items(1, put(pages[0]!), put(pages[1]!)));
  await flushed.flush();
  t.equal(await flushed.digest(), await unflushed.digest(), 'two replicas with different marks have one digest');

  const chunks = [];
  for await (const chunk of flushed.snapshotReader()) chunks.push(chunk);
  const installed = await PageStore.installSnapshot(dirs.path('c'), (async function* () {
    yield* chunks;
  })());
  t.same(installed, { installed: true, appliedIndex: 2 }, 'the image installs');
  const copy = await openUnsynced(dirs.path('c'));
  t.teardown(() => copy.close());
  t.equal(await copy.digest(), await flushed.digest(), 'same digest after the install');
  t.same(copy.unsyncedDamage(), [], 'the installed (synced) image has nothing past its mark');

  // A stream whose sender put its mark in (a bug, or a foreign build) must not become ours.
  const writer = new ChunkWriter();
  const forged = [...(await writer.addAsync({ key: BLOB_MARK_KEY, value: encodeBlobMark({ fileId: 9, size: 1 }) })), await writer.finishAsync(0)];
  await t.rejects(
    PageStore.installSnapshot(dirs.path('d'), (async function* () {
      yield* forged;
    })()),
    /blob mark, a member-local record/,
    'refused',
  );
});

t.test('a new blob file never takes the id of a file the mark names that is gone', async (t) => {
  const dirs = await tempDirs();
  t.teardown(() => dirs.cleanup());
  const dir = dirs.path('store');
  let store = await openUnsynced(dir);
  await store.apply(items(1, put(page(NS, 1, 1, BYTES))));
  await store.close();
  // The mark names file 7, which GC deleted before the crash (its pages moved to file 1).
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.put(BLOB_MARK_KEY, encodeBlobMark({ fileId: 7, size: 5 * BYTES }));
  await db.close();
  store = await openUnsynced(dir);
  t.teardown(() => store.close());
  const fresh = page(NS, 2, 2, BYTES);
  await store.apply(items(2, put(fresh)));
  const names = readdirSync(join(dir, 'blobs')).sort();
  t.ok(names.includes('000008.blob'), `the new active file is 000008.blob, past the mark's file (${names.join(', ')})`);
  await store.close();
  // Its bytes are past the mark, so a power loss before a flush is found at open, not trusted.
  await loseUnsyncedBlobs(dir, 'cut', { fileId: 7, size: 5 * BYTES });
  store = await openUnsynced(dir);
  t.same(store.unsyncedDamage().map((d) => d.key), [fresh.meta.key], 'the page in it is listed for repair');
});
