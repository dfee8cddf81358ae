// Proves that a store travels as a snapshot stream and arrives intact: the stream of a real
// LevelDB store is installed into another directory (empty, missing, or holding older state) and
// the result has the same digest; a 3 MiB value crosses chunk boundaries; the stream is one
// consistent state even while applies go on. It also proves that a failed transfer (the source
// throws midway, a chunk's crc is wrong, a chunk is missing, the stream stops early, the whole
// crc is wrong) leaves the old store intact and openable with no `.incoming` left behind, and
// that `open` repairs each state a crash during the directory swap can leave.

import t from 'tap';
import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import { cp, rename } from 'node:fs/promises';
import { PageStore, SNAPSHOT_CHUNK_BYTES } from '../../src/store/index.js';
import type { SnapshotChunk } from '../../src/store/index.js';
import { MIB, bytesEqual, items, key, openStore, page, put, tempDirs } from './helpers.js';

const NS = 'ns-1';

/** What `t.rejects` accepts as the expected error. */
type ErrorMatch = Extract<Parameters<Test['rejects']>[1], object>;

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

async function collect(chunks: AsyncIterable<SnapshotChunk>): Promise<SnapshotChunk[]> {
  const out: SnapshotChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function* replay(chunks: SnapshotChunk[], failAt = Infinity): AsyncGenerator<SnapshotChunk> {
  for (const [i, chunk] of chunks.entries()) {
    if (i === failAt) throw new Error('connection reset');
    yield chunk;
  }
}

/** A closed source store with `pages` pages of `bytes` each (plus a pin), and its digest. */
async function sourceStore(name: string, pages: number, bytes: number): Promise<{ dir: string; digest: string }> {
  const dir = dirs.path(name);
  const store = await openStore(dir);
  const list = Array.from({ length: pages }, (_, i) => page(NS, i, i, bytes));
  await store.apply(items(1, put(...list), { op: 'pin', ns: NS, keys: [key(1)], ttlMs: 5, nowMs: 7 }, null));
  const digest = await store.digest();
  await store.close();
  return { dir, digest };
}

async function streamOf(dir: string): Promise<SnapshotChunk[]> {
  const store = await openStore(dir);
  try {
    return await collect(store.snapshotReader());
  } finally {
    await store.close();
  }
}

const source = await sourceStore('source', 300, 8 * 1024);

t.test('a snapshot stream installs into a missing, an empty and an older store with the same digest', async (t) => {
  const chunks = await streamOf(source.dir);
  t.ok(chunks.length >= 3, `several chunks (${chunks.length})`);
  t.ok(chunks.every((c) => c.data.byteLength <= SNAPSHOT_CHUNK_BYTES), 'every chunk within the limit');
  t.same(chunks.map((c) => c.seq), chunks.map((_, i) => i), 'sequence numbers from 0 without gaps');
  t.same(chunks.map((c) => c.last), chunks.map((_, i) => i === chunks.length - 1), 'only the final chunk is last');
  t.equal(chunks.at(-1)?.appliedIndex, 3, 'final chunk carries the applied index');
  t.type(chunks.at(-1)?.totalCrc32c, 'number', 'and the whole crc');

  const older = dirs.path('older');
  const old = await openStore(older);
  await old.apply(items(1, put(page('stale-ns', 1)), put(page(NS, 5, 12345))));
  await old.close();
  for (const target of [dirs.path('missing'), older]) {
    await PageStore.installSnapshot(target, replay(chunks));
    const store = await openStore(target);
    t.equal(await store.digest(), source.digest, `${target}: same digest`);
    t.equal(store.appliedIndex(), 3, 'applied index from the stream');
    t.equal(store.stats().pages, 300, 'stats loaded from the installed state');
    t.equal(await store.lookup('stale-ns', [key(1)]), 0, 'older state replaced, not merged');
    await store.close();
    t.notOk(existsSync(`${target}.incoming`) || existsSync(`${target}.old`), 'no leftovers');
  }
});

t.test('an image not newer than the receiver is verified, then discarded: state never moves back', async (t) => {
  const chunks = await streamOf(source.dir);
  const newer = dirs.path('newer');
  const store = await openStore(newer);
  await store.apply(items(1, put(page('other-ns', 1)), null, null, null, null));
  const before = await store.digest();
  await store.close();
  const result = await PageStore.installSnapshot(newer, replay(chunks), { minAppliedIndex: 5 });
  t.same(result, { installed: false, appliedIndex: 3 }, 'reported as not installed, with the image index');
  const reopened = await openStore(newer);
  t.equal(await reopened.digest(), before, 'the newer state is untouched');
  t.equal(reopened.appliedIndex(), 5, 'applied index kept');
  await reopened.close();
  t.notOk(existsSync(`${newer}.incoming`), 'no leftovers');
});

t.test('an empty store streams and installs too', async (t) => {
  const empty = dirs.path('empty-source');
  await (await openStore(empty)).close();
  const chunks = await streamOf(empty);
  t.equal(chunks.length, 1, 'one chunk');
  t.equal(chunks[0]?.appliedIndex, 0, 'applied index 0');
  const target = dirs.path('empty-target');
  await PageStore.installSnapshot(target, replay(chunks));
  const store = await openStore(target);
  t.equal(store.appliedIndex(), 0, 'installed at 0');
  await store.close();
});

t.test('a 3 MiB value is split across chunks and arrives whole', async (t) => {
  const big = await sourceStore('big-source', 2, 3 * MIB);
  const chunks = await streamOf(big.dir);
  t.ok(chunks.length >= 7, `split over ${chunks.length} chunks`);
  t.ok(chunks.every((c) => c.data.byteLength <= SNAPSHOT_CHUNK_BYTES), 'each within the chunk limit');
  const target = dirs.path('big-target');
  await PageStore.installSnapshot(target, replay(chunks));
  const store = await openStore(target);
  t.teardown(() => store.close());
  t.equal(await store.digest(), big.digest, 'same digest');
  const got = await store.getPage(NS, key(1));
  t.ok(bytesEqual(got?.data, page(NS, 1, 1, 3 * MIB).data), 'the 3 MiB payload is byte-identical and its crc verifies');
});

t.test('the stream is one consistent state while applies go on', async (t) => {
  const dir = dirs.path('live');
  const store = await openStore(dir);
  t.teardown(() => store.close());
  await store.apply(items(1, put(...Array.from({ length: 200 }, (_, i) => page(NS, i, i, 8 * 1024)))));
  const before = await store.digest();
  const reader = store.snapshotReader();
  await store.apply(items(2, { op: 'drop-ns', ns: NS }, put(page('later', 1))));
  const chunks = await collect(reader);
  t.equal(chunks.at(-1)?.appliedIndex, 1, 'the stream is the state when the reader was made');
  const target = dirs.path('live-target');
  await PageStore.installSnapshot(target, replay(chunks));
  const installed = await openStore(target);
  t.equal(await installed.digest(), before, 'no write after the reader leaked into it');
  await installed.close();
});

/** Installs a damaged stream over the store at `dir` and checks that the old state survived. */
async function assertFailedInstallKeepsOld(
  t: Test,
  name: string,
  stream: AsyncIterable<SnapshotChunk>,
  error: ErrorMatch,
): Promise<void> {
  const dir = dirs.path(name);
  const store = await openStore(dir);
  await store.apply(items(1, put(page(NS, 1), page(NS, 2))));
  const digest = await store.digest();
  await store.close();
  await t.rejects(PageStore.installSnapshot(dir, stream), error, `${name}: install rejects`);
  t.notOk(existsSync(`${dir}.incoming`), `${name}: incoming removed`);
  const reopened = await openStore(dir);
  t.equal(await reopened.digest(), digest, `${name}: old state intact`);
  t.equal(reopened.appliedIndex(), 1, `${name}: old applied index`);
  await reopened.close();
}

t.test('an interrupted or damaged transfer leaves the old store intact and openable', async (t) => {
  const chunks = await streamOf(source.dir);
  const middle = Math.floor(chunks.length / 2);
  await assertFailedInstallKeepsOld(t, 'throws', replay(chunks, middle), { message: 'connection reset' });

  const badCrc = chunks.map((c, i) => (i === middle ? { ...c, crc32c: (c.crc32c ^ 1) >>> 0 } : c));
  await assertFailedInstallKeepsOld(t, 'bad-crc', replay(badCrc), { code: 'KVC_SNAPSHOT_INVALID', message: /crc32c/ });

  const flipped = chunks.map((c, i) => {
    if (i !== middle) return c;
    const data = new Uint8Array(c.data);
    data[100] = (data[100]! ^ 0x80) & 0xff;
    return { ...c, data };
  });
  await assertFailedInstallKeepsOld(t, 'bit-flip', replay(flipped), { code: 'KVC_SNAPSHOT_INVALID' });

  const gap = chunks.filter((_, i) => i !== middle);
  await assertFailedInstallKeepsOld(t, 'gap', replay(gap), { code: 'KVC_SNAPSHOT_INVALID', message: /expected/ });

  const early = chunks.slice(0, -1);
  await assertFailedInstallKeepsOld(t, 'early-end', replay(early), { message: /without its last chunk/ });

  const last = chunks.at(-1)!;
  const badTotal = [...chunks.slice(0, -1), { ...last, totalCrc32c: ((last.totalCrc32c ?? 0) ^ 1) >>> 0 }];
  await assertFailedInstallKeepsOld(t, 'bad-total', replay(badTotal), { message: /whole crc32c/ });

  const reordered = [chunks[1]!, chunks[0]!, ...chunks.slice(2)];
  await assertFailedInstallKeepsOld(t, 'reordered', replay(reordered), { code: 'KVC_SNAPSHOT_INVALID' });

  const extra = [...chunks, { ...last, seq: last.seq + 1 }];
  await assertFailedInstallKeepsOld(t, 'after-last', replay(extra), { message: /after the last chunk/ });

  // A retry of the same transfer, undamaged, then succeeds.
  const dir = dirs.path('throws');
  await PageStore.installSnapshot(dir, replay(chunks));
  const store = await openStore(dir);
  t.equal(await store.digest(), source.digest, 'the retried transfer installs');
  await store.close();
});

t.test('open repairs every state a crash during the swap can leave', async (t) => {
  const chunks = await streamOf(source.dir);
  const oldState = dirs.path('old-state');
  const old = await openStore(oldState);
  await old.apply(items(1, put(page(NS, 1))));
  const oldDigest = await old.digest();
  await old.close();
  // A complete incoming database, as the install leaves it before the first rename.
  const complete = dirs.path('complete');
  await PageStore.installSnapshot(complete, replay(chunks));

  const cases: { name: string; setup: (dir: string) => Promise<void>; digest: string }[] = [
    {
      name: 'between-renames', // dir gone, .old and .incoming present: finish the swap.
      setup: async (dir) => {
        await cp(oldState, `${dir}.old`, { recursive: true });
        await cp(complete, `${dir}.incoming`, { recursive: true });
      },
      digest: source.digest,
    },
    {
      name: 'after-renames', // dir is the new state, .old still there: drop .old.
      setup: async (dir) => {
        await cp(complete, dir, { recursive: true });
        await cp(oldState, `${dir}.old`, { recursive: true });
      },
      digest: source.digest,
    },
    {
      name: 'during-build', // dir is the old state, a partial .incoming: drop it.
      setup: async (dir) => {
        await cp(oldState, dir, { recursive: true });
        await cp(complete, `${dir}.incoming`, { recursive: true });
      },
      digest: oldDigest,
    },
    {
      name: 'only-old', // dir gone, only .old: roll back.
      setup: async (dir) => {
        await cp(oldState, dir, { recursive: true });
        await rename(dir, `${dir}.old`);
      },
      digest: oldDigest,
    },
  ];
  for (const { name, setup, digest } of cases) {
    const dir = dirs.path(`swap-${name}`);
    await setup(dir);
    const lines: string[] = [];
    const store = await PageStore.open({ dir, budgetBytes: 1024 * MIB, logger: (line) => lines.push(line) });
    t.equal(await store.digest(), digest, `${name}: the right state`);
    t.ok(lines.length > 0, `${name}: the repair is logged (${lines.join('; ')})`);
    await store.close();
    t.notOk(existsSync(`${dir}.old`) || existsSync(`${dir}.incoming`), `${name}: no leftovers`);
  }
});
