// Proves the memory tier inside the page store, on a real LevelDB in a temp directory and an
// arena of plain ArrayBuffers (the pinned allocator is tested with the member): a miss reads
// LevelDB and promotes, the next read is a hit with identical bytes; hit ratio counting; LRU order
// across reads; pages too large for the arena and misses with every slot held are served from
// LevelDB without caching and without error; a deleted, evicted or dropped page is never served
// from the tier, not even by a miss that read LevelDB before the delete was applied; clear()
// (what a snapshot install calls) empties it; a corrupt cached copy is dropped and the page read
// from LevelDB instead; arenaBytes 0 (disabled) serves everything from LevelDB; close() gives the
// memory back only once the last lease is released. A seeded random run of puts, deletes, drops,
// reads and held leases on a small arena checks that every read returns what LevelDB holds at
// that moment and that held bytes never change. And the pinned allocator (src/native through
// pinned-memory.ts): whole slabs per region, on this machine's node, released (detached) by
// close; an arena below one slab is none; a NUMA node that does not exist is refused.
import t, { type Test } from 'tap';
import { MemoryTier, PageStore, SLAB_BYTES_DEFAULT, openMemoryTier, pinnedArenaMemory, type ArenaMemory, type PageLease } from '../../src/store/index.js';
import { prng } from '../codec/prng.js';
import { LARGE_BUDGET_BYTES, bytesEqual, items, key, page, put, tempDirs } from './helpers.js';

const NS = 'model-a/v1';
const KIB = 1024;
const SLAB_BYTES = 64 * KIB;

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

/** Plain ArrayBuffer memory; `released` tells whether the tier gave it back. */
function plainMemory(bytes: number): ArenaMemory & { released: boolean } {
  const memory = {
    regions: bytes === 0 ? [] : [{ buffer: new ArrayBuffer(bytes), bytes, numaNode: null, mlocked: false, hugePageAligned: false, cudaRegistered: false, note: 'plain memory' }],
    released: false,
    release(): void {
      memory.released = true;
    },
  };
  return memory;
}

let storeCount = 0;
async function storeWithTier(t: Test, arenaBytes = 8 * SLAB_BYTES): Promise<{ store: PageStore; tier: MemoryTier; memory: ReturnType<typeof plainMemory> }> {
  const memory = plainMemory(arenaBytes);
  const tier = new MemoryTier({ memory, slabBytes: SLAB_BYTES, slotBytesMin: 4 * KIB });
  const store = await PageStore.open({ dir: dirs.path(`s${storeCount++}`), budgetBytes: LARGE_BUDGET_BYTES, sync: false, tier });
  t.teardown(async () => {
    await store.close();
    tier.close();
  });
  return { store, tier, memory };
}

async function read(store: PageStore, k: number): Promise<{ lease: PageLease; bytes: Uint8Array }> {
  const lease = await store.readPage(NS, key(k));
  if (lease === undefined) throw new Error(`page ${k} absent`);
  return { lease, bytes: Uint8Array.from(lease.data) };
}

t.test('a miss promotes, the next read is a hit with the same bytes; the ratio counts both', async (t) => {
  const { store, tier } = await storeWithTier(t);
  const p = page(NS, 1, 1, 16 * KIB);
  await store.apply(items(1, put(p)));
  const first = await read(store, 1);
  t.equal(first.lease.fromTier, true, 'the miss was promoted and is served from the arena');
  t.ok(bytesEqual(first.bytes, p.data), 'bytes of the miss');
  first.lease.release();
  first.lease.release();
  const second = await read(store, 1);
  t.ok(bytesEqual(second.bytes, p.data), 'bytes of the hit');
  t.same(second.lease.meta.crc32c, p.meta.crc32c, 'meta of the hit');
  second.lease.release();
  t.equal(await store.readPage(NS, key(9)), undefined, 'an absent page is undefined and not counted');
  await store.apply(items(2, put(page(NS, 2, 2, 16 * KIB))));
  const both = await Promise.all([store.readPage(NS, key(2)), store.readPage(NS, key(2))]);
  t.ok(both.every((lease) => lease?.fromTier === true), 'two misses of one page at once: both from the arena');
  t.equal(both[0]?.data.byteOffset, both[1]?.data.byteOffset, 'the second found the first one\'s copy');
  both.forEach((lease) => lease?.release());
  t.match(tier.stats(), { hits: 1, misses: 3, promotions: 2, cachedPages: 2, cachedBytes: 32 * KIB, usedBytes: 32 * KIB, leasesHeld: 0, enabled: true, arenaBytes: 8 * SLAB_BYTES });
  t.equal(tier.stats().hitRatio, 0.25, 'hit ratio = hits / (hits + misses)');
  (await store.readPage(NS, key(2), true, false))!.release();
  await store.apply(items(3, put(page(NS, 3, 3, 16 * KIB))));
  (await store.readPage(NS, key(3), true, false))!.release();
  t.match(tier.stats(), { hits: 1, misses: 3, promotions: 3 }, 'a read made again (count false) counts neither its hit nor its miss');
  tier.checkInvariants();
});

t.test('least recently read pages leave first', async (t) => {
  // One slab of four 16 KiB slots for this class.
  const { store, tier } = await storeWithTier(t, SLAB_BYTES);
  const pages = [1, 2, 3, 4, 5].map((k) => page(NS, k, k, 16 * KIB));
  await store.apply(items(1, put(...pages)));
  for (const k of [1, 2, 3, 4, 1]) (await read(store, k)).lease.release();
  (await read(store, 5)).lease.release(); // evicts 2: 1 was read again
  t.equal(tier.stats().evictions, 1);
  const before = tier.stats().hits;
  for (const k of [1, 3, 4, 5]) (await read(store, k)).lease.release();
  t.equal(tier.stats().hits, before + 4, '1, 3, 4 and 5 are cached');
  (await read(store, 2)).lease.release();
  t.equal(tier.stats().misses, 6, 'and 2 was the one evicted (a miss again)');
  tier.checkInvariants();
});

t.test('too large, or every slot held: served from LevelDB, not cached, no error', async (t) => {
  const { store, tier } = await storeWithTier(t, SLAB_BYTES);
  const big = page(NS, 1, 1, 2 * SLAB_BYTES);
  const slabPages = [2, 3].map((k) => page(NS, k, k, SLAB_BYTES));
  await store.apply(items(1, put(big, ...slabPages)));
  const huge = await read(store, 1);
  t.equal(huge.lease.fromTier, false, 'a page larger than the arena can cache comes from LevelDB');
  t.ok(bytesEqual(huge.bytes, big.data), 'with its bytes');
  const held = await read(store, 2);
  t.equal(held.lease.fromTier, true, 'page 2 fills the only slab');
  const other = await read(store, 3);
  t.equal(other.lease.fromTier, false, 'page 3 finds every slot held: served from LevelDB');
  t.ok(bytesEqual(other.bytes, slabPages[1]!.data), 'with its bytes');
  t.ok(bytesEqual(held.lease.data, slabPages[0]!.data), 'the held page is untouched');
  held.lease.release();
  const again = await read(store, 3);
  t.equal(again.lease.fromTier, true, 'once released, the slot is reused');
  again.lease.release();
  t.match(tier.stats(), { promotionsSkipped: 2, evictions: 1 });
  tier.checkInvariants();
});

t.test('a deleted, evicted or dropped page is never served from the tier', async (t) => {
  const { store, tier } = await storeWithTier(t);
  await store.apply(items(1, put(page(NS, 1), page(NS, 2), page(NS, 3), page('other', 4))));
  for (const k of [1, 2, 3]) (await read(store, k)).lease.release();
  (await store.readPage('other', key(4)))!.release();
  const held = await read(store, 1);
  await store.apply(items(2, { op: 'delete', ns: NS, keys: [key(1)] }, { op: 'evict', ns: NS, keys: [key(2)] }));
  t.equal(await store.readPage(NS, key(1)), undefined, 'deleted: absent, although its slot is still held');
  t.equal(await store.readPage(NS, key(2)), undefined, 'evicted: absent');
  t.ok(bytesEqual(held.lease.data, held.bytes), 'the held lease still reads its bytes');
  held.lease.release();
  await store.apply(items(4, { op: 'drop-ns', ns: NS }));
  t.equal(await store.readPage(NS, key(3)), undefined, 'dropped namespace: absent');
  t.ok(await store.readPage('other', key(4)), 'another namespace keeps its pages');
  // A page put again under a deleted key with other bytes is served with the new bytes.
  const renewed = page(NS, 1, 77);
  await store.apply(items(5, put(renewed)));
  t.ok(bytesEqual((await read(store, 1)).bytes, renewed.data), 'the new bytes, not a stale copy');
  t.equal(tier.stats().invalidations, 3, 'three cached copies invalidated');
  tier.checkInvariants();
});

t.test('a miss that read LevelDB before a delete was applied is not promoted', async (t) => {
  const { store, tier } = await storeWithTier(t);
  const old = page(NS, 1, 1);
  await store.apply(items(1, put(old)));
  // Start the read, let its LevelDB get run, and apply the delete and a new put of the key before
  // the read finishes: the read's old bytes must not become the cached copy.
  const ticket = tier.startMiss(NS, key(1));
  const fromLevel = (await store.getPage(NS, key(1)))!;
  const renewed = page(NS, 1, 99);
  await store.apply(items(2, { op: 'delete', ns: NS, keys: [key(1)] }, put(renewed)));
  const lease = tier.finishMiss(ticket, fromLevel.meta, fromLevel.data);
  t.equal(lease.fromTier, false, 'served from what it read, not promoted');
  lease.release();
  const after = await read(store, 1);
  t.ok(bytesEqual(after.bytes, renewed.data), 'the next read sees the new page');
  after.lease.release();
  // The same race with readPage itself: its get is in flight while the delete is applied.
  const racing = store.readPage(NS, key(1));
  await store.apply(items(4, { op: 'delete', ns: NS, keys: [key(1)] }));
  const raced = await racing;
  raced?.release();
  t.equal(await store.readPage(NS, key(1)), undefined, 'whatever the racing read saw, the page is gone for the next');
  // A namespace drop and a clear() make misses in flight stale too.
  let next = 5;
  const changes: [string, () => Promise<unknown>][] = [
    ['drop', () => store.apply(items(next++, { op: 'drop-ns', ns: NS }))],
    ['clear', async () => tier.clear()],
  ];
  for (const [what, change] of changes) {
    await store.apply(items(next++, put(page(NS, 2))));
    const stale = tier.startMiss(NS, key(2));
    const bytes = (await store.getPage(NS, key(2)))!;
    await change();
    t.equal(tier.finishMiss(stale, bytes.meta, bytes.data).fromTier, false, `a miss in flight across a ${what} is not promoted`);
  }
  await store.apply(items(next++, { op: 'drop-ns', ns: NS }));
  t.equal(tier.stats().cachedPages, 0, 'and nothing of it is cached');
  tier.checkInvariants();
});

t.test('clear() drops every cached page; a held one is freed at its release', async (t) => {
  const { store, tier } = await storeWithTier(t);
  await store.apply(items(1, put(page(NS, 1), page(NS, 2))));
  (await read(store, 1)).lease.release();
  const held = await read(store, 2);
  tier.clear();
  t.match(tier.stats(), { cachedPages: 0, leasesHeld: 1 });
  t.ok(bytesEqual(held.lease.data, held.bytes), 'the held bytes are intact');
  held.lease.release();
  t.equal((await read(store, 1)).lease.fromTier, true, 'reads promote again');
  t.equal(tier.stats().misses, 3, 'as misses');
  tier.checkInvariants();
});

t.test('a corrupt cached copy is dropped and the page read from LevelDB', async (t) => {
  const { store, tier } = await storeWithTier(t);
  const p = page(NS, 1);
  await store.apply(items(1, put(p)));
  const first = await read(store, 1);
  (first.lease.data as Uint8Array)[0]! ^= 0xff; // what a stray write into the arena would do
  first.lease.release();
  const second = await read(store, 1);
  t.ok(bytesEqual(second.bytes, p.data), 'the good bytes, from LevelDB');
  t.match(tier.stats(), { corruptHits: 1, hits: 0, misses: 2 });
  second.lease.release();
  tier.checkInvariants();
});

t.test('arenaBytes 0: every read comes from LevelDB', async (t) => {
  const { store, tier } = await storeWithTier(t, 0);
  await store.apply(items(1, put(page(NS, 1))));
  for (let i = 0; i < 3; i++) {
    const { lease } = await read(store, 1);
    t.equal(lease.fromTier, false);
    lease.release();
  }
  t.match(tier.stats(), { enabled: false, arenaBytes: 0, hits: 0, misses: 3, hitRatio: 0, cachedPages: 0 });
  const plain = await PageStore.open({ dir: dirs.path('no-tier'), budgetBytes: LARGE_BUDGET_BYTES });
  t.teardown(() => plain.close());
  await plain.apply(items(1, put(page(NS, 1))));
  t.equal((await plain.readPage(NS, key(1)))?.fromTier, false, 'a store opened without a tier reads LevelDB');
});

t.test('close() gives the memory back when the last lease is released', async (t) => {
  const { store, tier, memory } = await storeWithTier(t);
  await store.apply(items(1, put(page(NS, 1))));
  const held = await read(store, 1);
  tier.close();
  t.equal(memory.released, false, 'a GetPages stream may still send from the slot');
  t.ok(bytesEqual(held.lease.data, held.bytes), 'its bytes are intact');
  t.equal((await read(store, 1)).lease.fromTier, false, 'reads after close go to LevelDB');
  held.lease.release();
  t.equal(memory.released, true, 'released with the last lease');
  tier.close();
});

t.test('pinned memory: whole slabs on this machine\'s node, released by close', async (t) => {
  const memory = pinnedArenaMemory({ arenaBytes: 2 * SLAB_BYTES_DEFAULT + 12345, slabBytes: SLAB_BYTES_DEFAULT });
  t.equal(memory.regions.length, 1, 'one region per node (this machine has one)');
  t.equal(memory.regions[0]!.buffer.byteLength, 2 * SLAB_BYTES_DEFAULT, 'a whole number of slabs');
  t.equal(memory.regions[0]!.numaNode, 0, 'on node 0');
  const tier = new MemoryTier({ memory });
  t.match(tier.stats(), { enabled: true, arenaBytes: 2 * SLAB_BYTES_DEFAULT, numaNodes: [0] });
  tier.close();
  t.equal(memory.regions[0]!.buffer.byteLength, 0, 'closing the tier freed (detached) the region');
  t.same(pinnedArenaMemory({ arenaBytes: SLAB_BYTES_DEFAULT - 1, slabBytes: SLAB_BYTES_DEFAULT }).regions, [], 'below one slab: no arena');
  t.throws(() => pinnedArenaMemory({ arenaBytes: SLAB_BYTES_DEFAULT, numaNode: 4095, slabBytes: SLAB_BYTES_DEFAULT }), /numaNode 4095 is not a NUMA node/);
  t.equal(openMemoryTier({ arenaBytes: 0 }).enabled, false, 'arenaBytes 0: a disabled tier');
  const pinned = openMemoryTier({ arenaBytes: SLAB_BYTES_DEFAULT, numaNode: 0 });
  t.match(pinned.stats(), { enabled: true, arenaBytes: SLAB_BYTES_DEFAULT, numaNodes: [0] }, 'all on the node asked for');
  pinned.close();
});

t.test('randomized: reads always match LevelDB, held bytes never change', async (t) => {
  // 8 slabs of 64 KiB for 24 keys of 1-80 KiB: less than the pages, so pages come and go.
  const { store, tier } = await storeWithTier(t, 8 * SLAB_BYTES);
  const random = prng(0x5eed);
  const model = new Map<number, Uint8Array>(); // key -> bytes LevelDB holds
  const held: { k: number; lease: PageLease; bytes: Uint8Array }[] = [];
  let index = 1;
  let seed = 1000;
  for (let step = 0; step < 600; step++) {
    const roll = random() % 100;
    const k = random() % 24;
    if (roll < 30) {
      if (model.has(k)) continue;
      const p = page(NS, k, seed++, 1024 * (1 + (random() % 80)));
      await store.apply(items(index++, put(p)));
      model.set(k, p.data);
    } else if (roll < 38) {
      await store.apply(items(index++, { op: random() % 2 === 0 ? 'delete' : 'evict', ns: NS, keys: [key(k)] }));
      model.delete(k);
    } else if (roll < 39) {
      await store.apply(items(index++, { op: 'drop-ns', ns: NS }));
      model.clear();
    } else if (roll < 80) {
      const lease = await store.readPage(NS, key(k));
      const expected = model.get(k);
      if (expected === undefined) {
        t.equal(lease, undefined, `step ${step}: page ${k} is gone`);
        continue;
      }
      if (!lease || !bytesEqual(lease.data, expected)) throw new Error(`step ${step}: page ${k} read wrong bytes`);
      if (random() % 2 === 0) held.push({ k, lease, bytes: Uint8Array.from(lease.data) });
      else lease.release();
    } else if (held.length > 0) {
      const [entry] = held.splice(random() % held.length, 1);
      if (!bytesEqual(entry!.lease.data, entry!.bytes)) throw new Error(`step ${step}: held page ${entry!.k} changed`);
      entry!.lease.release();
    }
    tier.checkInvariants();
  }
  for (const entry of held) {
    t.ok(bytesEqual(entry.lease.data, entry.bytes), `page ${entry.k}: held bytes unchanged`);
    entry.lease.release();
  }
  const stats = tier.stats();
  t.ok(stats.hits > 30 && stats.evictions > 10 && stats.invalidations > 10 && stats.promotionsSkipped > 0, JSON.stringify(stats));
  t.equal(stats.leasesHeld, 0);
});
