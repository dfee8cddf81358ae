// Proves the member's side of same-host lookups (src/store/shared-lookup-index.ts) with the real
// addon and a real PageStore on LevelDB: the file follows the page index a batch at a time (puts,
// deletes, a namespace drop), is rebuilt from the store when it opens again, compacts its
// tombstones in place, grows into a new file (the old one retired for its readers, and removed),
// and is retired and removed on close. A reader in this process stands for a same-host client.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { lookupFingerprints, nativeStatus, SHARED_LOOKUP_PID_OFFSET, SharedLookupReader } from '../../src/native/index.js';
import { PageStore, SharedLookupIndex } from '../../src/store/index.js';
import type { Command } from '../../src/codec/index.js';
import { key, page, put } from './helpers.js';

const native = nativeStatus();
const skip = native.loaded ? false : `needs the native addon (${native.reason})`;

/** What a same-host client answers for `keys` from the index file at `file`. */
function matched(file: string, ns: string, keys: Uint8Array[]): number {
  const reader = SharedLookupReader.open(file);
  try {
    return reader.match(lookupFingerprints(ns, keys));
  } finally {
    reader.close();
  }
}

t.test('the shared index follows the store a batch at a time and is rebuilt when the store opens', { skip }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvc-shared-lookup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lookup = SharedLookupIndex.create({ dir, name: 'kvc-test' });
  t.teardown(() => lookup.close());
  let store = await PageStore.open({ dir: path.join(dir, 'store'), sync: false, sharedLookup: lookup });
  let index = 0;
  const apply = async (command: Command): Promise<void> => {
    const [result] = await store.apply([{ index: ++index, command }]);
    t.equal(result?.ok, true, `apply ${index}`);
  };
  const chain = Array.from({ length: 10 }, (_, i) => key(i));
  await apply(put(...[0, 1, 2, 3, 4, 5].map((i) => page('a', i))));
  await apply(put(...[0, 1, 2].map((i) => page('b', i))));
  const file = lookup.stats()!.path;
  t.equal(matched(file, 'a', chain), 6, 'the first 6 of the chain are stored in a');
  t.equal(matched(file, 'b', chain), 3, 'and 3 in b');
  t.equal(matched(file, 'c', chain), 0, 'none in c');
  t.equal(lookup.stats()!.pages, 9);

  await apply({ op: 'delete', ns: 'a', keys: [chain[2]!] });
  t.equal(matched(file, 'a', chain), 2, 'a delete ends the prefix at the hole');
  await apply({ op: 'drop-ns', ns: 'b' });
  t.equal(matched(file, 'b', chain), 0, 'a dropped namespace matches nothing');
  t.equal(lookup.stats()!.pages, 5);

  // Two entries applied together: a put of page 8 and its delete. The file ends as the index does.
  const [put8, delete8] = await store.apply([
    { index: ++index, command: put(page('a', 8)) },
    { index: ++index, command: { op: 'delete', ns: 'a', keys: [chain[8]!] } },
  ]);
  t.same([put8?.ok, delete8?.ok], [true, true]);
  t.equal(matched(file, 'a', [chain[8]!]), 0, 'put and deleted in one batch: absent');
  await apply({ op: 'delete', ns: 'a', keys: [chain[9]!] });
  await store.apply([
    { index: ++index, command: { op: 'delete', ns: 'a', keys: [chain[9]!] } },
    { index: ++index, command: put(page('a', 9)) },
  ]);
  t.equal(matched(file, 'a', [chain[9]!]), 1, 'deleted and put in one batch: present');
  t.equal(lookup.stats()!.pages, 6);

  // A new store over the same files (a restart, or a snapshot install) rebuilds the table.
  await store.close();
  store = await PageStore.open({ dir: path.join(dir, 'store'), sync: false, sharedLookup: lookup });
  t.teardown(() => store.close());
  t.equal(lookup.stats()!.pages, 6, 'rebuilt from the store: 6 pages');
  t.equal(matched(file, 'a', chain), 2);
  t.equal(matched(file, 'a', chain.slice(3)), 3, 'pages past the hole are there too');
  t.ok(lookup.stats()!.rebuilds >= 2, 'one rebuild per open');
});

t.test('a full table is compacted in place, or grows into a new file that retires the old', { skip }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvc-shared-lookup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lookup = SharedLookupIndex.create({ dir, name: 'kvc-grow', slots: 1024 });
  t.teardown(() => lookup.close());
  const first = lookup.stats()!.path;
  const held = SharedLookupReader.open(first);
  t.teardown(() => held.close());
  const add = (from: number, to: number): void => {
    for (let i = from; i < to; i++) lookup.noteAdded('ns', Buffer.from(key(i)).toString('latin1'));
    lookup.commit();
  };
  const remove = (from: number, to: number): void => {
    for (let i = from; i < to; i++) lookup.noteRemoved('ns', Buffer.from(key(i)).toString('latin1'));
    lookup.commit();
  };
  // Churn within a third of the table: tombstones pile up and are compacted away in place.
  for (let round = 0; round < 10; round++) {
    add(round * 300, round * 300 + 300);
    remove(round * 300, round * 300 + 300);
  }
  add(5_000, 5_300);
  let s = lookup.stats()!;
  t.equal(s.path, first, 'still the first file');
  t.equal(s.capacity, 1024);
  t.equal(s.pages, 300);
  t.ok(s.rebuilds >= 1, `compacted in place (${s.rebuilds} times)`);
  t.equal(held.match(lookupFingerprints('ns', [key(5_000), key(5_299)])), 2, 'the held reader sees the live pages');
  t.equal(held.match(lookupFingerprints('ns', [key(0)])), 0, 'and not the removed ones');

  // More pages than the table may hold at 35 %: a new file, twice as large or more.
  add(10_000, 10_700);
  s = lookup.stats()!;
  t.not(s.path, first, 'a new file');
  t.ok(s.capacity >= 4096, `capacity ${s.capacity}`);
  t.equal(s.pages, 1_000);
  t.equal(s.grows, 1);
  t.equal(held.match(lookupFingerprints('ns', [key(5_000)])), -2, 'the old file is retired for its readers');
  t.equal(existsSync(first), false, 'and removed');
  t.equal(matched(s.path, 'ns', [key(5_000), key(10_699)]), 2, 'the new file holds the old pages and the new');

  lookup.close();
  t.same(readdirSync(dir), [], 'close removes the file');
});

t.test('a member creating its index removes the files its earlier runs left', { skip }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvc-shared-lookup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // A member killed with SIGKILL cannot remove its file: the next run of the same member does.
  const crashed = SharedLookupIndex.create({ dir, name: 'kvc-n1-abc' });
  const other = SharedLookupIndex.create({ dir, name: 'kvc-n2-def' });
  t.teardown(() => other.close());
  const stale = crashed.stats()!.path;
  const again = SharedLookupIndex.create({ dir, name: 'kvc-n1-abc' });
  t.teardown(() => again.close());
  t.equal(again.stats()!.path, stale, 'the same name');
  t.not(Buffer.from(again.stats()!.nonceSha256).toString('hex'), Buffer.from(crashed.stats()!.nonceSha256).toString('hex'), 'a new nonce');
  t.ok(existsSync(other.stats()!.path), "another member's file stays");
  const header = readFileSync(again.stats()!.path).subarray(0, SHARED_LOOKUP_PID_OFFSET + 4);
  t.equal(Buffer.from(header).readUInt32LE(SHARED_LOOKUP_PID_OFFSET), process.pid, 'the file names its writer (for the sweep of files whose writer is gone)');
});

t.test('a table that cannot grow stops, retired for its readers, and the store applies on', { skip }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvc-shared-lookup-'));
  const shm = path.join(dir, 'shm');
  await mkdir(shm);
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const lookup = SharedLookupIndex.create({ dir: shm, name: 'kvc-full', slots: 1024, log: (line) => lines.push(line) });
  t.teardown(() => lookup.close());
  const reader = SharedLookupReader.open(lookup.stats()!.path);
  t.teardown(() => reader.close());
  const store = await PageStore.open({ dir: path.join(dir, 'store'), sync: false, sharedLookup: lookup });
  t.teardown(() => store.close());
  // The directory goes away (as a full tmpfs refuses a new file): the grow that 800 pages need fails.
  await rm(shm, { recursive: true, force: true });
  const [result] = await store.apply([{ index: 1, command: put(...Array.from({ length: 800 }, (_, i) => page('a', i))) }]);
  t.equal(result?.ok, true, 'the batch is applied all the same');
  t.equal(store.stats().pages, 800);
  t.equal(lookup.stats(), undefined, 'the index stopped');
  t.match(lookup.failure, /the shared lookup index stopped: .*ENOENT/);
  t.match(lines.join('\n'), /shared lookup index stopped/, 'and logged why');
  t.equal(reader.match(lookupFingerprints('a', [key(0)])), -2, 'its readers see it retired and ask over gRPC');
  const [next] = await store.apply([{ index: 2, command: put(page('a', 500)) }]);
  t.equal(next?.ok, true, 'later batches too');
});
