// The leader's view of the configuration: voters, learners, one Progress each, and the votes of
// the current election. Single-server membership changes only, so one majority quorum suffices
// (no joint consensus).
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';
import { sortIds } from './conf-change.js';
import type { ConfState, NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export class ProgressTracker {
  voters = new Set<NodeId>();
  learners = new Set<NodeId>();
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  readonly #maxInflight: number;
  readonly #maxInflightBytes: number;

  constructor(maxInflight: number, maxInflightBytes: number) {
    this.#maxInflight = maxInflight;
    this.#maxInflightBytes = maxInflightBytes;
  }

  confState(): ConfState {
    return { voters: sortIds([...this.voters]), learners: sortIds([...this.learners]) };
  }

  /** A new member counts as recently active, so check-quorum does not fire before it can answer. */
  newProgress(match: number, next: number, isLearner: boolean, recentActive = true): Progress {
    return new Progress(match, next, new Inflights(this.#maxInflight, this.#maxInflightBytes), isLearner, recentActive);
  }

  /** Replaces the configuration; members kept across the change keep their progress. */
  applyConfState(cs: ConfState, lastIndex: number): void {
    const old = this.progress;
    this.voters = new Set(cs.voters);
    this.learners = new Set(cs.learners);
    this.progress = new Map();
    for (const id of [...cs.voters, ...cs.learners]) {
      const isLearner = this.learners.has(id);
      const kept = old.get(id);
      if (kept !== undefined) {
        kept.isLearner = isLearner;
        this.progress.set(id, kept);
      } else {
        this.progress.set(id, this.newProgress(0, lastIndex + 1, isLearner));
      }
    }
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  isSingleton(): boolean {
    return this.voters.size === 1 && this.learners.size === 0;
  }

  /** The highest index replicated on a quorum of voters. */
  committed(): number {
    if (this.voters.size === 0) return 0;
    const matches: number[] = [];
    for (const id of this.voters) matches.push(this.progress.get(id)?.match ?? 0);
    matches.sort((a, b) => b - a);
    return matches[this.quorum() - 1]!;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    const result: VoteResult = granted >= q ? 'won' : this.voters.size - rejected < q ? 'lost' : 'pending';
    return { granted, rejected, result };
  }

  /** True when a quorum of voters (counting `self`) was recently active. */
  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive === true) active++;
    }
    return active >= this.quorum();
  }
}
