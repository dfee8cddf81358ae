// Proves the eviction planner's order on hand-built page indexes (the planner is pure, so the
// clock, settings and in-flight state are arguments): leaves before interior pages, least
// recently used first (the later of creation and last access; within one millisecond, the order
// of the uses), a parent only after all of its children, never a pinned, leased or in-grace page
// (each counted in heldBack), pages already leaving treated as gone, parents of puts in flight
// kept, namespace scope, and the plan's bounds.
import t from 'tap';
import { PageIndex, latin1, nextUseSeq, pageId, planEviction, type IndexedPage } from '../../src/store/index.js';

const NOW = 1_000_000;

function key(n: number): Uint8Array {
  return Uint8Array.of(0, 0, 0, 0, 0, 0, 0, n);
}

/** Adds page `n` of `ns` with `parent`, created at `createdAtMs`, of `bytes`. */
function add(index: PageIndex, n: number, o: { parent?: number; createdAtMs?: number; bytes?: number; ns?: string } = {}): void {
  index.apply({
    kind: 'put',
    ns: o.ns ?? 'a',
    key: key(n),
    meta: {
      dtype: 'u8',
      shape: [o.bytes ?? 100],
      tokens: 1,
      bytes: o.bytes ?? 100,
      crc32c: 0,
      createdAtMs: o.createdAtMs ?? n,
      ...(o.parent === undefined ? {} : { parentKey: key(o.parent) }),
    },
  });
}

function plan(index: PageIndex, needBytes: number, o: Partial<Parameters<typeof planEviction>[0]> = {}) {
  return planEviction({
    index,
    nowMs: NOW,
    graceMs: 10_000,
    needBytes,
    leaving: new Map(),
    incomingParents: new Set(),
    keysMax: 1000,
    bytesMax: 1 << 30,
    ...o,
  });
}

const names = (pages: IndexedPage[]): number[] => pages.map((p) => Buffer.from(p.keyId, 'latin1')[7]!);

t.test('leaves first, least recently used first; a parent once its children are gone', async (t) => {
  const index = new PageIndex();
  // Chain 1 -> 2 -> 3 (old), chain 10 -> 11 (newer), and a lone page 20 (newest).
  add(index, 1);
  add(index, 2, { parent: 1 });
  add(index, 3, { parent: 2 });
  add(index, 10);
  add(index, 11, { parent: 10 });
  add(index, 20);
  t.same(names(plan(index, 100).victims), [3], 'the oldest leaf');
  t.same(names(plan(index, 300).victims), [3, 2, 1], 'a chain from its tail, parents as they become leaves');
  t.same(names(plan(index, 600).victims), [3, 2, 1, 11, 10, 20], 'everything, in order');
  // An access makes a page recent: chain 1's tail was read.
  index.get('a', key(3))!.accessedAtMs = NOW - 60_000;
  t.same(names(plan(index, 200).victims), [11, 10], 'the recently read chain goes last');
});

t.test('pages last used in the same millisecond go in the order they were used, not by key', async (t) => {
  const index = new PageIndex();
  // Three lone pages created in one millisecond, in the order 3, 1, 2: the first made goes first.
  for (const n of [3, 1, 2]) add(index, n, { createdAtMs: 500 });
  t.same(names(plan(index, 300).victims), [3, 1, 2], 'creation order');
  // Page 3 is read in the millisecond the others were made (a fast lookup after a put): now it is the newest.
  const three = index.get('a', key(3))!;
  three.accessedAtMs = 500;
  three.usedSeq = nextUseSeq();
  t.same(names(plan(index, 300).victims), [1, 2, 3], 'the page used last goes last');
  // A later millisecond still wins over any order within an earlier one.
  index.get('a', key(1))!.accessedAtMs = 501;
  t.same(names(plan(index, 300).victims), [2, 3, 1], 'milliseconds first');
});

t.test('pinned, leased and in-grace pages are never chosen and are counted', async (t) => {
  const index = new PageIndex();
  add(index, 1);
  add(index, 2, { parent: 1 });
  add(index, 3);
  add(index, 4);
  add(index, 5);
  index.apply({ kind: 'pin', ns: 'a', key: key(2), expiresAtMs: NOW + 1 });
  index.get('a', key(3))!.leaseUntilMs = NOW + 1;
  index.get('a', key(4))!.accessedAtMs = NOW - 9_999;
  const p = plan(index, 10_000);
  t.same(names(p.victims), [5], 'only the unprotected page');
  t.same(p.heldBack, { pinned: 1, leased: 1, grace: 1 });
  t.notOk(names(p.victims).includes(1), 'the parent of a pinned page stays: it is not a leaf');
  // Expired protections no longer hold.
  index.apply({ kind: 'pin', ns: 'a', key: key(2), expiresAtMs: NOW });
  index.get('a', key(3))!.leaseUntilMs = NOW;
  index.get('a', key(4))!.accessedAtMs = NOW - 10_000;
  t.same(names(plan(index, 10_000).victims).sort(), [1, 2, 3, 4, 5]);
  index.apply({ kind: 'unpin', ns: 'a', key: key(2) });
  t.equal(index.pinExpiry(index.get('a', key(2))!), 0, 'unpinned');
});

t.test('pages leaving count as gone; parents of puts in flight are kept', async (t) => {
  const index = new PageIndex();
  add(index, 1);
  add(index, 2, { parent: 1 });
  add(index, 3);
  const leaving = new Map([[pageId('a', Buffer.from(key(2)).toString('latin1')), index.get('a', key(2))!]]);
  t.same(names(plan(index, 100, { leaving }).victims), [1], 'with its child leaving, the parent is a leaf');
  const incomingParents = new Set([pageId('a', Buffer.from(key(3)).toString('latin1'))]);
  t.same(names(plan(index, 300, { incomingParents }).victims), [2, 1], 'page 3 is about to get a child');
});

t.test('namespace scope and bounds', async (t) => {
  const index = new PageIndex();
  add(index, 1, { ns: 'a' });
  add(index, 2, { ns: 'b' });
  add(index, 3, { ns: 'b' });
  add(index, 4, { ns: 'a' });
  t.same(names(plan(index, 1000, { ns: 'b' }).victims), [2, 3], 'only the namespace asked for');
  t.same(names(plan(index, 1000, { keysMax: 2 }).victims), [1, 2], 'at most keysMax');
  t.same(names(plan(index, 1000, { bytesMax: 150 }).victims), [1, 2], 'stops once past bytesMax');
  t.equal(plan(index, 0).victims.length, 0, 'nothing needed, nothing chosen');
  const empty = new PageIndex();
  t.same(plan(empty, 100), { victims: [], bytes: 0, heldBack: { pinned: 0, leased: 0, grace: 0 } });
});

t.test('the index keeps child counts and drops namespaces', async (t) => {
  const index = new PageIndex();
  add(index, 1);
  add(index, 2, { parent: 1 });
  add(index, 2, { parent: 1 }); // Applied twice (replay): counted once.
  add(index, 3, { parent: 1 });
  t.equal(index.pages, 3);
  t.equal(index.childCount(index.get('a', key(1))!), 2);
  index.apply({ kind: 'remove', ns: 'a', key: key(2) });
  t.equal(index.childCount(index.get('a', key(1))!), 1);
  index.apply({ kind: 'remove', ns: 'a', key: key(99) });
  t.equal(index.pages, 2, 'removing an absent page changes nothing');
  index.apply({ kind: 'pin', ns: 'a', key: key(1), expiresAtMs: 5 });
  add(index, 7, { ns: 'b' });
  index.apply({ kind: 'drop', ns: 'a' });
  t.equal(index.pages, 1);
  t.same(index.namespaceNames(), ['b']);
  t.equal(index.matchedPages('a', [key(1)]).length, 0);
  t.same(index.matchedPages('b', [key(7), key(8)]).map((page) => page.keyId), [latin1(key(7))], 'the matched prefix\'s pages');
  index.clear();
  t.equal(index.pages, 0);
});
