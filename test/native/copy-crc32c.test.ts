// Proves the one-pass copy and checksum (native/src/crc32c.cc CopyCrc32c, the addon's copyCrc32c
// and copySharedCrc32c, src/bytes copyCrc32c, the mapped reader's readCrc32c): on seeded random
// inputs of many lengths (0..2100 and around the kernels' block sizes up to 2 MiB + 13) at every
// source alignment 0..63 and random destination offsets and seeds, under each crc32c kernel
// (AVX-512 folding where the CPU has it, SSE4.2, scalar), the bytes written equal the source, the
// bytes around them are untouched, and the result equals the TypeScript crc32c of the copy from
// the same seed; consecutive copies chain through the seed. From a shared file, readCrc32c equals
// read() then crc32c; readCrc32cAsync (the copy on libuv's pool) gives the same bytes and crc32c
// for 48 concurrent copies, and a close while copies run lets them finish whole. Bad arguments are
// RangeError/TypeError (overlap, not fitting, bad seed).
// Without the addon, short inputs and KVC_NATIVE=0 (test/native/fallback.test.ts) take the
// copy-then-checksum path with the same answers. Skips the addon parts, saying why, without it.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { copyCrc32c, crc32cTs, NATIVE_CRC32C_MIN_BYTES } from '../../src/bytes/crc32c.js';
import { NativeApi } from '../../src/native/api.js';
import { allocShared, freePinned, openSharedFile, SHARED_DATA_OFFSET, setNativeWideSimdEnabled } from '../../src/native/index.js';
import { prng } from '../codec/prng.js';
import { addonCodec, CRC_KERNELS, skipWithoutAddon, withKernel } from './helpers.js';

const SHORT_LENGTH_MAX = 2100;
const LONG_LENGTHS = [24_575, 24_576, 24_577, 65_536 + 511, 1_000_003, (2 << 20) + 13];
const MIB = 1024 * 1024;

function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

/** Copies `length` bytes at source alignment `srcOffset` with `copy`; returns what failed, or ''. */
function checkOne(copy: (src: Uint8Array, dst: Uint8Array, at: number, seed: number) => number, source: Uint8Array, srcOffset: number, length: number, next: () => number): string {
  const src = source.subarray(srcOffset, srcOffset + length);
  const at = next() % 64;
  const dst = new Uint8Array(at + length + 16).fill(0xa5);
  const seed = next();
  const crc = copy(src, dst, at, seed);
  if (crc !== crc32cTs(src, seed)) return `crc at length ${length} alignment ${srcOffset}`;
  if (!Buffer.from(dst.subarray(at, at + length)).equals(src)) return `bytes at length ${length} alignment ${srcOffset}`;
  if (dst.subarray(0, at).some((b) => b !== 0xa5) || dst.subarray(at + length).some((b) => b !== 0xa5)) return `bytes around the copy at length ${length}`;
  return '';
}

for (const kernel of CRC_KERNELS) {
  t.test(`addon copyCrc32c, ${kernel.name} kernel`, { skip: skipWithoutAddon }, async (t) => {
    withKernel(kernel.simd, () => {
      t.equal(setNativeWideSimdEnabled(kernel.wide), kernel.wide, `512-bit kernels ${kernel.wide ? 'on' : 'off'} inside`);
      const next = prng(31);
      const source = randomBytes(next, (2 << 20) + 13 + 64);
      const raw = (src: Uint8Array, dst: Uint8Array, at: number, seed: number): number => addonCodec().copyCrc32c(src, dst, at, seed);
      const failures: string[] = [];
      for (let length = 0; length <= SHORT_LENGTH_MAX; length += 1 + (length >> 7)) {
        for (let srcOffset = 0; srcOffset < 64; srcOffset += 1 + (length & 7)) {
          const failed = checkOne(raw, source, srcOffset, length, next);
          if (failed !== '') failures.push(failed);
        }
      }
      for (const length of LONG_LENGTHS) {
        const failed = checkOne(raw, source, next() % 64, length, next);
        if (failed !== '') failures.push(failed);
      }
      t.same(failures, [], 'every copy has the source\'s bytes and their crc32c');
      // A page copied chunk by chunk: the seed carries the checksum on.
      const page = source.subarray(7, 7 + MIB + 3);
      const into = new Uint8Array(page.byteLength);
      let crc = 0;
      for (let at = 0; at < page.byteLength; at += 16_384 + 5) crc = raw(page.subarray(at, Math.min(at + 16_384 + 5, page.byteLength)), into, at, crc);
      t.equal(crc, crc32cTs(page), 'chunks chained through the seed give the whole page\'s crc32c');
      t.same(Buffer.from(into), Buffer.from(page), 'and the whole page');
    }, kernel.wide);
  });
}

t.test('the addon checks copyCrc32c\'s arguments', { skip: skipWithoutAddon }, async (t) => {
  const codec = addonCodec();
  const buffer = new Uint8Array(1024);
  t.throws(() => codec.copyCrc32c(buffer.subarray(0, 512), buffer, 100, 0), { message: /overlap/ }, 'overlapping ranges');
  t.throws(() => codec.copyCrc32c(new Uint8Array(10), new Uint8Array(10), 1, 0), RangeError, 'does not fit');
  t.throws(() => codec.copyCrc32c(new Uint8Array(10), new Uint8Array(10), -1, 0), RangeError, 'a negative offset');
  t.throws(() => codec.copyCrc32c(new Uint8Array(10), new Uint8Array(10), 0, 2 ** 32), RangeError, 'a seed over 32 bits');
  t.throws(() => codec.copyCrc32c(new Uint16Array(4) as never, new Uint8Array(10), 0, 0), TypeError, 'not a Uint8Array');
  t.equal(codec.copyCrc32c(buffer.subarray(0, 512), buffer, 512, 9), crc32cTs(buffer.subarray(0, 512), 9), 'adjacent ranges are fine');
});

t.test('copyCrc32c of src/bytes: native from NATIVE_CRC32C_MIN_BYTES, copy then checksum below', async (t) => {
  const next = prng(32);
  const source = randomBytes(next, 70_000);
  const failures: string[] = [];
  for (const length of [0, 1, 7, NATIVE_CRC32C_MIN_BYTES - 1, NATIVE_CRC32C_MIN_BYTES, 4096 + 5, 65_537]) {
    const failed = checkOne(copyCrc32c, source, next() % 64, length, next);
    if (failed !== '') failures.push(failed);
  }
  t.same(failures, []);
  t.throws(() => copyCrc32c(new Uint8Array(10), new Uint8Array(10), 1), RangeError, 'does not fit');
  t.throws(() => copyCrc32c(new Uint8Array(1), new Uint8Array(10), 0.5), RangeError, 'a fractional offset');
  t.equal(copyCrc32c(new TextEncoder().encode('123456789'), new Uint8Array(9), 0), 0xe3069283, 'the published vector');
});

t.test('a shared file: readCrc32c of the mapping equals read then crc32c, and pread has none', { skip: skipWithoutAddon }, async (t) => {
  const file = path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `kvc-native-test-${process.pid}-${cryptoRandomBytes(4).toString('hex')}.arena`);
  t.teardown(() => rmSync(file, { force: true }));
  const region = allocShared(file, 3 * MIB, {}, new Uint8Array(8));
  new Uint8Array(region.buffer).set(randomBytes(prng(33), 3 * MIB));
  const mapped = openSharedFile(file);
  const pread = new NativeApi({ addon: null, reason: 'test' }).openSharedFile(file);
  t.equal(pread.readCrc32c, undefined, 'the pread reader reads only');
  for (const [offset, length] of [[SHARED_DATA_OFFSET, 2 * MIB], [SHARED_DATA_OFFSET + 12_345, 70_001], [SHARED_DATA_OFFSET + 3 * MIB - 5, 5], [0, 0]] as const) {
    const fused = new Uint8Array(length);
    const plain = new Uint8Array(length);
    const crc = mapped.readCrc32c!(offset, fused, 0);
    pread.read(offset, plain);
    t.same(Buffer.from(fused), Buffer.from(plain), `the same bytes at ${offset} +${length}`);
    t.equal(crc, crc32cTs(plain), 'and their crc32c');
  }
  t.equal(mapped.readCrc32c!(SHARED_DATA_OFFSET, new Uint8Array(100), 5), crc32cTs(new Uint8Array(region.buffer, 0, 100), 5), 'from a seed');
  t.throws(() => mapped.readCrc32c!(mapped.bytes - 10, new Uint8Array(11), 0), RangeError, 'past the end');
  mapped.close();
  pread.close();
  t.throws(() => mapped.readCrc32c!(0, new Uint8Array(1), 0), RangeError, 'a closed reader');
  freePinned(region);
});

t.test('readCrc32cAsync: copies on the pool equal readCrc32c; a close while they run lets them finish', { skip: skipWithoutAddon }, async (t) => {
  const file = path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `kvc-native-test-${process.pid}-${cryptoRandomBytes(4).toString('hex')}.arena`);
  t.teardown(() => rmSync(file, { force: true }));
  const region = allocShared(file, 8 * MIB, {}, new Uint8Array(8));
  t.teardown(() => freePinned(region));
  const next = prng(34);
  new Uint8Array(region.buffer).set(randomBytes(next, 8 * MIB));
  const mapped = openSharedFile(file);
  const reads = Array.from({ length: 48 }, (_, i) => {
    const length = i % 3 === 0 ? 2 * MIB : 1 + (next() % MIB);
    const offset = SHARED_DATA_OFFSET + (next() % (8 * MIB - length));
    return { offset, length, seed: next() >>> 0, dst: new Uint8Array(length) };
  });
  const crcs = await Promise.all(reads.map((r) => mapped.readCrc32cAsync!(r.offset, r.dst, r.seed)));
  const failures = reads.filter((r, i) => {
    const expected = new Uint8Array(r.length);
    return mapped.readCrc32c!(r.offset, expected, r.seed) !== crcs[i] || !Buffer.from(expected).equals(r.dst);
  });
  t.equal(failures.length, 0, '48 concurrent copies: the bytes and crc32c of the same reads made on this thread');
  t.throws(() => mapped.readCrc32cAsync!(mapped.bytes - 10, new Uint8Array(11), 0), RangeError, 'past the end: thrown at once');

  // Closed while copies run: they complete whole (the mapping stays until the last ends), and
  // the reader refuses new reads at once.
  const empty = reads.map((r) => mapped.readCrc32cAsync!(r.offset, new Uint8Array(0), 0));
  const whole = reads.slice(0, 12).map((r) => {
    const dst = new Uint8Array(r.length);
    return { r, dst, crc: mapped.readCrc32cAsync!(r.offset, dst, r.seed) };
  });
  mapped.close();
  t.throws(() => mapped.readCrc32cAsync!(SHARED_DATA_OFFSET, new Uint8Array(1), 0), RangeError, 'a closed reader');
  const after = await Promise.all(whole.map((w) => w.crc));
  t.same(after, crcs.slice(0, 12), 'the copies running at the close finished with the same crc32c');
  t.ok(whole.every((w, i) => Buffer.from(w.dst).equals(reads[i]!.dst)), 'and the same bytes');
  t.same(await Promise.all(empty), reads.map(() => 0), 'empty copies settle too');
});
