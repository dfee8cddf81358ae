// V8's heap settings of a member process (LIMITS.allocator.v8HeapGrowingPercent), applied by
// `kvc start` before the member starts.
//
// Why: a CPU profile and --trace-gc of a leader under `npm run bench -- peers --part write`
// (1 MiB pages, 8 in flight) showed ~30 full (mark-compact) GCs for ~150 puts, each marking the
// whole ~17 MiB heap, most started for "allocation limit": V8 counts external memory allocated
// since the last full GC (here the MiB-sized payload buffers: grpc-js' receive and frame
// buffers, the Raft entry, a batch per follower) as old-generation growth, and its limit, which
// it grows by a factor it derives from GC timings (×1.1 to ×4 of the live heap), left ~7-20 MiB
// of room. The marking threads alone took ~8 ms of CPU per acknowledged MiB on the leader. With
// the factor pinned at ×4 (V8's own ceiling for a heap that collects fast) the limit leaves
// ~60 MiB, full GCs come at V8's fixed 64 MiB external-memory step instead (~3× fewer), and those
// threads took ~4 ms. The cost is that garbage may grow to ×4 of the live heap before a full GC,
// a few tens of MiB for a member's heap (measured: leader RSS +16-19 MiB after the bench).
//
// The flag is set at run time (v8.setFlagsFromString): V8 reads it at every full GC, and Node
// refuses it in NODE_OPTIONS. KVC_HEAP_TUNING=0 leaves V8's defaults.
//
// What the larger limit leaves behind after a burst (up to ~64 MiB of dead payload buffers that
// only a full GC frees, and the JS garbage the old generation may now hold; an idle member's own
// next full GC, its memory reducer's, comes ~25 s later) is collected once the member is idle
// (collectWhenIdle: its event loop busy ≤ 10 % over a second) and it grew, then the free heap
// pages go back at once (trimAllocator, as allocator-trim.ts does), through V8's gc(): --expose-gc, set at run time too, gives it to contexts
// made afterwards, and a new context's gc() collects the whole isolate; the member's own global
// scope gets no `gc`. Measured after `kvc bench --pages 64 --page-bytes 2MiB --lookups 100`,
// 7 s later: members at RssAnon 140-207 MiB without that GC, against 55-64 MiB before the tuning
// (docs/BENCHMARKS.md, peers). A GC at the allocator trim's quiet look instead (no entry applied
// for 5 s) came too late: reads allocate payload buffers too, and the look is up to 10 s late.
import v8 from 'node:v8';
import vm from 'node:vm';
import { LIMITS } from '../limits.js';

export interface HeapTuning {
  applied: boolean;
  /** The V8 flags set, or why none was. */
  note: string;
}

/** V8's full collection, once tuneHeap applied its flags. */
let fullGc: (() => void) | undefined;
/** The fewest collectable bytes seen since the last full GC collectGarbageIfGrown ran. */
let lowestBytes = Infinity;

/** The V8 flags a member sets (empty when `env.KVC_HEAP_TUNING` is `0`). */
export function heapTuningFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.KVC_HEAP_TUNING === '0') return [];
  return [`--heap-growing-percent=${LIMITS.allocator.v8HeapGrowingPercent}`, '--expose-gc'];
}

/** Sets heapTuningFlags(env) in this process's V8. */
export function tuneHeap(env: NodeJS.ProcessEnv = process.env): HeapTuning {
  const flags = heapTuningFlags(env);
  if (flags.length === 0) return { applied: false, note: 'V8 heap left as it is: KVC_HEAP_TUNING=0' };
  for (const flag of flags) v8.setFlagsFromString(flag);
  fullGc = vm.runInNewContext('gc') as () => void;
  return { applied: true, note: flags.join(' ') };
}

/** What a full GC may free: the JS heap in use and the ArrayBuffers' bytes. */
function collectableBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * When tuneHeap applied its flags in this process
 * and its JS heap and ArrayBuffers grew by `growthBytesMin` or more over the fewest bytes seen
 * since the last such GC, runs a full GC (true); else nothing (false). `measure` is for tests.
 */
export function collectGarbageIfGrown(growthBytesMin = LIMITS.allocator.idleGcGrowthBytes, measure: () => number = collectableBytes): boolean {
  if (fullGc === undefined) return false;
  const bytes = measure();
  lowestBytes = Math.min(lowestBytes, bytes);
  if (bytes - lowestBytes < growthBytesMin) return false;
  fullGc();
  lowestBytes = measure();
  return true;
}

/**
 * Returns a timer callback (every LIMITS.allocator.idleGcIntervalMs in a member): when the event
 * loop was busy at most LIMITS.allocator.idleGcBusyPercentMax % of the time since the previous call and
 * `collect` (collectGarbageIfGrown) collected, calls `afterGc` (the member hands free heap pages
 * back). `busyPercent` (default: event-loop utilization since the previous call) and `collect`
 * are for tests.
 */
export function collectWhenIdle(
  afterGc: () => void,
  busyPercent: () => number = busyPercentSinceLastCall(),
  collect: () => boolean = () => collectGarbageIfGrown(),
): () => void {
  return () => {
    if (busyPercent() > LIMITS.allocator.idleGcBusyPercentMax) return;
    if (collect()) afterGc();
  };
}

function busyPercentSinceLastCall(): () => number {
  let previous = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, previous);
    previous = now;
    return 100 * utilization;
  };
}
