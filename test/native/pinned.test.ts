// Proves that allocPinned gives a usable region of exactly the size asked for, huge-page aligned,
// honestly reporting mlock (the process's locked memory, VmLck, grows by the mapping when it says
// mlocked, and the note names RLIMIT_MEMLOCK when it does not), bound to NUMA node 0 when asked,
// and counted as external memory for V8; that freePinned releases it at once (the buffer is
// detached, VmLck and the external memory drop back) and is idempotent; that bad sizes, nodes
// and options are refused with TypeError or RangeError before anything is mapped; and, in a
// child process with --expose-gc, that thousands of megabytes of regions dropped without
// freePinned are unmapped by their finalizers (memory stays bounded). Skips, saying why, when
// the addon is not loaded (the fallback regions are tested in fallback.test.ts).

import { readFileSync } from 'node:fs';
import t from 'tap';
import { allocPinned, freePinned, PINNED_BYTES_MAX } from '../../src/native/index.js';
import { runTsChild, skipWithoutAddon } from './helpers.js';

const MIB = 1024 * 1024;
const HUGE_PAGE_BYTES = 2 * MIB;
const KIB = 1024;

/** A field of /proc/self/status in bytes (VmLck, VmRSS). */
function statusBytes(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]) * KIB;
}

t.test('a region is usable, aligned, honest about mlock, and released by freePinned', { skip: skipWithoutAddon }, async (t) => {
  const bytes = 3 * MIB + 5;
  const mappedBytes = 4 * MIB;
  const lockedBefore = statusBytes('VmLck');
  const region = allocPinned(bytes);
  t.equal(region.buffer.byteLength, bytes, 'the buffer is exactly the size asked for');
  t.equal(region.bytes, bytes);
  t.equal(region.hugePageAligned, true);
  t.equal(region.numaNode, null, 'no node asked, none bound');
  t.equal(region.cudaRegistered, false, 'no GPU here');
  const view = new Uint8Array(region.buffer);
  t.equal(view[0] + view[bytes - 1], 0, 'the memory starts zeroed');
  view.fill(0xab);
  t.equal(view[bytes - 1], 0xab, 'and can be written and read back');
  const lockedGrowth = statusBytes('VmLck') - lockedBefore;
  if (region.mlocked) {
    t.equal(lockedGrowth, mappedBytes, 'mlocked: VmLck grew by the mapping (rounded to 2 MiB)');
    t.equal(region.note, '', 'and the note is empty');
  } else {
    t.equal(lockedGrowth, 0, 'not mlocked: VmLck did not grow');
    t.match(region.note, /RLIMIT_MEMLOCK/, `the note says why: ${region.note}`);
  }
  freePinned(region);
  t.equal(region.buffer.byteLength, 0, 'freePinned detaches the buffer');
  t.equal(view.length, 0, 'so every view of it is empty');
  t.equal(statusBytes('VmLck'), lockedBefore, 'the lock is gone');
  t.doesNotThrow(() => freePinned(region), 'freePinned is idempotent');
});

t.test('V8 counts a region as external memory until it is freed', { skip: skipWithoutAddon }, async (t) => {
  // Large enough that other external memory coming and going (Buffers) cannot hide it.
  const bytes = 64 * MIB;
  const slack = 4 * MIB;
  const before = process.memoryUsage().external;
  const region = allocPinned(bytes);
  const during = process.memoryUsage().external;
  t.ok(during - before > bytes - slack, `external memory grew by ${Math.round((during - before) / MIB)} MiB`);
  freePinned(region);
  const after = process.memoryUsage().external;
  t.ok(during - after > bytes - slack, `and dropped by ${Math.round((during - after) / MIB)} MiB after freePinned`);
});

t.test('a region bound to NUMA node 0', { skip: skipWithoutAddon }, async (t) => {
  const region = allocPinned(HUGE_PAGE_BYTES, { numaNode: 0 });
  t.equal(region.numaNode, 0, `bound to node 0${region.note === '' ? '' : ` (${region.note})`}`);
  new Float64Array(region.buffer).fill(1.5);
  t.equal(new Float64Array(region.buffer)[HUGE_PAGE_BYTES / 8 - 1], 1.5);
  freePinned(region);
});

t.test('bad arguments are refused before anything is mapped', async (t) => {
  const lockedBefore = statusBytes('VmLck');
  for (const bytes of [0, -1, 1.5, Number.NaN, Infinity, PINNED_BYTES_MAX + 1]) {
    t.throws(() => allocPinned(bytes), RangeError, `bytes ${bytes}`);
  }
  t.throws(() => allocPinned('1024' as never), TypeError, 'bytes as a string');
  t.throws(() => allocPinned(MIB, { numaNode: 4096 }), RangeError, 'a node that does not exist');
  t.throws(() => allocPinned(MIB, { numaNode: -1 }), RangeError, 'a negative node');
  t.throws(() => allocPinned(MIB, { numaNode: 0.5 }), RangeError, 'a fractional node');
  t.throws(() => allocPinned(MIB, { numaNode: '0' as never }), TypeError, 'a node as a string');
  t.throws(() => allocPinned(MIB, null as never), TypeError, 'null options');
  t.throws(() => freePinned({} as never), TypeError, 'freePinned of something else');
  t.equal(statusBytes('VmLck'), lockedBefore, 'nothing was locked');
});

// Each round maps 64 MiB and drops it; without working finalizers the child would hold
// ROUNDS × 64 MiB = 4 GiB locked and resident, far over the bound checked below.
const GC_CHILD = `
import { allocPinned, freePinned } from './src/native/index.ts';
import { setImmediate as turn } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
const ROUNDS = 64, BYTES = 64 * 1024 * 1024;
const kib = (field) => Number(new RegExp('^' + field + ':\\\\s+(\\\\d+) kB', 'm').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
let peakRss = 0;
for (let i = 0; i < ROUNDS; i++) {
  const region = allocPinned(BYTES);
  new Uint8Array(region.buffer)[i] = 1;
  if (i % 2 === 0) freePinned(region);
  globalThis.gc();
  await turn();
  await turn();
  peakRss = Math.max(peakRss, kib('VmRSS'));
}
globalThis.gc();
await turn();
await turn();
console.log(JSON.stringify({ peakRssKib: peakRss, endLockedKib: kib('VmLck'), endRssKib: kib('VmRSS') }));
`;

t.test('regions dropped without freePinned are unmapped by their finalizers', { skip: skipWithoutAddon }, async (t) => {
  const child = runTsChild(GC_CHILD, {}, ['--expose-gc']);
  t.equal(child.status, 0, `the child ran: ${child.stderr.slice(-500)}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  const boundKib = 1024 * 1024; // 1 GiB: a few live regions plus Node itself, not 4 GiB
  t.ok(result.peakRssKib! < boundKib, `peak RSS ${Math.round(result.peakRssKib! / 1024)} MiB stays bounded`);
  t.ok(result.endLockedKib! <= 64 * 1024, `locked memory at the end: ${result.endLockedKib} KiB`);
});
