// How long a member's periodic heap trim (trimAllocator, LIMITS.allocator.trimIntervalMs) holds
// the event loop: 100 buffers of 2 MiB are freed below a live one, as after a burst of puts, then
// one trim hands their pages back; then a trim with nothing to hand back.
//   node --import tsx scripts/bench/allocator-trim.ts
import v8 from 'node:v8';
import vm from 'node:vm';
import { trimAllocator, tuneAllocator } from '../../src/native/index.js';

const MIB = 1024 * 1024;
const ROUNDS = 5;
console.log(tuneAllocator({}).note);
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
for (let round = 1; round <= ROUNDS; round++) {
  let freed = Array.from({ length: 100 }, () => Buffer.allocUnsafeSlow(2 * MIB).fill(1));
  const live = Buffer.allocUnsafeSlow(2 * MIB).fill(2);
  freed = [];
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  const rssBefore = process.memoryUsage.rss();
  let started = performance.now();
  const trim = trimAllocator();
  const trimMs = performance.now() - started;
  const rssAfter = process.memoryUsage.rss();
  started = performance.now();
  trimAllocator();
  const idleMs = performance.now() - started;
  console.log(
    `round ${round}: trim ${trimMs.toFixed(1)} ms (RSS ${Math.round(rssBefore / MIB)} -> ${Math.round(rssAfter / MIB)} MiB, released ${trim.released}), ` +
      `then a trim with nothing to release ${idleMs.toFixed(2)} ms (live buffer ${live[0]}, ${freed.length} freed left)`,
  );
}
