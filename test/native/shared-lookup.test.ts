// Proves the shared lookup index (src/native shared-lookup.ts over native/src/shared-lookup.cc) with
// the real addon and real files in a temporary directory (under /dev/shm where there is one):
// - random adds and removes, checked round by round against a JavaScript Set through a reader's
//   own mapping (single fingerprints and prefixes), with the counters, live() and rebuild;
// - the file layout byte by byte as the Python reader expects it (header fields, a fingerprint in
//   its home slot), a reader's checks of the header and size, and the writer's argument checks,
//   load limit (nothing changes when it refuses) and exclusive create (EEXIST);
// - retire and close: a reader's match answers -2 and `retired` turns true;
// - a reader in another process (a child) sees the nonce, the capacity and the writer's set;
// - the seqlock: a worker thread matches 50 fingerprints that stay present while the main thread
//   applies about 2000 changes to others (with rebuilds, which empty every slot for a moment); it
//   must only ever see 50 or busy (-1). Bounded in time;
// - the fingerprint rule (SHA-256 of ns ‖ 0x00 ‖ key, 8 bytes little-endian, 0 and 1 moved up);
// - without the addon (a child with KVC_NATIVE=0) create and open say ERR_KVC_NO_ADDON.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import t, { type Test } from 'tap';
import { loadedAddon, NATIVE_DIR, type RawAddon } from '../../src/native/addon.js';
import {
  lookupFingerprints,
  SHARED_LOOKUP_BUSY,
  SHARED_LOOKUP_HEADER_BYTES,
  SHARED_LOOKUP_MAGIC,
  SHARED_LOOKUP_RETIRED,
  SharedLookupReader,
  SharedLookupWriter,
} from '../../src/native/index.js';
import { lookupFingerprintsJs, writeFingerprint } from '../../src/native/shared-lookup.js';
import { prng } from '../codec/prng.js';
import { runTsChild, skipWithoutAddon } from './helpers.js';

const BASE_DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const FP_BYTES = 8;
/** 90% of 1024 slots, rounded down: the most used + tombstones a 1024-slot index may hold. */
const ROOM_1024 = 921;
/** The load at which the random test's owner makes room, below the writer's own limit. */
const OWNER_LOAD_MAX = 0.7;

function tempDir(t: Test): string {
  const dir = mkdtempSync(path.join(BASE_DIR, 'kvc-lookup-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

/** The 8-byte fingerprints of `count` distinct keys of namespace `ns`. */
function fingerprints(ns: string, count: number): Uint8Array[] {
  const keys = Array.from({ length: count }, (_, i) => Buffer.from(`key-${String(i).padStart(8, '0')}`));
  const all = lookupFingerprints(ns, keys);
  return Array.from({ length: count }, (_, i) => all.subarray(FP_BYTES * i, FP_BYTES * (i + 1)));
}

function concat(list: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(list));
}

const hex = (fp: Uint8Array): string => Buffer.from(fp).toString('hex');

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[next() % list.length]!;
}

function rawAddon(): RawAddon {
  const { addon, reason } = loadedAddon();
  if (addon === null) throw new Error(`native addon not loaded: ${reason}`);
  return addon;
}

/** Checks every pool fingerprint alone and a few prefixes against the model `present`. */
function checkAnswers(t: Test, reader: SharedLookupReader, pool: readonly Uint8Array[], present: ReadonlySet<string>, next: () => number): void {
  const wrong = pool.filter((fp) => reader.match(fp) !== (present.has(hex(fp)) ? 1 : 0));
  t.equal(wrong.length, 0, 'every fingerprint alone: 1 when in the set, 0 when not');
  for (let list = 0; list < 5; list++) {
    const fps = Array.from({ length: 20 }, () => pick(next, pool));
    const expected = fps.findIndex((fp) => !present.has(hex(fp)));
    t.equal(reader.match(concat(fps)), expected === -1 ? fps.length : expected, 'a list: the length of its present prefix');
  }
  const members = pool.filter((fp) => present.has(hex(fp))).slice(0, 30);
  t.equal(reader.match(concat(members)), members.length, 'a list of members: all of it');
}

t.test('random adds and removes agree with a Set', { skip: skipWithoutAddon }, async (t) => {
  const seed = 0x5eed_1001;
  t.comment(`seed ${seed}`);
  const next = prng(seed);
  const file = path.join(tempDir(t), 'random.idx');
  const writer = SharedLookupWriter.create(file, 1024, newNonce());
  t.teardown(() => writer.close(true));
  const reader = SharedLookupReader.open(file);
  t.teardown(() => reader.close());
  const pool = fingerprints('random', 600);
  const present = new Set<string>();
  let rebuilds = 0;
  for (let round = 0; round < 20; round++) {
    const adds = Array.from({ length: next() % 241 }, () => pick(next, pool));
    const removes = Array.from({ length: next() % 241 }, () => pick(next, pool));
    const before = writer.stats();
    // The owner's duty: keep room (as src/store does, at 70% load, here by rebuilding from the model).
    if (before.used + before.tombstones + adds.length > OWNER_LOAD_MAX * 1024) {
      writer.rebuild(concat(pool.filter((fp) => present.has(hex(fp)))));
      rebuilds++;
      t.equal(writer.stats().tombstones, 0, 'a rebuild clears the tombstones');
    }
    const seqBefore = writer.stats().seq;
    writer.apply(concat(adds), concat(removes));
    for (const fp of removes) present.delete(hex(fp));
    for (const fp of adds) present.add(hex(fp));
    const after = writer.stats();
    t.equal(after.used, present.size, `round ${round}: used is the set's size`);
    t.equal(after.seq, seqBefore + 2, 'one write section per apply');
    t.ok(after.used + after.tombstones <= ROOM_1024, 'within the load limit');
    checkAnswers(t, reader, pool, present, next);
  }
  t.ok(rebuilds > 0, `the rounds needed room ${rebuilds} times`);
  t.ok(writer.stats().tombstones > 0, 'removals left tombstones');
  const live = writer.live();
  t.same(new Set(Array.from({ length: live.byteLength / FP_BYTES }, (_, i) => hex(live.subarray(FP_BYTES * i, FP_BYTES * (i + 1))))), present, 'live() is the set');
  writer.rebuild(concat([...pool.filter((fp) => present.has(hex(fp))), ...pool.filter((fp) => present.has(hex(fp))).slice(0, 10)]));
  t.match(writer.stats(), { capacity: 1024, used: present.size, tombstones: 0 }, 'rebuild: duplicates count once, no tombstones');
  checkAnswers(t, reader, pool, present, next);

  const [a, b] = pool.filter((fp) => !present.has(hex(fp)));
  writer.apply(concat([a!, a!, b!]), new Uint8Array(0));
  t.equal(writer.stats().used, present.size + 2, 'an add repeated in one apply counts once');
  writer.apply(concat([a!]), concat([a!, b!]));
  t.equal(reader.match(concat([a!, b!])), 1, 'removes go first: a removed and added again is present, b is gone');
  writer.apply(new Uint8Array(0), concat([b!]));
  t.equal(writer.stats().used, present.size + 1, 'an absent remove changes nothing');
});

/** An index file's header as the format says, with fields to spoil. */
function header(fields: { magic?: string; version?: number; headerBytes?: number; capacity: number }, fileBytes: number): Uint8Array {
  const bytes = new Uint8Array(fileBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(Buffer.from(fields.magic ?? SHARED_LOOKUP_MAGIC, 'ascii'), 0);
  view.setUint32(8, fields.version ?? 1, true);
  view.setUint32(12, fields.headerBytes ?? SHARED_LOOKUP_HEADER_BYTES, true);
  view.setBigUint64(32, BigInt(fields.capacity), true);
  return bytes;
}

t.test('the file layout, and what a reader refuses', { skip: skipWithoutAddon }, async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'layout.idx');
  const nonce = newNonce();
  const writer = SharedLookupWriter.create(file, 2048, nonce);
  t.teardown(() => writer.close(true));
  t.equal(statSync(file).size, 4096 + 8 * 2048, 'header page plus 8 bytes a slot');
  t.equal(statSync(file).mode & 0o777, 0o600, 'mode 0600');
  const [fp] = fingerprints('layout', 1);
  writer.apply(fp!, new Uint8Array(0));
  const bytes = readFileSync(file);
  t.equal(bytes.subarray(0, 8).toString('ascii'), 'KVCLKUP1', 'magic');
  t.equal(bytes.readUInt32LE(8), 1, 'version');
  t.equal(bytes.readUInt32LE(12), 4096, 'header_bytes');
  t.same(new Uint8Array(bytes.subarray(16, 32)), nonce, 'nonce');
  t.equal(bytes.readBigUInt64LE(32), 2048n, 'capacity');
  t.equal(bytes.readBigUInt64LE(40), 2n, 'seq: one write section');
  t.equal(bytes.readBigUInt64LE(48), 1n, 'used');
  t.equal(bytes.readBigUInt64LE(56), 0n, 'tombstones');
  t.equal(bytes.readUInt32LE(64), 0, 'retired: live');
  t.equal(bytes.readUInt32LE(68), process.pid, "the writer's pid");
  t.ok(bytes.subarray(72, 4096).every((byte) => byte === 0), 'the rest of the header is zero');
  const value = Buffer.from(fp!).readBigUInt64LE(0);
  const home = Number(value & 2047n);
  t.equal(bytes.readBigUInt64LE(4096 + 8 * home), value, 'the fingerprint sits in its home slot, little-endian');

  const reader = SharedLookupReader.open(file);
  t.teardown(() => reader.close());
  t.same(reader.nonce, nonce, 'a reader sees the nonce');
  t.equal(reader.capacity, 2048);
  t.equal(reader.path, file);
  t.equal(reader.match(fp!), 1);

  const spoiled: Array<[string, Uint8Array, RegExp]> = [
    ['bad magic', header({ magic: 'KVCARENA', capacity: 1024 }, 4096 + 8 * 1024), /not a shared lookup index: bad magic/],
    ['version 2', header({ version: 2, capacity: 1024 }, 4096 + 8 * 1024), /version 2 \(only 1 is known\)/],
    ['a 2048-byte header', header({ headerBytes: 2048, capacity: 1024 }, 4096 + 8 * 1024), /header_bytes 2048 \(4096 expected\)/],
    ['capacity 1000', header({ capacity: 1000 }, 4096 + 8 * 1000), /capacity 1000 is not a power of two from 1024 to 2\^32/],
    ['capacity 512', header({ capacity: 512 }, 4096 + 8 * 512), /capacity 512 is not a power of two/],
    ['one slot too many', header({ capacity: 1024 }, 4096 + 8 * 1025), /the file has 12296 bytes, 12288 expected for capacity 1024/],
    ['shorter than a header', header({ capacity: 1024 }, 100), /the file has 100 bytes, less than the 4096-byte header/],
  ];
  for (const [what, content, message] of spoiled) {
    const bad = path.join(dir, `${what.replaceAll(' ', '-')}.idx`);
    writeFileSync(bad, content);
    t.throws(() => SharedLookupReader.open(bad), { code: 'ERR_KVC_BAD_SHARED_LOOKUP', message }, `refused: ${what}`);
  }
  t.throws(() => SharedLookupReader.open(path.join(dir, 'missing.idx')), { code: 'ENOENT', syscall: 'open' });

  // A table written here by the format alone, as another implementation would: the reader's probe
  // skips tombstones, wraps past the last slot and stops at an empty one.
  const crafted = header({ capacity: 1024 }, 4096 + 8 * 1024);
  const view = new DataView(crafted.buffer);
  const slot = (index: number, value: bigint): void => view.setBigUint64(4096 + 8 * index, value, true);
  const fpOf = (value: bigint): Uint8Array => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, true);
    return bytes;
  };
  slot(5, 1n);
  slot(6, 0x1000n + 5n);
  slot(7, 0x2000n + 5n);
  slot(1023, 1n);
  slot(0, 0x3000n + 1023n);
  const craftedFile = path.join(dir, 'crafted.idx');
  writeFileSync(craftedFile, crafted);
  const craftedReader = SharedLookupReader.open(craftedFile);
  t.teardown(() => craftedReader.close());
  t.equal(craftedReader.match(concat([fpOf(0x1000n + 5n), fpOf(0x2000n + 5n), fpOf(0x3000n + 1023n)])), 3, 'past a tombstone, along a chain, around the end');
  t.equal(craftedReader.match(fpOf(0x4000n + 5n)), 0, 'absent: the probe ends at the empty slot 8');
  t.equal(craftedReader.match(fpOf(0x1000n + 6n)), 0, 'absent: its home slot holds another fingerprint, the next is empty');
  view.setBigUint64(40, 3n, true);
  writeFileSync(craftedFile, crafted);
  t.equal(craftedReader.match(fpOf(0x1000n + 5n)), SHARED_LOOKUP_BUSY, 'an odd seq that never moves: busy');
  view.setBigUint64(40, 4n, true);
  view.setUint32(64, 1, true);
  writeFileSync(craftedFile, crafted);
  t.equal(craftedReader.match(fpOf(0x1000n + 5n)), SHARED_LOOKUP_RETIRED, 'retired');
  t.equal(craftedReader.retired, true);
  t.throws(() => SharedLookupReader.open('relative.idx'), TypeError);

  t.throws(() => SharedLookupWriter.create(file, 1024, newNonce()), { code: 'EEXIST', syscall: 'open', message: new RegExp(`${file}: open failed \\(EEXIST\\)`) }, 'never takes over an existing file');
  for (const capacity of [1000, 512, 2 ** 33, 1024.5, -1024, Number.NaN]) {
    t.throws(() => SharedLookupWriter.create(path.join(dir, 'c.idx'), capacity, newNonce()), RangeError, `capacity ${capacity}`);
  }
  t.throws(() => SharedLookupWriter.create(path.join(dir, 'c.idx'), '1024' as unknown as number, newNonce()), TypeError);
  t.throws(() => SharedLookupWriter.create(path.join(dir, 'c.idx'), 1024, new Uint8Array(15)), RangeError, 'a 15-byte nonce');
  t.throws(() => SharedLookupWriter.create(path.join(dir, 'c.idx'), 1024, [0] as unknown as Uint8Array), TypeError, 'a nonce not in a Uint8Array');
  t.throws(() => SharedLookupWriter.create('relative.idx', 1024, newNonce()), TypeError);
  t.notOk(existsSync(path.join(dir, 'c.idx')), 'no refused create left a file');
});

t.test('the writer refuses what would break the table, and changes nothing then', { skip: skipWithoutAddon }, async (t) => {
  const file = path.join(tempDir(t), 'limits.idx');
  const writer = SharedLookupWriter.create(file, 1024, newNonce());
  t.teardown(() => writer.close(true));
  const reader = SharedLookupReader.open(file);
  t.teardown(() => reader.close());
  const pool = fingerprints('limits', 1000);
  const members = pool.slice(0, 900);
  writer.rebuild(concat(members));
  const before = writer.stats();
  t.match(before, { used: 900, tombstones: 0 });
  t.throws(() => writer.apply(concat(pool.slice(900, 922)), concat(members.slice(0, 30))), { name: 'RangeError', message: /used 900 \+ tombstones 0 \+ 22 adds exceed 921 slots, 90% of the capacity 1024/ });
  t.same(writer.stats(), before, 'nothing changed: counters and seq');
  t.equal(reader.match(concat(members)), 900, 'the members are all still there');
  t.equal(reader.match(concat(pool.slice(900))), 0, 'and the refused adds are not');
  writer.apply(concat(pool.slice(900, 921)), new Uint8Array(0));
  t.equal(writer.stats().used, ROOM_1024, 'exactly 90% (rounded down) is allowed');
  t.throws(() => writer.rebuild(concat(pool.slice(0, 922))), RangeError, 'a rebuild past 90%');

  const reserved = new Uint8Array(16);
  reserved[8] = 1;
  t.throws(() => writer.apply(reserved, new Uint8Array(0)), { name: 'RangeError', message: /fingerprint 0 is 0 or 1/ });
  t.throws(() => reader.match(reserved.subarray(8)), { name: 'RangeError', message: /fingerprint 0 is 0 or 1/ });
  t.throws(() => writer.apply(new Uint8Array(7), new Uint8Array(0)), RangeError, 'not whole fingerprints');
  t.throws(() => writer.apply(new Uint16Array(4) as unknown as Uint8Array, new Uint8Array(0)), TypeError);
  t.throws(() => writer.apply(new Uint8Array(0), null as unknown as Uint8Array), TypeError);
  t.throws(() => reader.match(new Uint8Array(9)), RangeError);
  t.equal(writer.stats().used, ROOM_1024, 'no refused call changed anything');

  // The addon's own checks, under the wrapper's: the handles cannot be mixed up.
  const addon = rawAddon();
  const raw = addon.openSharedLookup(file);
  t.throws(() => addon.applySharedLookup(raw.handle, new Uint8Array(0), new Uint8Array(0)), { name: 'TypeError', message: /handle must come from createSharedLookup/ }, "a reader's handle never writes");
  t.throws(() => addon.matchSharedLookup({}, new Uint8Array(0)), TypeError);
  t.throws(() => addon.rebuildSharedLookup(raw.handle, new Uint8Array(0)), TypeError);
  const own = addon.createSharedLookup(path.join(path.dirname(file), 'raw.idx'), 1024, newNonce());
  t.throws(() => addon.rebuildSharedLookup(own, concat(pool.slice(0, 922))), { name: 'RangeError', message: /922 fingerprints exceed 921 slots/ }, "the addon's own rebuild limit");
  t.equal(addon.closeSharedLookup(own, true), true);
  t.equal(addon.closeSharedLookup(own, true), false, 'closing twice');
  t.equal(addon.closeSharedLookupReader(raw.handle), true);
  t.equal(addon.closeSharedLookupReader(raw.handle), false, 'closing twice');
  t.throws(() => addon.matchSharedLookup(raw.handle, new Uint8Array(0)), { message: /the shared lookup index is closed/ });
});

t.test('retire and close: readers see -2', { skip: skipWithoutAddon }, async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'retire.idx');
  const writer = SharedLookupWriter.create(file, 1024, newNonce());
  const reader = SharedLookupReader.open(file);
  t.teardown(() => reader.close());
  const fps = fingerprints('retire', 3);
  writer.apply(concat(fps), new Uint8Array(0));
  t.equal(reader.match(concat(fps)), 3);
  t.equal(reader.retired, false);
  const seq = writer.stats().seq;
  writer.retire();
  t.equal(writer.stats().seq, seq + 2, 'retire is a write section');
  t.equal(reader.match(concat(fps)), SHARED_LOOKUP_RETIRED);
  t.equal(reader.retired, true);
  t.throws(() => writer.close('yes' as unknown as boolean), TypeError);
  writer.close(false);
  writer.close(false);
  t.ok(existsSync(file), 'close(false) leaves the file');
  t.throws(() => writer.apply(fps[0]!, new Uint8Array(0)), { message: /SharedLookupWriter.apply: .* is closed/ });
  t.throws(() => writer.stats(), /closed/);
  reader.close();
  reader.close();
  t.throws(() => reader.match(fps[0]!), { message: /SharedLookupReader.match: .* is closed/ });
  t.throws(() => reader.retired, /closed/);

  // close retires too: nobody maintains the file any more.
  const second = path.join(dir, 'closed.idx');
  const owner = SharedLookupWriter.create(second, 1024, newNonce());
  const client = SharedLookupReader.open(second);
  t.teardown(() => client.close());
  owner.apply(concat(fps), new Uint8Array(0));
  owner.close(true);
  t.notOk(existsSync(second), 'close(true) removes the file');
  t.equal(client.match(concat(fps)), SHARED_LOOKUP_RETIRED, 'a reader of a closed index gets -2 (its mapping outlives the file)');
});

// The reader thread loads the addon itself: plain JavaScript, no TypeScript loader in it.
const READER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.nodeGypBuild)(workerData.nativeDir);
const flags = new Int32Array(workerData.flags);
const { handle } = addon.openSharedLookup(workerData.path);
const counts = {};
const deadline = Date.now() + workerData.durationMs;
Atomics.store(flags, 0, 1);
while (Atomics.load(flags, 1) === 0 && Date.now() < deadline) {
  const matched = addon.matchSharedLookup(handle, workerData.fingerprints);
  counts[matched] = (counts[matched] ?? 0) + 1;
}
addon.closeSharedLookupReader(handle);
parentPort.postMessage(counts);
`;
/** The reader stops on its own after this, whatever the writer does. */
const READER_DURATION_MS = 10_000;
const WRITER_CALLS_MIN = 2000;
const WRITER_MS_MIN = 500;
const WRITER_MS_MAX = 2000;

t.test('seqlock: a concurrent reader sees only whole states', { skip: skipWithoutAddon }, async (t) => {
  const file = path.join(tempDir(t), 'seqlock.idx');
  const capacity = 4096;
  const writer = SharedLookupWriter.create(file, capacity, newNonce());
  t.teardown(() => writer.close(true));
  const stable = fingerprints('stable', 50);
  const churn = fingerprints('churn', 3000);
  const stableHex = new Set(stable.map(hex));
  t.notOk(churn.some((fp) => stableHex.has(hex(fp))), 'the churned fingerprints are all others');
  writer.rebuild(concat(stable));

  const flags = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(READER_SOURCE, {
    eval: true,
    workerData: {
      nodeGypBuild: createRequire(import.meta.url).resolve('node-gyp-build'),
      nativeDir: NATIVE_DIR,
      path: file,
      fingerprints: concat(stable),
      flags: flags.buffer,
      durationMs: READER_DURATION_MS,
    },
  });
  const answered = new Promise<Record<string, number>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  for (let waited = 0; Atomics.load(flags, 0) === 0 && waited < READER_DURATION_MS; waited += 5) await delay(5);
  t.equal(Atomics.load(flags, 0), 1, 'the reader is running');

  const next = prng(0x5eed_2002);
  const present = new Set<number>();
  let calls = 0;
  let loadMax = 0;
  const start = Date.now();
  for (let elapsed = 0; (calls < WRITER_CALLS_MIN || elapsed < WRITER_MS_MIN) && elapsed < WRITER_MS_MAX; elapsed = Date.now() - start) {
    calls++;
    if (calls % 200 === 0) {
      writer.rebuild(concat([...stable, ...[...present].map((i) => churn[i]!)]));
      continue;
    }
    const adds = Array.from({ length: present.size < 500 ? 8 : 4 }, () => next() % churn.length);
    const removes = [...present].filter(() => next() % 100 < 1).slice(0, 4);
    writer.apply(concat(adds.map((i) => churn[i]!)), concat(removes.map((i) => churn[i]!)));
    for (const i of removes) present.delete(i);
    for (const i of adds) present.add(i);
    const stats = writer.stats();
    loadMax = Math.max(loadMax, (stats.used + stats.tombstones) / capacity);
  }
  Atomics.store(flags, 1, 1);
  const counts = await answered;
  await worker.terminate();
  t.comment(`writer: ${calls} calls in ${Date.now() - start} ms, load at most ${loadMax.toFixed(2)}; reader's answers: ${JSON.stringify(counts)}`);
  t.ok(calls >= WRITER_CALLS_MIN, 'the writer made its calls');
  t.ok(loadMax < 0.7, 'the load stayed under 0.7');
  t.equal(writer.stats().used, stable.length + present.size, 'the counters followed');
  const wrong = Object.entries(counts).filter(([answer]) => Number(answer) !== stable.length && Number(answer) !== SHARED_LOOKUP_BUSY);
  t.same(wrong, [], 'no answer but 50 or busy');
  t.ok((counts[String(stable.length)] ?? 0) > 0, 'the reader got whole answers');
});

t.test('the fingerprint rule', async (t) => {
  const digest = createHash('sha256').update('ns\0key-00000001').digest();
  t.same(lookupFingerprints('ns', [Buffer.from('key-00000001')]), new Uint8Array(digest.subarray(0, 8)), 'the first 8 bytes of SHA-256(ns ‖ 0x00 ‖ key)');
  const keys = [new Uint8Array(0), Buffer.from('a'), new Uint8Array(5000).fill(7), Buffer.from('b'), new Uint8Array([0, 255, 0])];
  const expected = keys.map((key) => createHash('sha256').update(Buffer.from('né', 'utf8')).update(new Uint8Array([0])).update(key).digest().subarray(0, 8));
  t.same(lookupFingerprints('né', keys), new Uint8Array(Buffer.concat(expected)), 'in order, a UTF-8 namespace, keys short after long');
  t.same(lookupFingerprints('ns', []), new Uint8Array(0));

  const cases: Array<[number[], number[]]> = [
    [[0, 0, 0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0, 0]],
    [[1, 0, 0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0, 0, 0]],
    [[2, 0, 0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0, 0]],
    [[0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 1]],
    [[1, 0, 0, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0, 0]],
  ];
  for (const [head, fingerprint] of cases) {
    const out = new Uint8Array(12).fill(9);
    writeFingerprint(new Uint8Array([...head, ...new Array<number>(24).fill(0xaa)]), out, 2);
    t.same(out, new Uint8Array([9, 9, ...fingerprint, 9, 9]), `${head.join(',')} → ${fingerprint.join(',')} (the 8 bytes at the offset only)`);
  }
  t.throws(() => lookupFingerprints(1 as unknown as string, []), TypeError);
  t.throws(() => lookupFingerprints('ns', Buffer.from('key') as unknown as Uint8Array[]), TypeError, 'keys must be an array');
  t.throws(() => lookupFingerprints('ns', ['key'] as unknown as Uint8Array[]), { name: 'TypeError', message: /key 0 must be a Uint8Array/ });
});

t.test("the addon's SHA-256 gives node:crypto's fingerprints, and matchKeys answers as match", { skip: skipWithoutAddon }, async (t) => {
  // Every message length from 2 to 200 bytes (the namespace, 0x00 and the key): one block, the
  // padding spilling into a second (56-64), two and more blocks; with the SHA instructions where
  // the CPU has them, and with the portable code (SIMD off).
  const addon = rawAddon();
  for (const simd of [true, false]) {
    const before = addon.setSimdEnabled(simd);
    let mismatches = 0;
    try {
      for (let keyBytes = 0; keyBytes <= 190; keyBytes++) {
        for (const ns of ['n', 'ns/with:chars', 'ünï']) {
          const keys = [randomBytes(keyBytes), randomBytes(keyBytes)];
          if (!Buffer.from(lookupFingerprints(ns, keys)).equals(Buffer.from(lookupFingerprintsJs(ns, keys)))) mismatches++;
        }
      }
    } finally {
      addon.setSimdEnabled(before);
    }
    t.equal(mismatches, 0, `native (SIMD ${simd ? 'on' : 'off'}) and node:crypto agree at every length`);
  }

  const dir = tempDir(t);
  const writer = SharedLookupWriter.create(path.join(dir, 'keys.idx'), 1024, newNonce());
  t.teardown(() => writer.close(true));
  const keys = Array.from({ length: 20 }, (_, i) => Buffer.from(`key-${String(i).padStart(8, '0')}`));
  writer.apply(lookupFingerprints('ns', keys.slice(0, 12)), new Uint8Array(0));
  const reader = SharedLookupReader.open(path.join(dir, 'keys.idx'));
  t.teardown(() => reader.close());
  for (const probe of [keys, keys.slice(4), keys.slice(12), [], [keys[13]!, ...keys], keys.slice(0, 3)]) {
    t.equal(reader.matchKeys('ns', probe), reader.match(lookupFingerprints('ns', probe)), `${probe.length} keys`);
  }
  t.equal(reader.matchKeys('ns', keys), 12);
  t.equal(reader.matchKeys('other', keys), 0, 'another namespace');
  t.throws(() => reader.matchKeys('ns', ['key'] as unknown as Uint8Array[]), TypeError);
  writer.retire();
  t.equal(reader.matchKeys('ns', keys), SHARED_LOOKUP_RETIRED);
});

/** Another process's reader: its answers for the fingerprints of the keys key-0 .. key-10 of 'cross'. */
const READER_CHILD = `
import { lookupFingerprints, SharedLookupReader } from './src/native/index.ts';
const reader = SharedLookupReader.open(process.env.LOOKUP_FILE);
const keys = Array.from({ length: 11 }, (_, i) => Buffer.from('key-' + i));
const fps = lookupFingerprints('cross', keys);
console.log(JSON.stringify({ nonce: Buffer.from(reader.nonce).toString('hex'), capacity: reader.capacity, prefix: reader.match(fps), last: reader.match(fps.subarray(80)), retired: reader.retired }));
reader.close();
`;

t.test('another process reads what the writer wrote', { skip: skipWithoutAddon }, async (t) => {
  const file = path.join(tempDir(t), 'cross.idx');
  const nonce = newNonce();
  const writer = SharedLookupWriter.create(file, 1024, nonce);
  t.teardown(() => writer.close(true));
  const keys = Array.from({ length: 11 }, (_, i) => Buffer.from(`key-${i}`));
  writer.apply(lookupFingerprints('cross', keys.slice(0, 7)), new Uint8Array(0));
  const child = runTsChild(READER_CHILD, { LOOKUP_FILE: file });
  t.equal(child.status, 0, `the child ran: ${child.stderr.slice(-500)}`);
  t.same(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}'), { nonce: hex(nonce), capacity: 1024, prefix: 7, last: 0, retired: false });
});

const NO_ADDON_CHILD = `
import { lookupFingerprints, SharedLookupReader, SharedLookupWriter } from './src/native/index.ts';
const codes = [];
for (const attempt of [() => SharedLookupWriter.create('/nonexistent/x.idx', 1024, new Uint8Array(16)), () => SharedLookupReader.open('/nonexistent/x.idx')]) {
  try { attempt(); codes.push('none'); } catch (error) { codes.push(error.code); }
}
console.log(JSON.stringify({ codes, fingerprint: Buffer.from(lookupFingerprints('ns', [Buffer.from('key-00000001')])).toString('hex') }));
`;

t.test('without the addon: ERR_KVC_NO_ADDON, fingerprints still computed', async (t) => {
  const child = runTsChild(NO_ADDON_CHILD, { KVC_NATIVE: '0' });
  t.equal(child.status, 0, `the child ran: ${child.stderr.slice(-500)}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { codes: string[]; fingerprint: string };
  t.same(result.codes, ['ERR_KVC_NO_ADDON', 'ERR_KVC_NO_ADDON']);
  t.equal(result.fingerprint, hex(lookupFingerprints('ns', [Buffer.from('key-00000001')])));
});
