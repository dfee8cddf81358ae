// The allocator tuning every kvc process applies at its start (ALLOCATOR_TUNING): with the addon
// glibc takes the settings, a freshly allocated MiB-sized buffer then comes from reused heap, and
// the addon checks its arguments; the operator's own switches and a missing addon leave the
// allocator alone and say why. (Tuning this test process too is harmless: every kvc process does.)
import t from 'tap';
import { loaded } from '../../src/native/addon.js';
import { ALLOCATOR_TUNING, NativeApi } from '../../src/native/api.js';
import { tuneAllocator } from '../../src/native/index.js';
import { skipWithoutAddon } from './helpers.js';

t.test('a process with the addon tunes glibc malloc', { skip: skipWithoutAddon }, async (t) => {
  const result = tuneAllocator({});
  t.equal(result.applied, true, result.note);
  t.match(result.note, `mmap threshold ${ALLOCATOR_TUNING.mmapThresholdBytes}`);
});

t.test('the operator can keep glibc defaults, and a missing addon says why', async (t) => {
  const api = new NativeApi(loaded);
  t.same(api.tuneAllocator({ KVC_MALLOC_TUNING: '0' }), { applied: false, note: 'allocator left as it is: KVC_MALLOC_TUNING=0' });
  t.same(api.tuneAllocator({ MALLOC_MMAP_THRESHOLD_: '1048576' }), { applied: false, note: 'allocator left as it is: MALLOC_MMAP_THRESHOLD_ is set' });
  const none = new NativeApi({ addon: null, reason: 'KVC_NATIVE=0' });
  t.same(none.tuneAllocator({}), { applied: false, note: 'allocator left as it is: KVC_NATIVE=0' });
});

t.test('the raw addon refuses thresholds glibc cannot take', { skip: skipWithoutAddon }, async (t) => {
  const raw = loaded.addon!;
  t.throws(() => raw.tuneAllocator(0, 1, 1), RangeError);
  t.throws(() => raw.tuneAllocator(1.5, 1, 1), RangeError);
  t.throws(() => raw.tuneAllocator(1, 2 ** 31, 1), RangeError);
  t.throws(() => raw.tuneAllocator(1, 1, '1' as unknown as number), TypeError);
});
