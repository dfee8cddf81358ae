// What a member reports as it works, for metrics (src/metrics) or anything else that watches it.
// Every method is optional and called synchronously on the member's event loop: an observer must
// be cheap and must not throw (a throw is caught and dropped, never allowed to stop the member).
import type { NodeId } from '../raft/index.js';

export interface NodeObserver {
  /** One WAL save: its bytes of entries, whether it ended with an fdatasync, and how long it took. */
  walSaved?(seconds: number, entryBytes: number, synced: boolean): void;
  /** A proposal of this member, from propose() until it was applied here (or failed). */
  proposalDone?(seconds: number, outcome: 'applied' | 'dropped' | 'failed'): void;
  /** This member saw a new leader (NONE = 0 while there is none). */
  leaderChanged?(leader: NodeId): void;
  /** A store image streamed to a follower / installed from the leader, and how long it took. */
  snapshotSent?(seconds: number, ok: boolean): void;
  snapshotInstalled?(seconds: number, ok: boolean): void;
  /** A Raft tick came half an election timeout late; the process's CPU seconds during the gap. */
  eventLoopStalled?(seconds: number, cpuSeconds: number): void;
}

/** Calls `fn` on the observer, dropping what it throws: watching must never break the member. */
export function notify(observer: NodeObserver | undefined, fn: (o: NodeObserver) => void): void {
  if (observer === undefined) return;
  try {
    fn(observer);
  } catch {
    // An observer's bug costs its own figures, never the member.
  }
}
