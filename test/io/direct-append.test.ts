// Direct appends (src/io): whatever the sizes and split of the writes, the file holds exactly the
// bytes written, then (direct) zeros up to the next block boundary; an appender reopened on a file
// whose end is inside a block reads that block back; a write that would zero bytes after it is
// refused; and where direct appends are off, the same bytes go through the page cache.

import t from 'tap';
import type { Test } from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIRECT_BLOCK_BYTES, DIRECT_SCRATCH_BYTES, DirectAppender, directIoProblem, setDirectIo } from '../../src/io/index.js';

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

for (const direct of [true, false]) {
  t.test(`appends of every size and split land whole (${direct ? 'direct' : 'page cache'})`, async (t) => {
    const file = emptyFile(t);
    const appender = await DirectAppender.open(file, 0, { direct });
    t.teardown(() => appender.close());
    t.equal(appender.direct, direct, direct ? 'this filesystem takes O_DIRECT' : 'direct: false writes through the page cache');
    const written: Buffer[] = [];
    let end = 0;
    for (const size of SIZES) {
      const bytes = crypto.randomBytes(size);
      await appender.write(split(bytes), end);
      end += size;
      written.push(bytes);
      t.equal(appender.end, end, `after ${size} bytes the end is ${end}`);
    }
    checkFile(t, file, Buffer.concat(written), direct, `${SIZES.length} appends`);
  });
}

t.test('an appender opened on a file that ends inside a block reads that block back', async (t) => {
  const file = emptyFile(t);
  const first = crypto.randomBytes(DIRECT_BLOCK_BYTES + 1234);
  fs.writeFileSync(file, first);
  const appender = await DirectAppender.open(file, first.byteLength);
  t.teardown(() => appender.close());
  const second = crypto.randomBytes(5000);
  await appender.write([second], first.byteLength);
  checkFile(t, file, Buffer.concat([first, second]), appender.direct, 'the old bytes before the append are kept');
});

t.test("an append that starts inside a block takes that block's head from the last append, not from the file", async (t) => {
  const file = emptyFile(t);
  const appender = await DirectAppender.open(file, 0);
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
  const appender = await DirectAppender.open(file, 0);
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
  const appender = await DirectAppender.open(file, 0);
  t.teardown(() => appender.close());
  const bytes = crypto.randomBytes(10_000);
  await appender.write([bytes], 0);
  await t.rejects(appender.write([Buffer.alloc(10)], 5000), /ends before what was written \(10000\)/, 'refused: its padding would zero bytes after it');
  checkFile(t, file, bytes, appender.direct, 'unchanged');
  await appender.close();
  await t.rejects(appender.write([Buffer.alloc(1)], 10_000), /is closed/, 'a closed appender refuses writes');
});

t.test('with direct appends turned off, appenders write through the page cache and say why', async (t) => {
  setDirectIo(false);
  t.teardown(() => setDirectIo(true));
  t.match(directIoProblem(), /off/, 'the process says direct appends are off');
  const file = emptyFile(t);
  const appender = await DirectAppender.open(file, 0);
  t.teardown(() => appender.close());
  t.equal(appender.direct, false, 'page cache');
  const bytes = crypto.randomBytes(5555);
  await appender.write([bytes], 0);
  checkFile(t, file, bytes, false, 'off');
});
