// The liveness checker: after each heal, writes succeed again within a bound.
//
// Measured at every heal that leaves the cluster without any active fault (a heal while another
// fault is still on proves nothing about recovery): the recovery time is from the heal to the
// completion of the first write (put or delete, answered `ok`) invoked at or after it. The wait
// is cut short where the next fault starts or the workload ends:
// - a write completed before the cut: recovered in that time; flagged when over the bound;
// - no write before the cut, and the cut came later than the bound: flagged, with the time
//   waited as its recovery time (the cluster was healed that long without completing a write);
// - no write before a cut that came within the bound: not measured (the run gave it no chance).
// A fault that was never healed is also a failure: the harness must heal everything it breaks.
import type { FaultEvent, History } from '../history.js';
import { EXAMPLES_MAX, maxOf, minOf } from './common.js';

/** Default bound on the time from a heal to the next successful write. */
export const RECOVERY_BOUND_MS = 15_000;

export interface Recovery {
  healMs: number;
  /** The faults healed at that moment. */
  faults: string[];
  /** Time to the first successful write's completion, or until the cut (see status). */
  recoveryMs: number | null;
  firstWriteId?: number;
  status: 'recovered' | 'slow' | 'no-write' | 'unmeasured';
}

export interface LivenessResult {
  ok: boolean;
  recoveryBoundMs: number;
  /** The longest measured recovery, in seconds (0 when nothing was measured). */
  recoverySecondsMax: number;
  /** Heals measured (not counting 'unmeasured' ones). */
  healsMeasured: number;
  /** Examples of slow or missing recoveries, at most EXAMPLES_MAX. */
  flagged: Recovery[];
  flaggedCount: number;
  unhealed: FaultEvent[];
  /** Every heal point, for the report. */
  recoveries: Recovery[];
}

export interface LivenessOptions {
  /** Default RECOVERY_BOUND_MS. */
  recoveryBoundMs?: number;
}

function activeAt(fault: FaultEvent, atMs: number): boolean {
  return fault.startMs <= atMs && (fault.endMs === undefined || fault.endMs > atMs);
}

function measure(
  healMs: number,
  writes: ReadonlyArray<{ invokeMs: number; completeMs: number; id: number }>,
  cutMs: number,
  boundMs: number,
): Omit<Recovery, 'healMs' | 'faults'> {
  let first: { completeMs: number; id: number } | undefined;
  for (const write of writes) {
    if (write.invokeMs >= healMs && write.completeMs <= cutMs && (first === undefined || write.completeMs < first.completeMs)) {
      first = write;
    }
  }
  if (first !== undefined) {
    const recoveryMs = first.completeMs - healMs;
    return { recoveryMs, firstWriteId: first.id, status: recoveryMs > boundMs ? 'slow' : 'recovered' };
  }
  const waitedMs = cutMs - healMs;
  return waitedMs > boundMs ? { recoveryMs: waitedMs, status: 'no-write' } : { recoveryMs: null, status: 'unmeasured' };
}

export function checkLiveness(history: Pick<History, 'operations' | 'faults'>, options: LivenessOptions = {}): LivenessResult {
  const boundMs = options.recoveryBoundMs ?? RECOVERY_BOUND_MS;
  const writes = history.operations
    .filter((op) => (op.kind === 'put' || op.kind === 'delete') && op.outcome === 'ok' && op.completeMs !== undefined)
    .map((op) => ({ invokeMs: op.invokeMs, completeMs: op.completeMs!, id: op.id }));
  const workloadEndMs = maxOf(history.operations.map((op) => op.completeMs ?? op.invokeMs));
  const healTimes = [...new Set(history.faults.flatMap((f) => (f.endMs === undefined ? [] : [f.endMs])))].sort((a, b) => a - b);
  const recoveries: Recovery[] = [];
  for (const healMs of healTimes) {
    if (history.faults.some((f) => activeAt(f, healMs))) continue;
    const nextStartMs = minOf(history.faults.filter((f) => f.startMs > healMs).map((f) => f.startMs));
    const cutMs = Math.min(nextStartMs, workloadEndMs);
    const faults = history.faults.filter((f) => f.endMs === healMs).map((f) => `${f.nemesis}: ${f.detail}`);
    recoveries.push({ healMs, faults, ...measure(healMs, writes, cutMs, boundMs) });
  }
  const flagged = recoveries.filter((r) => r.status === 'slow' || r.status === 'no-write');
  const measured = recoveries.filter((r) => r.recoveryMs !== null);
  const unhealed = history.faults.filter((f) => f.endMs === undefined);
  return {
    ok: flagged.length === 0 && unhealed.length === 0,
    recoveryBoundMs: boundMs,
    recoverySecondsMax: maxOf(measured.map((r) => r.recoveryMs! / 1000), 0),
    healsMeasured: measured.length,
    flagged: flagged.slice(0, EXAMPLES_MAX),
    flaggedCount: flagged.length,
    unhealed: unhealed.slice(0, EXAMPLES_MAX),
    recoveries,
  };
}
