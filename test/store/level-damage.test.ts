// Proves that a page store whose LevelDB files are damaged refuses to open with StoreDamagedError
// (src/store/level.ts, table-check.ts) instead of serving what is left: a flipped byte in a table
// block (LevelDB itself would not check it), in a record of its .log (LevelDB drops it and says so
// only in its info log), in CURRENT (LevelDB refuses), and a record that does not decode. A store
// held by another open (LOCK) is not damage. Also the crash-safety helpers of the rebuild
// (src/node/store-recovery.ts); the rebuild itself is proved by test/rpc/store-rebuild.test.ts.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { PageStore, StoreDamagedError } from '../../src/store/index.js';
import { checkTable, checkTables, liveTables } from '../../src/store/table-check.js';
import { crc32c } from '../../src/codec/index.js';
import { finishWalSwap, rebuildDamagedStore, storeMissingUnderLog } from '../../src/node/store-recovery.js';
import { EntryType } from '../../src/raft/index.js';
import { Wal } from '../../src/wal/index.js';
import { items, key, openStore, page, put, tempDirs } from './helpers.js';

const NS = 'ns';
const PAGES = 40;

const dirs = await tempDirs();
t.teardown(() => dirs.cleanup());

/** A store holding PAGES pages; `tables` reopens it once, so LevelDB writes its .log into a table. */
async function filledStore(name: string, tables: boolean): Promise<string> {
  const dir = dirs.path(name);
  const store = await openStore(dir);
  await store.apply(items(1, ...Array.from({ length: PAGES }, (_, i) => put(page(NS, i, i, 2048)))));
  await store.close();
  if (tables) await (await openStore(dir)).close();
  return dir;
}

function flip(file: string, at: number): void {
  const bytes = readFileSync(file);
  const i = at < 0 ? bytes.byteLength + at : at;
  bytes[i] = bytes[i]! ^ 0x41;
  writeFileSync(file, bytes);
}

function only(dir: string, suffix: string): string {
  const name = readdirSync(dir).find((n) => n.endsWith(suffix));
  if (name === undefined) throw new Error(`no ${suffix} in ${dir}`);
  return join(dir, name);
}

t.test('a flipped byte in a table block', async (t) => {
  const dir = await filledStore('table', true);
  const table = only(dir, '.ldb');
  t.equal(checkTable(readFileSync(table)), undefined, 'a clean table verifies');
  const at = Math.floor(readFileSync(table).byteLength / 3);
  flip(table, at);
  await t.rejects(PageStore.open({ dir }), { name: 'StoreDamagedError', message: /LevelDB table \d+\.ldb: data block at \d+: block checksum mismatch/ });
  // The refused open left no LevelDB open behind (one opening itself would hold the LOCK, and
  // write into whatever directory then has this path: the rebuild's fresh store, which then failed
  // to open in a chaos run).
  await new Promise((resolve) => setTimeout(resolve, 100));
  const after = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await t.resolves(after.open(), 'the damaged store is not held open by the refused open');
  await after.close();
  t.match(checkTable(Uint8Array.of(1, 2, 3)), /shorter than its footer/);
  const noMagic = readFileSync(table);
  noMagic[noMagic.byteLength - 1] = 0;
  t.match(checkTable(noMagic), /bad magic number/);
  const clean = readFileSync(table);
  clean[at] = clean[at]! ^ 0x41; // undo the flip above
  const badIndex = Buffer.from(clean);
  badIndex[badIndex.byteLength - 48 - 10] = badIndex[badIndex.byteLength - 48 - 10]! ^ 0x41; // the index block sits before the footer
  t.match(checkTable(badIndex), /index block: block checksum mismatch/);
  const badFooter = Buffer.from(clean);
  badFooter.fill(0xff, badFooter.byteLength - 48, badFooter.byteLength - 8); // varints that never end
  t.match(checkTable(badFooter), /bad footer/);
});

t.test('a table that vanishes between the listing and its read is none to check', async (t) => {
  // LevelDB deletes obsolete tables after a compaction; a listing may still name one. A dangling
  // link stands for it: listed, but reading it fails with ENOENT.
  const dir = mkdtempSync(join(tmpdir(), 'kvc-tables-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(join(dir, 'gone'), join(dir, '000099.ldb'));
  t.equal(await checkTables(dir), undefined);
  writeFileSync(join(dir, '000100.ldb'), Buffer.alloc(10));
  t.equal(await checkTables(dir), 'table 000100.ldb: shorter than its footer', 'the tables that are there are still checked');
});

t.test('a half-written table that no version references is not damage', async (t) => {
  // A compaction cut short (a crash, or a close while it ran) leaves its output table behind,
  // unfinished and named by no MANIFEST edit; LevelDB deletes it at open and never reads it.
  const dir = await filledStore('orphan', true);
  const table = readFileSync(only(dir, '.ldb'));
  const orphan = join(dir, '999999.ldb');
  writeFileSync(orphan, table.subarray(0, Math.floor(table.byteLength / 2)));
  t.match(checkTable(readFileSync(orphan)), /bad magic number/, 'the orphan itself would not verify');
  t.equal(await checkTables(dir), undefined, 'only the live tables are checked');
  const store = await PageStore.open({ dir });
  t.teardown(() => store.close());
  t.ok((await store.getPage(NS, key(PAGES - 1))) !== undefined, 'the store opens and serves');
  t.notOk(readdirSync(dir).includes('999999.ldb'), 'LevelDB removed the orphan at open');
});

/** LevelDB log records (db/log_format.h) holding `records`, fragmented across 32 KiB blocks. */
function logFile(records: Uint8Array[]): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  const fragment = (type: number, data: Uint8Array): void => {
    const header = Buffer.alloc(7);
    const crc = crc32c(Buffer.concat([Uint8Array.of(type), data]));
    header.writeUInt32LE(((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0, 0);
    header.writeUInt16LE(data.byteLength, 4);
    header[6] = type;
    out.push(header, Buffer.from(data));
    at += 7 + data.byteLength;
  };
  for (const record of records) {
    let rest = record;
    let first = true;
    for (;;) {
      const left = 32768 - (at % 32768);
      if (left < 7) {
        out.push(Buffer.alloc(left));
        at += left;
        continue;
      }
      const take = Math.min(rest.byteLength, left - 7);
      const last = take === rest.byteLength;
      fragment(first && last ? 1 : first ? 2 : last ? 4 : 3, rest.subarray(0, take));
      rest = rest.subarray(take);
      first = false;
      if (last) break;
    }
  }
  return Buffer.concat(out);
}

function varints(...values: number[]): number[] {
  const out: number[] = [];
  for (let v of values) {
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  }
  return out;
}

t.test('the live tables are read from the MANIFEST that CURRENT names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvc-manifest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(await liveTables(dir), undefined, 'no CURRENT: unknown, so every table is checked');
  const key = (k: string): number[] => [k.length, ...Buffer.from(k)];
  const newFile = (level: number, n: number): number[] => [7, ...varints(level, n, 4096), ...key('a'), ...key('z')];
  // A first edit as large as a snapshot of many files (it spans blocks), then a compaction's edit.
  const big = [1, ...key('leveldb.BytewiseComparator'), 2, ...varints(5), 3, ...varints(9100), 4, ...varints(2 ** 40), 9, ...varints(0)];
  for (let n = 10; n < 8010; n++) big.push(...newFile(n % 7, n));
  const compaction = [5, ...varints(1), ...key('m'), 6, ...varints(0, 10), 6, ...varints(1, 11), ...newFile(1, 9000)];
  writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000007\n');
  const manifest = logFile([Uint8Array.from(big), Uint8Array.from(compaction)]);
  t.ok(manifest.byteLength > 2 * 32768, 'the first record spans three blocks (first, middle and last fragments)');
  writeFileSync(join(dir, 'MANIFEST-000007'), manifest);
  const live = await liveTables(dir);
  t.equal(live?.size, 8000 - 2 + 1);
  t.ok(live?.has(9000) === true && live.has(12) && !live.has(10) && !live.has(11), 'new files added, deleted ones gone');
  writeFileSync(join(dir, 'MANIFEST-000007'), manifest.subarray(0, manifest.byteLength - 3));
  t.equal((await liveTables(dir))?.has(9000), false, 'a record cut short at the end is none, as LevelDB reads it');
  const flipped = Buffer.from(manifest);
  const middle = Math.floor(manifest.byteLength / 2);
  flipped[middle] = flipped[middle]! ^ 0x41;
  writeFileSync(join(dir, 'MANIFEST-000007'), flipped);
  t.equal(await liveTables(dir), undefined, 'a record failing its checksum: unknown');
  writeFileSync(join(dir, 'MANIFEST-000007'), logFile([Uint8Array.of(8, 1)]));
  t.equal(await liveTables(dir), undefined, 'an edit with a tag LevelDB does not write: unknown');
  writeFileSync(join(dir, 'MANIFEST-000007'), logFile([Uint8Array.of(7, 1)]));
  t.equal(await liveTables(dir), undefined, 'an edit cut inside a field: unknown');
  // A record that leaves under a header's 7 bytes in its block (zero-filled), then a block of
  // preallocated zeros (a zero header: the rest of the block is skipped).
  const name = Array.from({ length: 32768 - 7 - 3 - 3 }, () => 0x61);
  const padded = logFile([Uint8Array.from([1, ...varints(name.length), ...name]), Uint8Array.from(newFile(0, 1))]);
  const zeros = Buffer.alloc(32768 - (padded.byteLength % 32768));
  writeFileSync(join(dir, 'MANIFEST-000007'), Buffer.concat([padded, zeros, logFile([Uint8Array.from(newFile(0, 2))])]));
  t.same([...((await liveTables(dir)) ?? [])].sort(), [1, 2], 'block trailers and preallocated zeros are skipped');
  writeFileSync(join(dir, 'CURRENT'), 'MANIFEST-000008\n');
  t.equal(await liveTables(dir), undefined, 'CURRENT naming a missing MANIFEST: unknown');
  writeFileSync(join(dir, 'CURRENT'), '../../etc/passwd\n');
  t.equal(await liveTables(dir), undefined, 'CURRENT naming something else: unknown');
});

t.test('a flipped byte in a record of the .log', async (t) => {
  const dir = await filledStore('log', false);
  const log = only(dir, '.log');
  flip(log, Math.floor(readFileSync(log).byteLength / 2));
  await t.rejects(PageStore.open({ dir }), { name: 'StoreDamagedError', message: /LevelDB dropped records of its log .*dropping \d+ bytes; Corruption: checksum mismatch/ });
});

t.test('a flipped newline in CURRENT', async (t) => {
  const dir = await filledStore('current', false);
  flip(join(dir, 'CURRENT'), -1);
  await t.rejects(PageStore.open({ dir }), { name: 'StoreDamagedError', message: /LevelDB refuses to open: Corruption: CURRENT file does not end with newline/ });
});

t.test('CURRENT naming a MANIFEST that does not exist', async (t) => {
  const dir = await filledStore('manifest-name', false);
  flip(join(dir, 'CURRENT'), 10);
  await t.rejects(PageStore.open({ dir }), { name: 'StoreDamagedError', message: /LevelDB refuses to open: IO error: .*MANIFEST-.*No such file or directory/ });
});

t.test('a record that does not decode', async (t) => {
  const dir = await filledStore('record', false);
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.put(Uint8Array.of(0x61), Uint8Array.of(1, 2, 3)); // the applied index ('a'): 3 bytes, not 8
  await db.close();
  await t.rejects(PageStore.open({ dir }), { name: 'StoreDamagedError', message: /the store's records do not load: u64 record is short/ });
});

t.test('a store held by another open is not damage', async (t) => {
  const dir = await filledStore('locked', false);
  const store = await openStore(dir);
  t.teardown(() => store.close());
  const error = await PageStore.open({ dir }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof Error && !(error instanceof StoreDamagedError), 'a plain error, not StoreDamagedError');
  t.ok((await store.getPage(NS, key(3))) !== undefined, 'the open store still serves');
});

t.test('rebuild crash safety: a WAL swap is finished, a missing store under a non-empty WAL is damage', async (t) => {
  const data = dirs.path('member');
  mkdirSync(join(data, 'wal.rebuild'), { recursive: true });
  await finishWalSwap(data);
  t.same(readdirSync(data), ['wal'], 'wal.rebuild became wal (the crash came between the renames)');
  mkdirSync(join(data, 'wal.rebuild'));
  await finishWalSwap(data);
  t.same(readdirSync(data), ['wal'], 'a wal.rebuild beside a wal is dropped (the crash came before the swap)');
  await finishWalSwap(data);

  const wal = await Wal.open({ dir: join(data, 'wal'), fsync: false, logger: () => undefined });
  t.teardown(() => wal.close());
  t.equal(storeMissingUnderLog(data, wal), false, 'an empty WAL: a new member');
  await wal.save({ hardState: { term: 1, vote: 0, commit: 1 }, entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) }] });
  t.equal(storeMissingUnderLog(data, wal), true, 'entries but no store');
  mkdirSync(join(data, 'store'));
  t.equal(storeMissingUnderLog(data, wal), false, 'entries and a store');
});

t.test('the rebuild keeps term and vote, drops the log, keeps one damaged copy; a sole voter refuses it', async (t) => {
  const data = dirs.path('rebuild');
  const openWal = (dir: string): Promise<Wal> => Wal.open({ dir, fsync: false, logger: () => undefined });
  let wal = await openWal(join(data, 'wal'));
  await wal.save({ hardState: { term: 7, vote: 2, commit: 2 }, entries: [1, 2].map((index) => ({ term: 7, index, type: EntryType.Normal, data: new Uint8Array(0) })) });
  mkdirSync(join(data, 'store'));
  const damage = new StoreDamagedError('test damage');
  const lines: string[] = [];
  const base = { id: 1, dataDir: data, damage, openWal, log: (line: string) => lines.push(line) };
  await t.rejects(rebuildDamagedStore({ ...base, wal, initialVoters: [1] }), { name: 'StoreDamagedError', message: /test damage; member 1 is the only voter, so no leader can rebuild it/ });
  t.same(readdirSync(data).sort(), ['store', 'wal'], 'nothing moved');
  for (let round = 0; round < 2; round++) {
    mkdirSync(join(data, 'store'), { recursive: true });
    wal = await rebuildDamagedStore({ ...base, wal, initialVoters: [1, 2, 3] });
    t.same(wal.initialState().hardState, { term: 7, vote: 2, commit: 0 }, 'term and vote kept, commit reset');
    t.equal(wal.lastIndex(), 0, 'an empty log');
    const aside = readdirSync(data).filter((name) => name.startsWith('store.damaged-'));
    t.equal(aside.length, 1, 'one damaged copy kept');
    t.same(readdirSync(join(data, aside[0]!)).sort(), ['store', 'wal']);
  }
  await wal.close();
  t.match(lines.join('\n'), /member 1: STORE DAMAGED, REBUILDING FROM THE LEADER: test damage\. .* keeps term 7 and vote 2, .*safe only while a minority/);
});
