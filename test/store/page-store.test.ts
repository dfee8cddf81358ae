// Proves the page store's command semantics on a real LevelDB in a temp directory: every command
// type, idempotent puts, refusals (EXISTS_DIFFERENT, budget, checksum, size) that leave nothing of
// the refused command behind, commands seeing earlier commands of the same batch, lookups that
// stop at a hole, namespace drops, pins, stats and appliedIndex that survive a reopen, a batch
// that fails midway writing nothing, corrupt bytes on disk never being served, and replicas fed
// the same commands in different batchings ending byte-identical (same digest).

import t from 'tap';
import { ClassicLevel } from 'classic-level';
import { KvcError } from '../../src/errors.js';
import { PageStore } from '../../src/store/index.js';
import type { Command } from '../../src/codec/index.js';
import { CREATED_AT_MS, LARGE_BUDGET_BYTES, bytesEqual, items, key, openStore, page, put, tempDirs } from './helpers.js';

const NS = 'model-a/v1';
const OTHER_NS = 'model-b';

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

t.test('put, then getPage returns the bytes and metadata', async (t) => {
  const store = await openStore(dirs.path('put'));
  t.teardown(() => store.close());
  const p = page(NS, 1);
  const results = await store.apply(items(1, put(p, page(NS, 2))));
  t.same(results, [{ ok: true }], 'put accepted');
  t.equal(store.appliedIndex(), 1, 'appliedIndex moved');
  const got = await store.getPage(NS, key(1));
  t.ok(got !== undefined && bytesEqual(got.data, p.data), 'payload bytes round-trip');
  t.equal(got?.meta.crc32c, p.meta.crc32c, 'crc32c kept');
  t.same(got?.meta.shape, p.meta.shape, 'shape kept');
  t.equal(got?.meta.createdAtMs, CREATED_AT_MS, 'createdAtMs from the command');
  t.ok(bytesEqual(got?.meta.parentKey, key(0)), 'parentKey kept');
  t.equal(got?.meta.ns, NS, 'ns filled in');
  t.equal(await store.getPage(NS, key(3)), undefined, 'absent page is undefined');
  t.equal(await store.getPage(OTHER_NS, key(1)), undefined, 'same key in another namespace is absent');
  t.match(store.stats(), { pages: 2, bytes: 512, namespaces: { [NS]: { pages: 2, bytes: 512 } } }, 'stats');
});

t.test('a put of the same page is idempotent; a different checksum is EXISTS_DIFFERENT and all-or-nothing', async (t) => {
  const store = await openStore(dirs.path('idempotent'));
  t.teardown(() => store.close());
  await store.apply(items(1, put(page(NS, 1))));
  const before = await store.digest();
  t.same(await store.apply(items(2, put(page(NS, 1)))), [{ ok: true }], 'same page again is ok');
  t.same(store.stats().bytes, 256, 'no bytes added by the repeat');
  const conflict = await store.apply(items(3, put(page(NS, 2), page(NS, 1, 99))));
  t.equal(conflict[0]?.ok, false, 'refused');
  t.match(conflict[0], { code: 'KVC_EXISTS_DIFFERENT', message: /different checksum/ }, 'with EXISTS_DIFFERENT');
  t.equal(await store.getPage(NS, key(2)), undefined, 'the good page of the refused command was not written');
  t.equal(store.appliedIndex(), 3, 'appliedIndex still moves past a refused command');
  const inCommand = await store.apply(items(4, put(page(NS, 5), page(NS, 5, 77))));
  t.match(inCommand[0], { code: 'KVC_EXISTS_DIFFERENT' }, 'a key repeated with another checksum in one put is refused');
  t.equal(await store.getPage(NS, key(5)), undefined, 'and nothing of it written');
  t.same(await store.apply(items(5, put(page(NS, 6), page(NS, 6)))), [{ ok: true }], 'a key repeated identically is fine');
  t.equal(store.stats().namespaces[NS]?.pages, 2, 'counted once');
  t.not(await store.digest(), before, 'digest changed with the new page and index');
});

t.test('a put reads stored metadata only for pages the page index holds: after a reopen, a delete, a drop', async (t) => {
  const dir = dirs.path('held');
  const first = await openStore(dir);
  await first.apply(items(1, put(page(NS, 1), page(NS, 2), page(OTHER_NS, 3))));
  await first.close();
  const store = await openStore(dir);
  t.teardown(() => store.close());
  const [reput] = await store.apply(items(2, put(page(NS, 1, 99))));
  t.match(reput, { code: 'KVC_EXISTS_DIFFERENT' }, 'a page put before the reopen is held (the index is rebuilt): another checksum is refused');
  t.same(await store.apply(items(3, put(page(NS, 1)))), [{ ok: true }], 'and the same page again is idempotent');
  t.equal(store.stats().pages, 3, 'without adding a page');
  await store.apply(items(4, { op: 'delete', ns: NS, keys: [key(2)] }));
  t.same(await store.apply(items(5, put(page(NS, 2, 42)))), [{ ok: true }], 'a deleted page may be put again with other bytes');
  t.equal((await store.getPage(NS, key(2)))?.meta.crc32c, page(NS, 2, 42).meta.crc32c, 'and those are stored');
  await store.apply(items(6, { op: 'drop-ns', ns: OTHER_NS }));
  t.same(await store.apply(items(7, put(page(OTHER_NS, 3, 7)))), [{ ok: true }], 'so may a page of a dropped namespace');
  t.match(store.stats(), { pages: 3, namespaces: { [NS]: { pages: 2 }, [OTHER_NS]: { pages: 1 } } }, 'stats follow');
});

t.test('the budget refuses a whole put and nothing of it is written', async (t) => {
  const store = await openStore(dirs.path('budget'), 1000);
  t.teardown(() => store.close());
  const results = await store.apply(
    items(1, put(page(NS, 1, 1, 400)), put(page(NS, 2, 2, 400), page(NS, 3, 3, 400)), put(page(NS, 4, 4, 600))),
  );
  t.same(results[0], { ok: true }, 'first put fits');
  t.match(results[1], { ok: false, code: 'KVC_QUOTA_EXHAUSTED' }, 'second would pass the budget (it sees the first, same batch)');
  t.same(results[2], { ok: true }, 'third fits after the second was refused');
  t.equal(await store.lookup(NS, [key(2)]), 0, 'no half of the refused put');
  t.equal(store.stats().bytes, 1000, 'exactly at the budget');
  t.same(await store.apply(items(4, put(page(NS, 1, 1, 400)))), [{ ok: true }], 'an idempotent put at a full budget is ok');
  await store.apply(items(5, { op: 'delete', ns: NS, keys: [key(4)] }));
  t.same(await store.apply(items(6, put(page(NS, 7, 7, 600)))), [{ ok: true }], 'a delete frees budget');
});

t.test('a page whose bytes do not match its crc32c or size is refused', async (t) => {
  const store = await openStore(dirs.path('checksum'));
  t.teardown(() => store.close());
  const bad = page(NS, 2);
  bad.meta.crc32c = (bad.meta.crc32c + 1) >>> 0;
  const short = page(NS, 3);
  short.meta.bytes = 100;
  const results = await store.apply(items(1, put(page(NS, 1), bad), put(short)));
  t.match(results[0], { ok: false, code: 'KVC_CHECKSUM_MISMATCH' }, 'bad checksum refused');
  t.match(results[1], { ok: false, code: 'KVC_SHAPE_MISMATCH' }, 'payload size disagreeing with meta.bytes refused');
  t.equal(await store.lookup(NS, [key(1)]), 0, 'the good page of the refused command was not written');
  t.equal(store.stats().pages, 0, 'nothing counted');
});

t.test('delete, evict, noop and null items; later commands in a batch see earlier ones', async (t) => {
  const store = await openStore(dirs.path('delete'));
  t.teardown(() => store.close());
  const del = (...ks: number[]): Command => ({ op: 'delete', ns: NS, keys: ks.map(key) });
  const results = await store.apply(
    items(1, put(page(NS, 1), page(NS, 2), page(NS, 3)), del(2, 2, 9), null, { op: 'noop' }, put(page(NS, 2, 42))),
  );
  t.same(results, [{ ok: true }, { ok: true }, { ok: true }, { ok: true }, { ok: true }], 'all ok; a missing key is fine');
  t.equal((await store.getPage(NS, key(2)))?.meta.crc32c, page(NS, 2, 42).meta.crc32c, 're-put after delete in one batch');
  t.equal(store.stats().pages, 3, 'a repeated key in a delete is counted once');
  await store.apply(items(6, { op: 'evict', ns: NS, keys: [key(1), key(3)] }, null));
  t.equal(store.appliedIndex(), 7, 'a null item moves appliedIndex');
  t.equal(await store.getPage(NS, key(1)), undefined, 'evicted');
  t.match(store.stats(), { pages: 1, bytes: 256, namespaces: { [NS]: { pages: 1, bytes: 256 } } }, 'stats follow');
  await store.apply(items(8, del(2)));
  t.match(store.stats(), { pages: 0, bytes: 0, namespaces: {} }, 'an emptied namespace disappears from stats');
});

t.test('pin and unpin keep expiries computed from the command time', async (t) => {
  const store = await openStore(dirs.path('pin'));
  t.teardown(() => store.close());
  const pin = (ks: number[], ttlMs: number, nowMs: number): Command => ({ op: 'pin', ns: NS, keys: ks.map(key), ttlMs, nowMs });
  await store.apply(items(1, pin([1, 2], 1000, 5000), pin([2, 3], 100, 5000), pin([3, 3], 50, 6000)));
  t.same(await store.pinExpiries(NS, [key(1), key(2), key(3), key(4)]), [6000, 6000, 6050, undefined], 'latest expiry wins');
  t.same(await store.pinExpiries(OTHER_NS, [key(1)]), [undefined], 'pins are per namespace');
  await store.apply(items(4, { op: 'unpin', ns: NS, keys: [key(1), key(9)] }));
  t.same(await store.pinExpiries(NS, [key(1), key(2)]), [undefined, 6000], 'unpinned; unknown keys are fine');
  t.same(store.stats().pages, 0, 'pins are not pages');
});

t.test('drop-ns removes every page and pin of one namespace only', async (t) => {
  const store = await openStore(dirs.path('drop'));
  t.teardown(() => store.close());
  const pages = Array.from({ length: 50 }, (_, i) => page(NS, i));
  await store.apply(items(1, put(...pages), put(page(OTHER_NS, 1)), put(page(`${NS}x`, 1))));
  await store.apply(items(4, { op: 'pin', ns: NS, keys: [key(1)], ttlMs: 10, nowMs: 1 }, put(page(NS, 100))));
  const results = await store.apply(items(6, { op: 'drop-ns', ns: NS }, put(page(NS, 7, 70))));
  t.same(results, [{ ok: true }, { ok: true }], 'ok');
  t.equal(await store.lookup(NS, [key(0)]), 0, 'pages from earlier batches gone');
  t.equal(await store.getPage(NS, key(100)), undefined, 'page from the previous batch gone');
  t.equal((await store.getPage(NS, key(7)))?.meta.crc32c, page(NS, 7, 70).meta.crc32c, 'a put after the drop survives');
  t.same(await store.pinExpiries(NS, [key(1)]), [undefined], 'pins gone');
  t.equal(await store.lookup(OTHER_NS, [key(1)]), 1, 'other namespace untouched');
  t.equal(await store.lookup(`${NS}x`, [key(1)]), 1, 'a namespace sharing the prefix is untouched');
  t.same(store.stats().namespaces[NS], { pages: 1, bytes: 256 }, 'stats of the dropped namespace restart');
  t.equal(store.stats().pages, 3, 'total pages');
  await store.apply(items(8, put(page(NS, 8)), { op: 'drop-ns', ns: NS }));
  t.equal(await store.lookup(NS, [key(8)]), 0, 'a drop removes a page put earlier in the same batch');
  t.same(Object.keys(store.stats().namespaces), [`${NS}x`, OTHER_NS], 'dropped namespace gone from stats');
});

t.test('lookup counts the leading present keys and stops at a hole', async (t) => {
  const store = await openStore(dirs.path('lookup'));
  t.teardown(() => store.close());
  const count = 600; // More than one hasMany batch.
  await store.apply(items(1, put(...Array.from({ length: count }, (_, i) => page(NS, i, i, 16)))));
  const keys = Array.from({ length: count + 5 }, (_, i) => key(i));
  t.equal(await store.lookup(NS, keys), count, 'all present keys, then the absent tail');
  t.equal(await store.lookup(NS, keys.slice(0, 300)), 300, 'all present');
  t.equal(await store.lookup(NS, []), 0, 'no keys');
  await store.apply(items(2, { op: 'delete', ns: NS, keys: [key(3), key(400)] }));
  t.equal(await store.lookup(NS, keys), 3, 'stops at the first hole');
  t.equal(await store.lookup(NS, keys.slice(4)), 396, 'stops at a hole in a later batch of keys');
});

t.test('appliedIndex, data and stats survive a reopen; applied items are skipped', async (t) => {
  const dir = dirs.path('reopen');
  const first = await openStore(dir);
  await first.apply(items(1, put(page(NS, 1), page(NS, 2)), put(page(OTHER_NS, 1, 1, 1024)), null));
  const stats = first.stats();
  const digest = await first.digest();
  await first.close();
  const store = await openStore(dir);
  t.teardown(() => store.close());
  t.equal(store.appliedIndex(), 3, 'appliedIndex read back');
  t.same(store.stats(), stats, 'stats read back');
  t.equal(await store.digest(), digest, 'same contents');
  const again = await store.apply(items(2, put(page(NS, 8)), put(page(NS, 9)), put(page(NS, 10))));
  t.same(again, [{ ok: true }, { ok: true }, { ok: true }], 'items at or below appliedIndex answer ok');
  t.equal(await store.lookup(NS, [key(8), key(9)]), 0, 'and are not applied again');
  t.equal(await store.lookup(NS, [key(10)]), 1, 'the item after appliedIndex is applied');
  t.equal(store.appliedIndex(), 4, 'appliedIndex moves to the last new item');
});

t.test('a batch that fails midway writes nothing', async (t) => {
  const store = await openStore(dirs.path('atomic'));
  t.teardown(() => store.close());
  await store.apply(items(1, put(page(NS, 1))));
  const digest = await store.digest();
  const broken = [...items(2, put(page(NS, 2))), ...items(2, put(page(NS, 3)))];
  await t.rejects(store.apply(broken), { code: 'ERR_ASSERTION' }, 'an index out of order is a bug');
  t.equal(store.appliedIndex(), 1, 'appliedIndex unchanged');
  t.equal(await store.digest(), digest, 'the first command of the failed batch was not written');
  t.same(await store.apply(items(2, put(page(NS, 2)))), [{ ok: true }], 'the store still works');
});

t.test('corrupt bytes on disk are never served', async (t) => {
  const dir = dirs.path('corrupt');
  const store = await openStore(dir);
  await store.apply(items(1, put(page(NS, 1), page(NS, 2))));
  await store.close();
  // Damage one payload behind the store's back, through LevelDB itself.
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  const payloadKey = Buffer.concat([Buffer.from(`p${NS}\0`), key(2)]);
  const value = await raw.get(payloadKey);
  t.ok(value !== undefined, 'payload record found under the documented key');
  const damaged = new Uint8Array(value!);
  damaged[10] = (damaged[10]! ^ 0x01) & 0xff;
  await raw.put(payloadKey, damaged);
  await raw.close();
  const reopened = await openStore(dir);
  t.teardown(() => reopened.close());
  await t.rejects(reopened.getPage(NS, key(2)), new KvcError('KVC_CHECKSUM_MISMATCH'), 'damaged page throws');
  await t.rejects(reopened.getPage(NS, key(2)), { code: 'KVC_CHECKSUM_MISMATCH' }, 'with the code');
  t.ok((await reopened.getPage(NS, key(1))) !== undefined, 'an intact page is still served');
});

t.test('replicas fed the same commands in different batchings are byte-identical', async (t) => {
  const commands: Command[] = [];
  for (let i = 0; i < 40; i++) {
    commands.push(put(page(NS, i), page(OTHER_NS, i, i + 1000, 64)));
    if (i % 7 === 3) commands.push({ op: 'delete', ns: NS, keys: [key(i - 1), key(i)] });
    if (i % 11 === 5) commands.push({ op: 'pin', ns: OTHER_NS, keys: [key(i)], ttlMs: 100, nowMs: i });
    if (i === 20) commands.push({ op: 'drop-ns', ns: OTHER_NS });
    if (i % 13 === 0) commands.push({ op: 'unpin', ns: OTHER_NS, keys: [key(i - 8)] });
    if (i % 9 === 0) commands.push(put(page(NS, i, 999)));
  }
  const all = items(1, ...commands);
  const digests: string[] = [];
  const resultSets: unknown[] = [];
  for (const batchSize of [1, 5, all.length]) {
    const store = await PageStore.open({ dir: dirs.path(`replica-${batchSize}`), budgetBytes: 12_000, sync: false });
    const results = [];
    for (let i = 0; i < all.length; i += batchSize) results.push(...(await store.apply(all.slice(i, i + batchSize))));
    digests.push(await store.digest());
    resultSets.push(results);
    t.equal(store.appliedIndex(), all.length, `batches of ${batchSize}: all applied`);
    await store.close();
  }
  t.ok(resultSets.flat().some((r) => !(r as { ok: boolean }).ok), 'the budget refused some puts along the way');
  t.equal(new Set(digests).size, 1, 'one digest for all batchings');
  t.same(resultSets[1], resultSets[0], 'same results');
  t.same(resultSets[2], resultSets[0], 'same results');
});

t.test('unsynced applies followed by flush() are all there after reopen, in order with later applies', async (t) => {
  const dir = dirs.path('flush');
  const store = await PageStore.open({ dir, budgetBytes: LARGE_BUDGET_BYTES, sync: false });
  const applying = store.apply(items(1, put(page(NS, 1)), put(page(NS, 2))));
  const flushed = store.flush();
  const later = store.apply(items(3, put(page(NS, 3))));
  await Promise.all([applying, flushed, later]);
  await store.close();
  const reopened = await openStore(dir);
  t.teardown(() => reopened.close());
  t.equal(reopened.appliedIndex(), 3, 'applied index of the last batch');
  t.equal(await reopened.lookup(NS, [key(1), key(2), key(3)]), 3, 'every page present');
});
