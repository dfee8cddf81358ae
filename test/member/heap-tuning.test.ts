// What a member sets in V8 before it starts (src/member/heap-tuning.ts): the old generation's
// growing factor from LIMITS.allocator, as the one flag V8 parses; nothing when KVC_HEAP_TUNING=0.
// Applied to this test process too, which is harmless (every member process does it). Its effect,
// fewer full GCs of a leader under MiB-sized puts, is a benchmark figure (docs/BENCHMARKS.md,
// peers), not asserted here.
import t from 'tap';
import { LIMITS } from '../../src/limits.js';
import { heapTuningFlags, tuneHeap } from '../../src/member/index.js';

t.test('a member pins the heap growing factor from LIMITS.allocator', async (t) => {
  const flags = heapTuningFlags({});
  t.same(flags, [`--heap-growing-percent=${LIMITS.allocator.v8HeapGrowingPercent}`]);
  t.same(tuneHeap({}), { applied: true, note: flags[0] });
});

t.test('KVC_HEAP_TUNING=0 leaves V8 as it is', async (t) => {
  t.same(heapTuningFlags({ KVC_HEAP_TUNING: '0' }), []);
  t.same(tuneHeap({ KVC_HEAP_TUNING: '0' }), { applied: false, note: 'V8 heap left as it is: KVC_HEAP_TUNING=0' });
});
