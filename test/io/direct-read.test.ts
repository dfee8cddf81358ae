// Direct reads (src/io): any range, aligned or not, shorter or longer than a scratch buffer, up to
// and past the file's end, reads the file's bytes; more reads at once than there are scratch
// buffers go through the page cache and read the same; and `direct: false` reads through it.

import t from 'tap';
import type { Test } from 'tap';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIRECT_BLOCK_BYTES, DIRECT_SCRATCH_BYTES, DirectReader } from '../../src/io/index.js';
import { LIMITS } from '../../src/limits.js';

function fileOf(t: Test, bytes: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvc-io-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, bytes);
  return file;
}

const CONTENT = crypto.randomBytes(DIRECT_SCRATCH_BYTES + 3 * DIRECT_BLOCK_BYTES + 123);
const RANGES: [number, number][] = [
  [0, 1],
  [0, DIRECT_BLOCK_BYTES],
  [1, DIRECT_BLOCK_BYTES],
  [DIRECT_BLOCK_BYTES - 1, 2],
  [5000, 100_000],
  [12_345, DIRECT_SCRATCH_BYTES + 10], // longer than a scratch buffer, unaligned at both ends
  [CONTENT.byteLength - 77, 77], // up to the end
];

for (const direct of [true, false]) {
  t.test(`every range reads the file's bytes (${direct ? 'direct' : 'page cache'})`, async (t) => {
    const reader = await DirectReader.open(fileOf(t, CONTENT), { direct });
    t.teardown(() => reader.close());
    t.equal(reader.direct, direct, direct ? 'this filesystem takes O_DIRECT' : 'direct: false reads through the page cache');
    for (const [position, length] of RANGES) {
      const into = new Uint8Array(length);
      t.equal(await reader.read(into, position), length, `${length} bytes at ${position}`);
      t.ok(Buffer.from(into).equals(CONTENT.subarray(position, position + length)), `the bytes at ${position}`);
    }
    const past = new Uint8Array(1000);
    t.equal(await reader.read(past, CONTENT.byteLength - 10), 10, 'a range past the end reads up to the end');
    t.ok(Buffer.from(past.subarray(0, 10)).equals(CONTENT.subarray(-10)), 'those bytes');
    t.equal(await reader.read(new Uint8Array(10), CONTENT.byteLength + 4096), 0, 'a range after the end reads nothing');
  });
}

t.test('more reads at once than scratch buffers: the rest go through the page cache, all read right', async (t) => {
  const reader = await DirectReader.open(fileOf(t, CONTENT));
  t.teardown(() => reader.close());
  const count = LIMITS.io.directScratchBuffersMax * 3;
  const reads = Array.from({ length: count }, (_, k) => {
    const position = k * 9_999 + 1;
    const into = new Uint8Array(2 * 1024 * 1024 + k);
    return reader.read(into, position).then((n) => n === into.byteLength && Buffer.from(into).equals(CONTENT.subarray(position, position + into.byteLength)));
  });
  t.same(await Promise.all(reads), Array.from({ length: count }, () => true), `${count} concurrent reads`);
  await reader.close();
  await t.rejects(reader.read(new Uint8Array(1), 0), /is closed/, 'a closed reader refuses reads');
});
