// Proves the replicated capacity state of the page store (real LevelDB in a temp dir): set-config
// and set-ns-config change the settings all-or-nothing and refuse bad values and out-of-order
// watermarks with KVC_INVALID_CONFIG; a put over the budget or over its namespace's quota is
// refused; evict and expire count in the replicated counters and the removal record, which is
// bounded (oldest trimmed) and paged; settings, counters, the page index and the record count
// survive a reopen, and two stores fed the same commands have the same digest.
import t from 'tap';
import { PageStore } from '../../src/store/index.js';
import { MIB, items, key, openStore, page, put, tempDirs } from './helpers.js';

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());
const NS = 'cap/a';

t.test('settings: defaults until set, then replicated; bad changes refused whole', async (t) => {
  const store = await openStore(dirs.path('settings'), 64 * MIB);
  t.teardown(() => store.close());
  t.match(store.settings(), { budgetBytes: 64 * MIB, highWatermark: 0.9, lowWatermark: 0.85, evictionGraceMs: 10_000, defaultTtlMs: 0, replicated: false });
  const results = await store.apply(
    items(
      1,
      { op: 'set-config', changes: [['budgetBytes', 128 * MIB], ['evictionGraceMs', 0]] },
      { op: 'set-config', changes: [['highWatermark', 0.8]] }, // below the low watermark 0.85
      { op: 'set-config', changes: [['defaultTtlMs', 5], ['budgetBytes', 1]] }, // budget below one page
      { op: 'set-ns-config', ns: NS, changes: [['quotaBytes', 1.5]] }, // not a whole number of bytes
      { op: 'set-ns-config', ns: NS, changes: [['quotaBytes', 40 * MIB], ['defaultTtlMs', 1000]] },
    ),
  );
  t.same(results.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'KVC_INVALID_CONFIG', 'KVC_INVALID_CONFIG', 'KVC_INVALID_CONFIG', 'ok']);
  t.match(results[1], { message: /lowWatermark \(0\.85\) must be below highWatermark \(0\.8\)/ });
  t.match(store.settings(), { budgetBytes: 128 * MIB, evictionGraceMs: 0, highWatermark: 0.9, defaultTtlMs: 0, replicated: true }, 'only the valid change took');
  t.same(store.namespaceSettings(NS), { quotaBytes: 40 * MIB, defaultTtlMs: 1000 });
  await store.apply(items(6, { op: 'set-ns-config', ns: NS, changes: [['quotaBytes', 0], ['defaultTtlMs', 0]] }));
  t.same(store.namespaces(), [], 'a namespace back at its defaults leaves no record');
});

t.test('budget and quota refusals; evictions and expiries counted and recorded', async (t) => {
  const dir = dirs.path('quota');
  const store = await PageStore.open({ dir, budgetBytes: 48 * MIB, removalRecordEntries: 5 });
  await store.apply(items(1, { op: 'set-ns-config', ns: NS, changes: [['quotaBytes', 32 * MIB]] }));
  const big = (k: number, ns = NS) => page(ns, k, k, 20 * MIB);
  const results = await store.apply(items(2, put(big(1)), put(big(2)), put(big(3, 'cap/b')), put(big(4, 'cap/b'))));
  t.same(results.map((r) => (r.ok ? 'ok' : r.code)), ['ok', 'KVC_QUOTA_EXHAUSTED', 'ok', 'KVC_QUOTA_EXHAUSTED']);
  t.match(results[1], { message: /namespace cap\/a: 20971520 bytes stored \+ 20971520 new > quota 33554432/ });
  t.match(results[3], { message: /41943040 bytes stored \+ 20971520 new > budget 50331648/ });
  const smalls = [10, 11, 12, 13].map((k) => page(NS, k));
  await store.apply(items(6, put(...smalls), { op: 'evict', ns: NS, keys: [key(1), key(10), key(404)] }, { op: 'expire', ns: NS, keys: [key(11)] }, { op: 'delete', ns: NS, keys: [key(12)] }));
  t.match(store.stats(), { evictedPages: 2, evictedBytes: 20 * MIB + 256, expiredPages: 1 });
  t.match(store.namespaces().find((n) => n.ns === NS), { evictedPages: 2, expiredPages: 1, quotaBytes: 32 * MIB });
  let record = await store.removals(0, 100);
  t.same(record.removals.map((r) => [r.index, r.reason]), [[7, 'evicted'], [7, 'evicted'], [8, 'expired'], [9, 'deleted']]);
  await store.apply(items(10, { op: 'drop-ns', ns: 'cap/b' }, { op: 'delete', ns: NS, keys: [key(13)] }));
  record = await store.removals(0, 100);
  t.equal(record.removals.length, 5, 'bounded to 5 records');
  t.equal(record.oldestIndex, 7, 'the oldest was trimmed');
  t.same(record.removals.slice(-2).map((r) => [r.reason, r.ns, r.key?.length ?? 0]), [['namespace-dropped', 'cap/b', 0], ['deleted', NS, 8]]);
  const paged = await store.removals(8, 2);
  t.same(paged.removals.map((r) => r.index), [8, 9]);
  t.ok(paged.more, 'more follow');
  const digest = await store.digest();
  await store.close();
  const reopened = await PageStore.open({ dir, budgetBytes: 48 * MIB, removalRecordEntries: 5 });
  t.teardown(() => reopened.close());
  t.equal(await reopened.digest(), digest);
  t.match(reopened.stats(), { evictedPages: 2, expiredPages: 1, pages: 0 });
  t.same(reopened.namespaceSettings(NS), { quotaBytes: 32 * MIB, defaultTtlMs: 0 });
  await reopened.apply(items(12, { op: 'delete', ns: NS, keys: [key(404)] }, put(page(NS, 20)), { op: 'delete', ns: NS, keys: [key(20)] }));
  t.equal((await reopened.removals(0, 100)).removals.length, 5, 'still bounded after reopening');
  t.equal(reopened.lookup(NS, [key(20)]), 0);
});

t.test('the page index is rebuilt on open: lookups, pins and parents', async (t) => {
  const dir = dirs.path('index');
  const store = await openStore(dir);
  const child = page(NS, 2);
  child.meta.parentKey = key(1);
  await store.apply(items(1, put(page(NS, 1), child), { op: 'pin', ns: NS, keys: [key(1)], ttlMs: 1000, nowMs: 5 }));
  await store.close();
  const reopened = await openStore(dir);
  t.teardown(() => reopened.close());
  t.equal(reopened.lookup(NS, [key(1), key(2), key(3)]), 2);
  const parent = reopened.index.get(NS, key(1))!;
  t.equal(reopened.index.childCount(parent), 1);
  t.equal(reopened.index.pinExpiry(parent), 1005);
  t.equal(reopened.index.parentOf(reopened.index.get(NS, key(2))!), parent);
});
