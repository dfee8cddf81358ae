// Proves the store's value log on real LevelDB and real files: a large payload that already lies
// in a WAL segment (an apply item's `source`) is referenced there - the segment hard-linked into
// the blob folder as `NNNNNN.wal` - instead of written again; the refs outlive the WAL's own name
// for the file; only the segment linked last takes new refs, and earlier ones are collected by GC
// like any blob file; after a restart the segment still being written keeps its one link; a ref whose bytes the file no longer holds (a WAL that cut a damaged tail)
// is a suspect at open and never served, while refs into linked files are otherwise not read at
// open, whatever the blob mark says; a link left by an apply that crashed before its batch is
// garbage GC removes; a snapshot of such a store carries the payloads; and
// where the link is refused (another filesystem) the payload is appended as before.

import t, { type Test } from 'tap';
import { existsSync, linkSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PageStore } from '../../src/store/index.js';
import type { ApplyItem, PageStoreOptions, SnapshotChunk } from '../../src/store/index.js';
import type { Command, PageMeta } from '../../src/codec/index.js';
import { LARGE_BUDGET_BYTES, bytesEqual, key, page, put, tempDirs } from './helpers.js';

const NS = 'vlog/ns';
const KIB = 1024;
const LARGE = 100 * KIB;
/** Bytes before the entry's data in the fake segment (a WAL's records before it). */
const HEAD = 4096;

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

type Page = { meta: PageMeta; data: Uint8Array };

/** A fresh store folder and a folder standing for the WAL's, both under the test's temp root. */
async function folders(name: string): Promise<{ dir: string; wal: string }> {
  const wal = dirs.path(`${name}-wal`);
  await mkdir(wal, { recursive: true });
  return { dir: dirs.path(name), wal };
}

function openVlogStore(dir: string, extra: Partial<PageStoreOptions> = {}): Promise<PageStore> {
  return PageStore.open({ dir, budgetBytes: LARGE_BUDGET_BYTES, blobGc: { intervalMs: 0 }, ...extra });
}

/**
 * Writes a fake WAL segment at `path`: HEAD bytes of other records, then an entry's data made of a
 * 64-byte header and the pages' payloads back to back. Returns pages whose payloads are views into
 * that data (as a decoded proposal's are) and the source that says where the data lies.
 */
async function segmentWith(path: string, pages: Page[]): Promise<{ pages: Page[]; source: NonNullable<ApplyItem['source']> }> {
  const total = 64 + pages.reduce((sum, p) => sum + p.data.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 64;
  const viewed = pages.map(({ meta, data: bytes }) => {
    data.set(bytes, at);
    const view = data.subarray(at, at + bytes.byteLength);
    at += bytes.byteLength;
    return { meta, data: view };
  });
  const file = new Uint8Array(HEAD + total);
  file.fill(7, 0, HEAD);
  file.set(data, HEAD);
  await writeFile(path, file);
  return { pages: viewed, source: { data, at: { path, offset: HEAD } } };
}

function apply(store: PageStore, index: number, command: Command, source?: ApplyItem['source']): Promise<unknown> {
  return store.apply([{ index, command, source }]).then(([result]) => {
    if (!result!.ok) throw new Error(`apply ${index} refused: ${result!.message}`);
  });
}

function names(dir: string, ext: string): string[] {
  const blobs = join(dir, 'blobs');
  return existsSync(blobs) ? readdirSync(blobs).filter((n) => n.endsWith(ext)).sort() : [];
}

async function readsBack(t: Test, store: PageStore, pages: Page[], what: string): Promise<void> {
  for (const p of pages) t.ok(bytesEqual((await store.getPage(NS, p.meta.key))?.data, p.data), `${what}: page ${p.meta.key[p.meta.key.length - 1]} reads back`);
}

t.test('a payload that lies in a WAL segment is referenced there, not written again', async (t) => {
  const { dir, wal } = await folders('linked');
  const segment = join(wal, 'seg-1');
  const { pages, source } = await segmentWith(segment, [page(NS, 1, 1, LARGE), page(NS, 2, 2, LARGE)]);
  const small = page(NS, 3, 3, 4 * KIB);
  const copied = page(NS, 4, 4, LARGE); // not a view into the entry: appended
  const store = await openVlogStore(dir);
  await apply(store, 1, put(...pages, small, copied), source);
  t.same(names(dir, '.wal'), ['000001.wal'], 'the segment is linked in once');
  t.equal(statSync(join(dir, 'blobs', '000001.wal')).ino, statSync(segment).ino, 'as a second name of the same file');
  t.equal(statSync(segment).nlink, 2, 'which now has two names');
  t.equal(names(dir, '.blob').length, 1, 'the payload that is not in the entry went to a blob file');
  t.equal(statSync(join(dir, 'blobs', names(dir, '.blob')[0]!)).size, LARGE, 'and only it');
  // The segment's bytes before the payloads (other records, the entry's header) are garbage.
  t.match(store.blobStats(), { files: 2, walFiles: 1, walLinksRefused: '', garbageBytes: HEAD + 64 }, 'stats count the linked file');
  await readsBack(t, store, [...pages, small, copied], 'before the WAL drops its name');

  await unlink(segment);
  await store.close();
  const reopened = await openVlogStore(dir);
  t.teardown(() => reopened.close());
  await readsBack(t, reopened, [...pages, small, copied], 'after the WAL dropped its name and a restart');
  t.same(reopened.unsyncedDamage(), [], 'nothing suspect at open');
  t.same(await reopened.scrubBlobs(), [], 'the scrub reads every payload whole');
});

t.test('only the segment linked last takes refs; GC collects earlier ones like blob files', async (t) => {
  const { dir, wal } = await folders('gc');
  const first = await segmentWith(join(wal, 'seg-1'), [1, 2, 3, 4].map((k) => page(NS, k, k, LARGE)));
  const second = await segmentWith(join(wal, 'seg-2'), [page(NS, 5, 5, LARGE)]);
  const store = await openVlogStore(dir);
  t.teardown(() => store.close());
  await apply(store, 1, put(...first.pages), first.source);
  await apply(store, 2, put(...second.pages), second.source);
  t.same(names(dir, '.wal'), ['000001.wal', '000002.wal'], 'one linked file per segment');
  await apply(store, 3, { op: 'delete', ns: NS, keys: [1, 2, 3].map(key) });
  t.equal(await store.runGc(), 1, 'the first segment, 1/4 live, is collected');
  for (let i = 0; i < 100 && names(dir, '.wal').includes('000001.wal'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(names(dir, '.wal'), ['000002.wal'], 'its link is gone (the WAL keeps its own name)');
  t.ok(existsSync(first.source.at.path), 'the WAL file itself is untouched');
  t.equal(names(dir, '.blob').length, 1, 'the live page moved to a blob file');
  await readsBack(t, store, [first.pages[3]!, second.pages[0]!], 'after GC');
  await apply(store, 4, { op: 'delete', ns: NS, keys: [key(5)] });
  t.equal(await store.runGc(), 0, 'the segment linked last is never collected: the WAL may still add to it');
  t.match(store.blobStats(), { gcRuns: 1 }, 'one GC run');
});

t.test('after a restart the segment still being written takes new refs under the link it has', async (t) => {
  const { dir, wal } = await folders('restart');
  const segment = join(wal, 'seg-1');
  const before = await segmentWith(segment, [page(NS, 1, 1, LARGE)]);
  const store = await openVlogStore(dir);
  await apply(store, 1, put(...before.pages), before.source);
  await store.close();
  // The WAL goes on writing the same segment after the restart: a second entry at its end.
  const reopened = await openVlogStore(dir);
  t.teardown(() => reopened.close());
  const offset = statSync(segment).size;
  const later = [page(NS, 2, 2, LARGE)];
  const data = new Uint8Array(64 + LARGE);
  data.set(later[0]!.data, 64);
  await appendFile(segment, data);
  await apply(reopened, 2, put({ meta: later[0]!.meta, data: data.subarray(64) }), { data, at: { path: segment, offset } });
  t.same(names(dir, '.wal'), ['000001.wal'], 'no second link: the one from before the restart takes the ref');
  const size = statSync(segment).size;
  t.match(reopened.blobStats(), { files: 1, walFiles: 1, bytes: size, garbageBytes: size - 2 * LARGE }, "the segment's bytes counted once");
  await readsBack(t, reopened, [...before.pages, ...later], 'both pages');
  await apply(reopened, 3, { op: 'delete', ns: NS, keys: [key(1)] });
  t.equal(await reopened.runGc(), 0, 'the link that took the last refs is the newest: GC leaves it to the WAL');
});

t.test('a ref past the end of its linked file is a suspect at open and never served', async (t) => {
  const { dir, wal } = await folders('cut');
  const { pages, source } = await segmentWith(join(wal, 'seg-1'), [page(NS, 1, 1, LARGE), page(NS, 2, 2, LARGE)]);
  const store = await openVlogStore(dir);
  await apply(store, 1, put(...pages), source);
  await store.close();
  // The WAL cut a damaged tail: the second payload's bytes are gone from the shared file.
  await truncate(join(dir, 'blobs', '000001.wal'), HEAD + 64 + LARGE + 10);
  const reopened = await openVlogStore(dir);
  t.teardown(() => reopened.close());
  t.same(
    reopened.unsyncedDamage().map((d) => d.key),
    [key(2)],
    'the page whose bytes are gone is listed for repair',
  );
  await readsBack(t, reopened, [pages[0]!], 'the intact page');
  await t.rejects(reopened.getPage(NS, key(2)), { code: 'KVC_CHECKSUM_MISMATCH' }, 'the cut one is refused');
  t.equal(await reopened.repairPayload(NS, key(2), pages[1]!.data), 'repaired', 'a good copy repairs it');
  await readsBack(t, reopened, pages, 'after the repair');
});

t.test('refs into linked files are not checked at open, whatever the blob mark says', async (t) => {
  const { dir, wal } = await folders('mark');
  // As a member's store: appends unsynced, the mark moves only with flush() (here: close).
  const store = await openVlogStore(dir, { blobSync: false, sync: false });
  // An appended payload first: the active blob file takes id 1, and the mark stays at it...
  await apply(store, 1, put(page(NS, 1, 1, LARGE)));
  // ...then a linked segment, id 2, past the mark.
  const { pages, source } = await segmentWith(join(wal, 'seg-1'), [page(NS, 2, 2, LARGE)]);
  await apply(store, 2, put(...pages), source);
  t.same(names(dir, '.wal'), ['000002.wal'], 'the segment is linked in after the blob file');
  await store.close();
  // A flipped byte in the linked payload: open would find it only if it read the payload.
  const file = join(dir, 'blobs', '000002.wal');
  const bytes = readFileSync(file);
  bytes[HEAD + 64 + 10]! ^= 0xff;
  writeFileSync(file, bytes);
  const reopened = await openVlogStore(dir, { blobSync: false, sync: false });
  t.teardown(() => reopened.close());
  t.same(reopened.unsyncedDamage(), [], 'open trusts the WAL-synced bytes: nothing read, nothing listed');
  await t.rejects(reopened.getPage(NS, key(2)), { code: 'KVC_CHECKSUM_MISMATCH' }, 'a read still checks every byte');
  t.same((await reopened.scrubBlobs()).map((d) => d.key), [key(2)], 'and the scrub finds it');
});

t.test('a segment linked by an apply that crashed before its batch is garbage that GC removes', async (t) => {
  const { dir, wal } = await folders('stray');
  const kept = await segmentWith(join(wal, 'seg-1'), [page(NS, 1, 1, LARGE)]);
  const store = await openVlogStore(dir);
  await apply(store, 1, put(...kept.pages), kept.source);
  await store.close();
  // The crash: the link of the next segment is on disk, the batch with its refs never was.
  const lost = await segmentWith(join(wal, 'seg-2'), [page(NS, 2, 2, LARGE)]);
  linkSync(lost.source.at.path, join(dir, 'blobs', '000002.wal'));
  const reopened = await openVlogStore(dir);
  t.teardown(() => reopened.close());
  const size = statSync(lost.source.at.path).size;
  t.match(reopened.blobStats(), { files: 2, walFiles: 2, garbageBytes: HEAD + 64 + size }, 'the stray link holds only garbage');
  t.equal(await reopened.runGc(), 1, 'GC collects it (nothing to move)');
  for (let i = 0; i < 100 && names(dir, '.wal').includes('000002.wal'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  t.same(names(dir, '.wal'), ['000001.wal'], 'its link is gone');
  // The entry is applied again from the WAL after the crash: a new link, under a fresh id (never
  // that of a file deleted since: a blob mark may still name it).
  await apply(reopened, 2, put(...lost.pages), lost.source);
  t.same(names(dir, '.wal'), ['000001.wal', '000003.wal'], 'linked again under the next id');
  await readsBack(t, reopened, [...kept.pages, ...lost.pages], 'after the replay');
});

t.test('a snapshot of a store with linked payloads carries them', async (t) => {
  const { dir, wal } = await folders('snap');
  const { pages, source } = await segmentWith(join(wal, 'seg-1'), [page(NS, 1, 1, LARGE), page(NS, 2, 2, LARGE)]);
  const store = await openVlogStore(dir);
  t.teardown(() => store.close());
  await apply(store, 1, put(...pages), source);
  const chunks: SnapshotChunk[] = [];
  for await (const chunk of store.snapshotReader()) chunks.push(chunk);
  const target = dirs.path('snap-target');
  await PageStore.installSnapshot(
    target,
    (async function* () {
      yield* chunks;
    })(),
  );
  const installed = await openVlogStore(target);
  t.teardown(() => installed.close());
  await readsBack(t, installed, pages, 'in the installed store');
  t.same(names(target, '.wal'), [], 'the receiver files the payloads in its own blob files');
  t.equal(names(target, '.blob').length, 1, 'one blob file');
});

const SHM = '/dev/shm';
const crossDevice = existsSync(SHM) && statSync(SHM).dev !== statSync(dirs.path('')).dev;
const noCrossDevice = crossDevice ? false : `${SHM} is missing or on the temp folder's filesystem: no cross-device link to refuse here`;

t.test('where the link is refused (another filesystem) the payload is appended', { skip: noCrossDevice }, async (t) => {
  const shm = SHM;
  const dir = dirs.path('exdev');
  await mkdir(dir, { recursive: true });
  const segment = join(shm, `kvc-vlog-test-${process.pid}`);
  t.teardown(() => unlink(segment).catch(() => undefined));
  const { pages, source } = await segmentWith(segment, [page(NS, 1, 1, LARGE)]);
  const store = await openVlogStore(dir);
  t.teardown(() => store.close());
  await apply(store, 1, put(...pages), source);
  t.same(names(dir, '.wal'), [], 'no link');
  t.equal(names(dir, '.blob').length, 1, 'the payload went to a blob file');
  t.match(store.blobStats().walLinksRefused, /EXDEV/, 'status says why');
  await readsBack(t, store, pages, 'appended');
});
