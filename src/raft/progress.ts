// What the leader knows of one follower's log, and the flow-control state machine over it
// (etcd's tracker.Progress): Probe sends one append at a time until the follower's match is
// found; Replicate streams optimistically within the inflight window; Snapshot waits for a
// snapshot transfer to finish.
import { Inflights } from './inflights.js';
import { ProgressState, type ProgressStatus } from './types.js';

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** Index of the snapshot being sent, while in Snapshot state. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /** Probe: one append sent and unanswered; Replicate: the inflight window is full. */
  msgAppFlowPaused = false;
  inflights: Inflights;
  isLearner: boolean;

  constructor(match: number, next: number, inflights: Inflights, isLearner: boolean, recentActive: boolean) {
    this.match = match;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
    this.recentActive = recentActive;
  }

  #resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, probe from the snapshot's index at least: the follower has it once applied.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.#resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.#resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.#resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
  }

  /** Bookkeeping after sending an append with `entryCount` entries of `bytes` payload. */
  updateOnEntriesSend(entryCount: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entryCount > 0) {
        const last = this.next + entryCount - 1;
        this.next = last + 1;
        this.inflights.add(last, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.Probe) {
      if (entryCount > 0) this.msgAppFlowPaused = true;
    }
  }

  /** An acknowledgement up to `index`; returns whether match moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append whose previous index was `rejected`; `matchHint` is where the
   * follower suggests probing. Returns false when the rejection is stale (already superseded).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    if (this.state === ProgressState.Snapshot) return true;
    return this.msgAppFlowPaused;
  }

  toStatus(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
      inflightCount: this.inflights.count,
      inflightBytes: this.inflights.bytes,
      pendingSnapshot: this.pendingSnapshot,
    };
  }
}
