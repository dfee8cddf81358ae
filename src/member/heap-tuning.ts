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
import v8 from 'node:v8';
import { LIMITS } from '../limits.js';

export interface HeapTuning {
  applied: boolean;
  /** The V8 flags set, or why none was. */
  note: string;
}

/** The V8 flags a member sets (empty when `env.KVC_HEAP_TUNING` is `0`). */
export function heapTuningFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.KVC_HEAP_TUNING === '0') return [];
  return [`--heap-growing-percent=${LIMITS.allocator.v8HeapGrowingPercent}`];
}

/** Sets heapTuningFlags(env) in this process's V8. */
export function tuneHeap(env: NodeJS.ProcessEnv = process.env): HeapTuning {
  const flags = heapTuningFlags(env);
  if (flags.length === 0) return { applied: false, note: 'V8 heap left as it is: KVC_HEAP_TUNING=0' };
  for (const flag of flags) v8.setFlagsFromString(flag);
  return { applied: true, note: flags.join(' ') };
}
