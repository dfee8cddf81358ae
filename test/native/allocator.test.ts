// The allocator tuning every kvc process applies at its start (LIMITS.allocator): with the addon
// glibc takes the settings, a freshly allocated MiB-sized buffer then comes from reused heap, and
// the addon checks its arguments; the operator's own switches and a missing addon leave the
// allocator alone and say why. (Tuning this test process too is harmless: every kvc process does.)
// Trimming hands free heap pages back: after 64 MiB of buffers were freed below a live one, the
// process's resident memory drops.
import v8 from 'node:v8';
import vm from 'node:vm';
import t from 'tap';
import { loadedAddon } from '../../src/native/addon.js';
import { NativeApi } from '../../src/native/api.js';
import { trimAllocator, tuneAllocator } from '../../src/native/index.js';
import { LIMITS } from '../../src/limits.js';
import { skipWithoutAddon } from './helpers.js';

t.test('a process with the addon tunes glibc malloc', { skip: skipWithoutAddon }, async (t) => {
  const result = tuneAllocator({});
  t.equal(result.applied, true, result.note);
  t.match(result.note, `mmap threshold ${LIMITS.allocator.mmapThresholdBytes}`);
});

t.test('the operator can keep glibc defaults, and a missing addon says why', async (t) => {
  const api = new NativeApi(loadedAddon());
  t.same(api.tuneAllocator({ KVC_MALLOC_TUNING: '0' }), { applied: false, note: 'allocator left as it is: KVC_MALLOC_TUNING=0' });
  t.same(api.tuneAllocator({ MALLOC_MMAP_THRESHOLD_: '1048576' }), { applied: false, note: 'allocator left as it is: MALLOC_MMAP_THRESHOLD_ is set' });
  const none = new NativeApi({ addon: null, reason: 'KVC_NATIVE=0' });
  t.same(none.tuneAllocator({}), { applied: false, note: 'allocator left as it is: KVC_NATIVE=0' });
});

t.test('the raw addon refuses thresholds glibc cannot take', { skip: skipWithoutAddon }, async (t) => {
  const raw = loadedAddon().addon!;
  t.throws(() => raw.tuneAllocator(0, 1, 1), RangeError);
  t.throws(() => raw.tuneAllocator(1.5, 1, 1), RangeError);
  t.throws(() => raw.tuneAllocator(1, 2 ** 31, 1), RangeError);
  t.throws(() => raw.tuneAllocator(1, 1, '1' as unknown as number), TypeError);
});

t.test('trimming hands free heap pages in the middle of the heap back to the kernel', { skip: skipWithoutAddon }, async (t) => {
  tuneAllocator({});
  const MIB = 1024 * 1024;
  // 32 buffers of 2 MiB from the heap (below the mmap threshold), touched, then one more on top.
  let freed: Buffer[] = Array.from({ length: 32 }, () => Buffer.allocUnsafeSlow(2 * MIB).fill(7));
  const top = Buffer.allocUnsafeSlow(2 * MIB).fill(8);
  const rssWithBuffers = process.memoryUsage.rss();
  // Free the 32 (the C memory goes when the garbage collector finalizes them).
  freed = [];
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc();
  const trim = trimAllocator();
  t.equal(trim.supported, true, 'glibc with the addon');
  t.ok(trim.freeBytes >= 0, `free heap bytes reported (${trim.freeBytes})`);
  const rssAfter = process.memoryUsage.rss();
  t.ok(rssAfter < rssWithBuffers - 32 * MIB, `resident memory fell from ${Math.round(rssWithBuffers / MIB)} MiB to ${Math.round(rssAfter / MIB)} MiB`);
  t.equal(top[0], 8, 'the live buffer is untouched');
  t.equal(freed.length, 0);
});

t.test('without the addon trimming does nothing and says so', async (t) => {
  t.same(new NativeApi({ addon: null, reason: 'KVC_NATIVE=0' }).trimAllocator(), { supported: false, released: false, freeBytes: 0 });
});
