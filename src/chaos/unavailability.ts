// How long clients could not write after each kill, as they saw it: from the SIGKILL to the
// completion of the first put answered `ok` after it (whenever that put was invoked: a put caught
// in flight by the kill and retried by the client counts when it finally succeeds). A kill of the
// leader shows detection, election and the clients' leader discovery together; a follower's is
// near zero. Measured, not checked: the liveness checker bounds recovery after heals.
import type { History } from './history.js';

export interface KillWindow {
  /** The fault's description: "kill -9 n3 (leader)". */
  detail: string;
  /** Seconds from the start of the run to the kill. */
  atSeconds: number;
  /** Milliseconds from the kill to the first acknowledged put; null when none completed before the run ended. */
  unavailableMs: number | null;
}

/** One window per `kill` fault, in the order of the faults. */
export function killWindows(history: Pick<History, 'operations' | 'faults' | 'startedMs'>): KillWindow[] {
  const acks = history.operations
    .filter((op) => op.kind === 'put' && op.outcome === 'ok' && op.completeMs !== undefined)
    .map((op) => op.completeMs!)
    .sort((a, b) => a - b);
  return history.faults
    .filter((fault) => fault.nemesis === 'kill')
    .map((fault) => {
      const killMs = fault.injectedMs ?? fault.startMs;
      const firstAck = acks.find((completeMs) => completeMs > killMs);
      return {
        detail: fault.detail,
        atSeconds: roundTo((killMs - history.startedMs) / 1000, 1),
        unavailableMs: firstAck === undefined ? null : roundTo(firstAck - killMs, 0),
      };
    });
}

/** "n3 (leader) 0.62 s, n1 0.01 s": the windows on one line, for the verdict table and the HTML. */
export function describeKillWindows(windows: readonly KillWindow[]): string {
  return windows
    .map((w) => `${w.detail.replace(/^kill -9 /, '')} ${w.unavailableMs === null ? 'no put after it' : `${(w.unavailableMs / 1000).toFixed(2)} s`}`)
    .join(', ');
}

function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
