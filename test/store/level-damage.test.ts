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
import { checkTable, checkTables } from '../../src/store/table-check.js';
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
