// Appends (src/io): in every mode, whatever the sizes and split of the writes, the file holds
// exactly the bytes written, then ('direct') zeros up to the next block boundary; a direct
// appender reopened on a file whose end is inside a block reads that block back; a write that
// would zero bytes after it is refused; where direct I/O is off, a direct appender writes
// 'dropped'; 'dropped' leaves no written page in the page cache after a sync but the block still
// being filled, while 'cached' leaves them all; and the process's mode comes from KVC_APPEND_IO.
// writeDurable (the write and its sync as one job on libuv's pool, through the addon) lands what
// write + datasync land, drops what they drop, takes more pieces than one pwritev, refuses what
// write refuses, fails as Node's fs fails, and without the addon takes the two steps.

import t from 'tap';
import type { Test } from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APPEND_MODES, Appender, appendIoStatus, appendModeFromEnv, DIRECT_BLOCK_BYTES, DIRECT_SCRATCH_BYTES, directIoProblem, setAppendMode, setDirectIo } from '../../src/io/index.js';
import { appendDurable, cachedPageCount, dropCachedPages } from '../../src/native/index.js';
import { runTsChild } from '../native/helpers.js';

function emptyFile(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvc-io-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, '');
  return file;
}

/** `bytes` split into up to 3 views at random points (as writev parts arrive). */
function split(bytes: Buffer): Uint8Array[] {
  const a = crypto.randomInt(bytes.byteLength + 1);
  const b = crypto.randomInt(a, bytes.byteLength + 1);
  return [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
}

function alignUp(n: number): number {
  return Math.ceil(n / DIRECT_BLOCK_BYTES) * DIRECT_BLOCK_BYTES;
}

/** Checks the file: `expected` first, then only zeros, as long as the mode says. */
function checkFile(t: Test, file: string, expected: Buffer, direct: boolean, label: string): void {
  const got = fs.readFileSync(file);
  t.equal(got.byteLength, direct ? alignUp(expected.byteLength) : expected.byteLength, `${label}: ${direct ? 'padded to a block' : 'exact'} size`);
  t.ok(got.subarray(0, expected.byteLength).equals(expected), `${label}: the bytes written`);
  t.ok(got.subarray(expected.byteLength).every((b) => b === 0), `${label}: zeros after them`);
}

const SIZES = [1, 100, DIRECT_BLOCK_BYTES - 1, DIRECT_BLOCK_BYTES, DIRECT_BLOCK_BYTES + 1, 98_304, 3, 1024 * 1024 + 17, DIRECT_SCRATCH_BYTES + 5000, 0, 4093];

for (const mode of APPEND_MODES) {
  t.test(`appends of every size and split land whole (${mode})`, async (t) => {
    const file = emptyFile(t);
    const appender = await Appender.open(file, 0, { mode });
    t.teardown(() => appender.close());
    t.equal(appender.mode, mode, mode === 'direct' ? 'this filesystem takes O_DIRECT' : `${mode} as asked`);
    const direct = appender.direct;
    const written: Buffer[] = [];
    let end = 0;
    for (const size of SIZES) {
      const bytes = crypto.randomBytes(size);
      await appender.write(split(bytes), end);
      end += size;
      written.push(bytes);
      t.equal(appender.end, end, `after ${size} bytes the end is ${end}`);
      // Syncs between some appends: 'dropped' then drops what it wrote, up to the block being filled.
      if (written.length % 2 === 0) await appender.datasync();
    }
    checkFile(t, file, Buffer.concat(written), direct, `${SIZES.length} appends`);
  });
}

for (const mode of APPEND_MODES) {
  t.test(`writeDurable lands and drops what write + datasync do (${mode})`, async (t) => {
    const file = emptyFile(t);
    const appender = await Appender.open(file, 0, { mode });
    t.teardown(() => appender.close());
    const fd = fs.openSync(file, 'r');
    t.teardown(() => fs.closeSync(fd));
    const written: Buffer[] = [];
    let end = 0;
    for (const size of SIZES) {
      const bytes = crypto.randomBytes(size);
      await appender.writeDurable(split(bytes), end);
      end += size;
      written.push(bytes);
      t.equal(appender.end, end, `after ${size} bytes the end is ${end}`);
      if (mode === 'dropped') t.ok((cachedPageCount(fd, 0, end) ?? Infinity) <= 1, `dropped: at most the block being filled stays cached after ${size} bytes`);
    }
    if (mode === 'cached') t.equal(cachedPageCount(fd, 0, end), Math.ceil(end / 4096), 'cached: every page written stays cached');
    checkFile(t, file, Buffer.concat(written), appender.direct, `${SIZES.length} durable appends`);
  });
}

t.test('writeDurable takes more pieces than one pwritev does (IOV_MAX 1024), empty ones too', async (t) => {
  const file = emptyFile(t);
  const appender = await Appender.open(file, 0, { mode: 'dropped' });
  t.teardown(() => appender.close());
  const pieces = Array.from({ length: 3000 }, (_, i) => crypto.randomBytes(i % 7 === 0 ? 0 : crypto.randomInt(1, 3000)));
  await appender.writeDurable(pieces, 0);
  const second = crypto.randomBytes(5000);
  await appender.writeDurable(split(second), appender.end);
  checkFile(t, file, Buffer.concat([...pieces, second]), false, '3000 pieces, then 3');
});

t.test('writeDurable refuses a write that ends before what was written, as write does', async (t) => {
  const file = emptyFile(t);
  const appender = await Appender.open(file, 0, { mode: 'dropped' });
  t.teardown(() => appender.close());
  await appender.writeDurable([crypto.randomBytes(100)], 0);
  await t.rejects(appender.writeDurable([crypto.randomBytes(10)], 50), /ends before what was written \(100\)/);
  t.equal(appender.end, 100, 'the end is unchanged');
  await appender.close();
  await t.rejects(appender.writeDurable([crypto.randomBytes(10)], 100), /is closed/, 'a closed appender refuses');
});

t.test("appendDurable fails as Node's fs does, and checks its arguments", async (t) => {
  const file = emptyFile(t);
  const readOnly = fs.openSync(file, 'r');
  t.teardown(() => fs.closeSync(readOnly));
  const none = { offset: 0, length: 0 };
  await t.rejects(appendDurable(readOnly, [Buffer.from('x')], 0, true, none)!, { code: 'EBADF', syscall: 'pwritev', errno: -9 }, 'a descriptor open only for reading: the write fails');
  await t.rejects(appendDurable(987_654, [Buffer.from('x')], 0, true, none)!, { code: 'EBADF', message: /^EBADF: .*, pwritev$/ }, 'a descriptor that is not open');
  t.equal(fs.statSync(file).size, 0, 'nothing was written');
  const writable = fs.openSync(file, 'r+');
  t.teardown(() => fs.closeSync(writable));
  t.equal(await appendDurable(writable, [], 0, true, none), '', 'nothing to write: a sync alone');
  t.equal(await appendDurable(writable, [Buffer.from('abc')], 0, false, none), '', 'no sync asked');
  t.equal(fs.readFileSync(file, 'latin1'), 'abc');
  t.throws(() => appendDurable(writable, 'abc' as unknown as Uint8Array[], 0, true, none), TypeError, 'chunks not an array');
  t.throws(() => appendDurable(writable, [new Uint16Array(2) as unknown as Uint8Array], 0, true, none), TypeError, 'a chunk not a Uint8Array');
  for (const bad of [-1, 1.5, Number.NaN]) {
    t.throws(() => appendDurable(writable, [], bad, true, none), RangeError, `position ${bad}`);
    t.throws(() => appendDurable(writable, [], 0, true, { offset: bad, length: 0 }), RangeError, `drop offset ${bad}`);
  }
});

t.test('an appender opened on a file that ends inside a block reads that block back', async (t) => {
  const file = emptyFile(t);
  const first = crypto.randomBytes(DIRECT_BLOCK_BYTES + 1234);
  fs.writeFileSync(file, first);
  const appender = await Appender.open(file, first.byteLength, { mode: 'direct' });
  t.teardown(() => appender.close());
  const second = crypto.randomBytes(5000);
  await appender.write([second], first.byteLength);
  checkFile(t, file, Buffer.concat([first, second]), appender.direct, 'the old bytes before the append are kept');
});

t.test("an append that starts inside a block takes that block's head from the last append, not from the file", async (t) => {
  const file = emptyFile(t);
  const appender = await Appender.open(file, 0, { mode: 'direct' });
  t.teardown(() => appender.close());
  if (!appender.direct) {
    t.comment(`direct appends are off here (${directIoProblem() ?? 'this filesystem'}): the page cache keeps the block, nothing to check`);
    return;
  }
  const first = crypto.randomBytes(DIRECT_BLOCK_BYTES + 1234);
  await appender.write([first], 0);
  // The block's head changed on disk behind the appender's back: the next append rewrites that
  // block from what the appender wrote, so the change shows whether it read the block back (it
  // did, before every append, until the fifteenth session).
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(10, 0xaa), 0, 10, DIRECT_BLOCK_BYTES);
  fs.closeSync(fd);
  const second = crypto.randomBytes(100);
  await appender.write([second], first.byteLength);
  checkFile(t, file, Buffer.concat([first, second]), true, 'the head of the block as the appender wrote it');
});

t.test('after a cut the next append continues at the cut', async (t) => {
  const file = emptyFile(t);
  const appender = await Appender.open(file, 0, { mode: 'direct' });
  t.teardown(() => appender.close());
  const bytes = crypto.randomBytes(3 * DIRECT_BLOCK_BYTES + 700);
  await appender.write([bytes], 0);
  const cut = 2 * DIRECT_BLOCK_BYTES + 300;
  fs.truncateSync(file, cut);
  appender.truncated(cut);
  const more = crypto.randomBytes(999);
  await appender.write([more], cut);
  checkFile(t, file, Buffer.concat([bytes.subarray(0, cut), more]), appender.direct, 'cut, then appended');
});

t.test('a write that ends before what was written is refused and changes nothing', async (t) => {
  const file = emptyFile(t);
  const appender = await Appender.open(file, 0, { mode: 'direct' });
  t.teardown(() => appender.close());
  const bytes = crypto.randomBytes(10_000);
  await appender.write([bytes], 0);
  await t.rejects(appender.write([Buffer.alloc(10)], 5000), /ends before what was written \(10000\)/, 'refused: its padding would zero bytes after it');
  checkFile(t, file, bytes, appender.direct, 'unchanged');
  await appender.close();
  await t.rejects(appender.write([Buffer.alloc(1)], 10_000), /is closed/, 'a closed appender refuses writes');
});

t.test("with direct I/O turned off, direct appenders write 'dropped' and the process says why", async (t) => {
  setDirectIo(false);
  setAppendMode('direct');
  t.teardown(() => {
    setDirectIo(true);
    setAppendMode('dropped');
  });
  t.match(directIoProblem(), /off/, 'the process says direct I/O is off');
  t.same(appendIoStatus(), { mode: 'dropped', reason: 'not direct: off' }, "appends: 'dropped', and why not 'direct'");
  const file = emptyFile(t);
  const appender = await Appender.open(file, 0);
  t.teardown(() => appender.close());
  t.equal(appender.mode, 'dropped', 'through the page cache, dropped after the sync');
  const bytes = crypto.randomBytes(5555);
  await appender.write([bytes], 0);
  checkFile(t, file, bytes, false, 'off');
});

t.test("after a sync, 'dropped' leaves only the block still being filled in the page cache; 'cached' leaves every page", async (t) => {
  const page = 4096; // x86-64 and the block size; mincore counts pages of this size here
  for (const mode of ['dropped', 'cached'] as const) {
    const file = emptyFile(t);
    const appender = await Appender.open(file, 0, { mode });
    const fd = fs.openSync(file, 'r');
    t.teardown(() => fs.closeSync(fd));
    const cached = (): number => {
      const count = cachedPageCount(fd, 0, appender.end);
      if (count === null) throw new Error('the addon is not loaded: npm run build:native');
      return count;
    };
    const first = crypto.randomBytes(64 * page + 100);
    await appender.write([first], 0);
    t.equal(cached(), 65, `${mode}: written and not yet synced, all 65 pages are cached (dirty)`);
    await appender.datasync();
    t.equal(cached(), mode === 'dropped' ? 1 : 65, mode === 'dropped' ? 'dropped: after the sync only the last, partly filled page is left' : 'cached: all of them stay');
    const second = crypto.randomBytes(3 * page);
    await appender.write([second], first.byteLength);
    await appender.datasync();
    t.equal(cached(), mode === 'dropped' ? 1 : 68, `${mode}: the next append and sync, likewise`);
    await appender.close();
    checkFile(t, file, Buffer.concat([first, second]), false, mode);
  }
});

t.test('KVC_APPEND_IO picks the mode; a value that is none of them is said, and leaves the default', (t) => {
  t.same(appendModeFromEnv({}), { mode: 'dropped', problem: '' }, "unset: 'dropped'");
  for (const mode of APPEND_MODES) t.same(appendModeFromEnv({ KVC_APPEND_IO: mode }), { mode, problem: '' }, mode);
  t.same(appendModeFromEnv({ KVC_APPEND_IO: 'drect' }), { mode: 'dropped', problem: "KVC_APPEND_IO=drect is none of dropped, direct, cached, so appends are 'dropped'" }, 'a typo is said');
  t.same(appendIoStatus(), { mode: 'dropped', reason: '' }, "this process: 'dropped'");
  t.end();
});

t.test("without the addon, 'dropped' appends fall back to 'cached' after their first sync, the process says why, and writeDurable takes two steps", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvc-io-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const script = `
import fs from 'node:fs';
import { Appender, appendIoStatus } from './src/io/index.ts';
const file = ${JSON.stringify(path.join(dir, 'f'))};
fs.writeFileSync(file, '');
const first = await Appender.open(file, 0);
const before = first.mode;
await first.write([new Uint8Array(20000).fill(3)], 0);
await first.datasync();
const second = await Appender.open(file, 20000);
await second.write([new Uint8Array(5).fill(4)], 20000);
await second.datasync();
await second.writeDurable([new Uint8Array(7).fill(5)], 20005);
console.log(JSON.stringify({ before, after: first.mode, later: second.mode, status: appendIoStatus(), size: fs.statSync(file).size, tail: [...fs.readFileSync(file).subarray(20003)] }));
`;
  const child = runTsChild(script, { KVC_NATIVE: '0' });
  t.equal(child.status, 0, `the child ran: ${child.stderr.slice(-500)}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
  t.match(result, {
    before: 'dropped',
    after: 'cached',
    later: 'cached',
    status: { mode: 'cached', reason: /dropping written pages from the page cache failed \(native addon not loaded \(disabled by KVC_NATIVE=0\)\), so appends stay cached/ },
    size: 20012,
    tail: [4, 4, 5, 5, 5, 5, 5, 5, 5],
  });
});

t.test('dropCachedPages and cachedPageCount check their arguments', (t) => {
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
    t.throws(() => dropCachedPages(bad, 0, 0), RangeError, `fd ${bad}`);
    t.throws(() => cachedPageCount(0, bad, 0), RangeError, `offset ${bad}`);
    t.throws(() => cachedPageCount(0, 0, bad), RangeError, `length ${bad}`);
  }
  t.match(dropCachedPages(987_654, 0, 4096), /EBADF|not loaded/, 'a descriptor that is not open: the errno named');
  t.end();
});
