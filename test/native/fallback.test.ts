// Proves that the project works without the addon. A child process started with KVC_NATIVE=0
// reports the addon as not loaded with the reason, and its crc32c and fp16 conversions give the
// published vectors and the same answers as this process (which uses the addon when it is built)
// on seeded data, and its copyCrc32c (a copy, then a checksum) the same bytes and checksum. In this process, an API instance with no addon (the same code the fallback
// runs) hands out plain ArrayBuffer regions that freePinned detaches, reads the NUMA topology in
// TypeScript with the same result as the addon, refuses affinity, warns once, and checks
// arguments exactly as with the addon. loadAddon reports KVC_NATIVE=0 and a missing build.

import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { crc32c } from '../../src/bytes/crc32c.js';
import { fp16ToFp32, fp32ToFp16 } from '../../src/bytes/fp16.js';
import { loadAddon } from '../../src/native/addon.js';
import { NativeApi } from '../../src/native/api.js';
import { numaTopology } from '../../src/native/index.js';
import { prng } from '../codec/prng.js';
import { runTsChild, skipWithoutAddon } from './helpers.js';

const MIB = 1024 * 1024;

/** Checksums of conversions of seeded data: equal in two processes only if the conversions agree. */
const CHILD = `
import { nativeStatus, allocPinned, freePinned, setThreadAffinity } from './src/native/index.ts';
import { crc32c, fp32ToFp16, fp16ToFp32 } from './src/codec/index.ts';
import { copyCrc32c } from './src/bytes/index.ts';
import { prng } from './test/codec/prng.ts';
const next = prng(21);
const bits = Uint32Array.from({ length: 300_000 }, () => next());
const halves = fp32ToFp16(new Float32Array(bits.buffer));
const region = allocPinned(1024 * 1024);
freePinned(region);
console.log(JSON.stringify({
  status: nativeStatus(),
  vector: crc32c(new TextEncoder().encode('123456789')),
  zeros: crc32c(new Uint8Array(32)),
  toFp16: crc32c(new Uint8Array(halves.buffer)),
  toFp32: crc32c(new Uint8Array(fp16ToFp32(halves).buffer)),
  copied: (() => {
    const into = new Uint8Array(halves.byteLength + 3);
    const crc = copyCrc32c(new Uint8Array(halves.buffer), into, 3, 7);
    return { crc, bytes: crc32c(into) };
  })(),
  region: { mlocked: region.mlocked, numaNode: region.numaNode, note: region.note, detached: region.buffer.byteLength === 0 },
  affinity: setThreadAffinity([0]),
}));
`;

t.test('KVC_NATIVE=0 in a child process: TypeScript paths, same answers', async (t) => {
  const child = runTsChild(CHILD, { KVC_NATIVE: '0' });
  t.equal(child.status, 0, `the child ran: ${child.stderr.slice(-500)}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}');
  t.same(result.status, { loaded: false, reason: 'disabled by KVC_NATIVE=0', features: { sse42: false, f16c: false, avx2: false } });
  t.equal(result.vector, 0xe3069283, 'crc32c("123456789")');
  t.equal(result.zeros, 0x8a9136aa, 'crc32c of 32 zero bytes');
  const next = prng(21);
  const bits = Uint32Array.from({ length: 300_000 }, () => next());
  const halves = fp32ToFp16(new Float32Array(bits.buffer));
  t.equal(result.toFp16, crc32c(new Uint8Array(halves.buffer)), 'fp32 → fp16 gives the same bits as here');
  t.equal(result.toFp32, crc32c(new Uint8Array(fp16ToFp32(halves).buffer)), 'fp16 → fp32 too');
  const into = new Uint8Array(halves.byteLength + 3);
  into.set(new Uint8Array(halves.buffer), 3);
  t.same(result.copied, { crc: crc32c(new Uint8Array(halves.buffer), 7), bytes: crc32c(into) }, 'copyCrc32c copies the same bytes and returns the same checksum');
  t.match(result.region, { mlocked: false, numaNode: null, note: /not pinned: native addon not loaded \(disabled by KVC_NATIVE=0\)/, detached: true });
  t.equal(result.affinity, false, 'no affinity without the addon');
});

t.test('the fallback API in this process', async (t) => {
  const api = new NativeApi({ addon: null, reason: 'not built (test)' });
  t.same(api.nativeStatus(), { loaded: false, reason: 'not built (test)', features: { sse42: false, f16c: false, avx2: false } });
  const region = api.allocPinned(MIB + 1, { numaNode: 0 });
  t.match(region, { bytes: MIB + 1, numaNode: null, mlocked: false, hugePageAligned: false, cudaRegistered: false });
  t.match(region.note, /plain ArrayBuffer, not pinned: native addon not loaded \(not built \(test\)\)/);
  new Uint8Array(region.buffer).fill(9);
  t.equal(new Uint8Array(region.buffer)[MIB], 9, 'usable');
  api.freePinned(region);
  t.equal(region.buffer.byteLength, 0, 'freePinned detaches the plain buffer too');
  t.doesNotThrow(() => api.freePinned(region), 'idempotent');
  t.same(api.numaTopology(), numaTopology(), 'the TypeScript topology equals the default one');
  t.equal(api.setThreadAffinity([0]), false);
  t.equal(api.threadAffinity(), null);
  t.equal(api.setNativeSimdEnabled(false), false);
  t.equal(api.setNativeWideSimdEnabled(false), false, 'the 512-bit switch: no effect without the addon');
  t.equal(api.nativeCodec(), null);
  const lines: string[] = [];
  api.warnOnceIfFallback((line) => lines.push(line));
  api.warnOnceIfFallback((line) => lines.push(line));
  t.equal(lines.length, 1, 'warns once');
  t.match(lines[0], /native addon not loaded \(not built \(test\)\): using the TypeScript paths/);
  t.throws(() => api.allocPinned(0), RangeError);
  t.throws(() => api.allocPinned(MIB, { numaNode: 7 }), RangeError);
  t.throws(() => api.setThreadAffinity([]), RangeError);
  t.throws(() => api.setNativeSimdEnabled(1 as never), TypeError);
  t.throws(() => api.setNativeWideSimdEnabled(1 as never), TypeError);
});

t.test('warnOnceIfFallback is silent when the addon is loaded', { skip: skipWithoutAddon }, async (t) => {
  const lines: string[] = [];
  new NativeApi(loadAddon()).warnOnceIfFallback((line) => lines.push(line));
  t.same(lines, []);
});

t.test('loadAddon says why it did not load', async (t) => {
  t.same(loadAddon({ KVC_NATIVE: '0' }), { addon: null, reason: 'disabled by KVC_NATIVE=0' });
  const missing = loadAddon({}, path.join(os.tmpdir(), `kvc-no-addon-${process.pid}`));
  t.equal(missing.addon, null);
  t.match(missing.reason, /^the addon could not be loaded \(.+\); build it with npm run build:native$/);
});
