// What a member sets in V8 before it starts (src/member/heap-tuning.ts): the old generation's
// growing factor from LIMITS.allocator and --expose-gc, as flags V8 parses; nothing when
// KVC_HEAP_TUNING=0. Then the idle collection that bounds what the larger limit leaves behind:
// no GC before the tuning is applied; after it, a full GC (a real one, seen by a GC observer)
// only once the collectable bytes grew by the threshold over the fewest seen, the count starting
// again after it; and the idle timer's callback collects only when the event loop was idle, and
// hands pages back only when a GC ran. Applied to this test process too, which is harmless (every
// member process does it). Its effect on puts is a benchmark figure (docs/BENCHMARKS.md, peers).
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import t from 'tap';
import { LIMITS } from '../../src/limits.js';
import { collectGarbageIfGrown, collectWhenIdle, heapTuningFlags, tuneHeap } from '../../src/member/index.js';

const MIB = 1024 * 1024;

/** Answers the given values in turn (the last one from then on). */
function readings(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

t.test('KVC_HEAP_TUNING=0 leaves V8 as it is, and nothing collects', async (t) => {
  t.same(heapTuningFlags({ KVC_HEAP_TUNING: '0' }), []);
  t.same(tuneHeap({ KVC_HEAP_TUNING: '0' }), { applied: false, note: 'V8 heap left as it is: KVC_HEAP_TUNING=0' });
  t.equal(collectGarbageIfGrown(1, readings(0, 100 * MIB)), false);
});

t.test('a member pins the heap growing factor from LIMITS.allocator and gets a full GC', async (t) => {
  const flags = heapTuningFlags({});
  t.same(flags, [`--heap-growing-percent=${LIMITS.allocator.v8HeapGrowingPercent}`, '--expose-gc']);
  t.same(tuneHeap({}), { applied: true, note: flags.join(' ') });
  t.equal('gc' in globalThis, false, "the process's own global scope gets no gc");
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  observer.observe({ entryTypes: ['gc'] });
  const growth = 16 * MIB;
  // Fewest seen: 100 MiB; then 110 (grew 10), 90 (a new fewest), 105 (grew 15): no GC.
  t.equal(collectGarbageIfGrown(growth, readings(100 * MIB)), false);
  t.equal(collectGarbageIfGrown(growth, readings(110 * MIB)), false);
  t.equal(collectGarbageIfGrown(growth, readings(90 * MIB)), false);
  t.equal(collectGarbageIfGrown(growth, readings(105 * MIB)), false);
  // 106 MiB is 16 over the fewest: a full GC, after which 95 MiB is the new fewest.
  t.equal(collectGarbageIfGrown(growth, readings(106 * MIB, 95 * MIB)), true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  observer.disconnect();
  t.ok(majors >= 1, `a full GC ran (${majors} seen)`);
  t.equal(collectGarbageIfGrown(growth, readings(106 * MIB)), false, 'counted from after that GC');
  t.equal(collectGarbageIfGrown(growth, readings(111 * MIB)), true);
  // The real measure (JS heap in use + ArrayBuffers): any growth at all past a threshold of 0.
  t.equal(collectGarbageIfGrown(0), true);
});

t.test('the idle timer collects only while the event loop is idle, and trims only after a GC', async (t) => {
  const busyMax = LIMITS.allocator.idleGcBusyPercentMax;
  let collects = 0;
  let trims = 0;
  const collect = (result: boolean) => () => {
    collects++;
    return result;
  };
  collectWhenIdle(() => trims++, readings(busyMax + 1), collect(true))();
  t.same([collects, trims], [0, 0], 'busy: no look at the heap');
  collectWhenIdle(() => trims++, readings(busyMax), collect(false))();
  t.same([collects, trims], [1, 0], 'idle, nothing grown: no trim');
  collectWhenIdle(() => trims++, readings(0), collect(true))();
  t.same([collects, trims], [2, 1], 'idle and collected: pages handed back');
  // The default measure of idleness: event-loop utilization since the previous call.
  const tick = collectWhenIdle(() => trims++, undefined, collect(false));
  await new Promise((resolve) => setTimeout(resolve, 20));
  tick();
  t.ok(collects >= 2 && collects <= 3, 'runs with the real event-loop utilization');
  // The default collect, right after a GC: nothing grew by LIMITS.allocator.idleGcGrowthBytes.
  t.equal(collectGarbageIfGrown(0), true);
  const trimsBefore = trims;
  collectWhenIdle(() => trims++, () => 0)();
  t.equal(trims, trimsBefore, 'grown by less than the threshold: no GC, no trim');
});
