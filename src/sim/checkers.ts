// The Raft safety invariants, checked incrementally from what the simulator observes. The
// checker knows nothing of the core or the simulator: it is fed plain observations (a node became
// leader, persisted these entries, reported this commit index, applied this entry), so the tests
// can feed it synthetic bad histories and see each invariant fire.
//
// Invariants (Raft paper, figure 3):
// - election safety: at most one leader per term, over the whole run;
// - log matching: an (index, term) pair names one entry: the same payload and the same previous
//   term wherever it is persisted (by induction, identical logs up to it);
// - leader completeness: a leader of term T holds every entry known committed before term T;
// - state-machine safety: every node applies the same entry, and reaches the same state, at each
//   index; applies are gap-free and in order;
// - commit monotonicity: a node's commit index never moves back within one life, nor its
//   persisted commit index across restarts; no two different entries are committed at an index.
// Optional "protocol rules" check single steps of the protocol rather than their consequences:
// a vote is durable before it is granted, a node votes once per term, the persisted term never
// goes down, and a follower never commits past the last entry an append message verified (Raft
// paper figure 2, AppendEntries receiver rule 5). They catch some bugs sooner than the safety
// properties do, and one that cannot reach the safety properties at all with this core's leader.
import type { Entry, HardState, NodeId } from '../raft/index.js';
import { EntryType } from '../raft/index.js';

/** A broken invariant: the run stops and reports it. */
export class InvariantViolation extends Error {
  readonly invariant: string;
  constructor(invariant: string, message: string) {
    super(`${invariant}: ${message}`);
    this.name = 'InvariantViolation';
    this.invariant = invariant;
  }
}

/** Keys (index, term) pairs as one number; terms must stay below this span. */
const TERM_KEY_SPAN = 2 ** 24;

function entryKey(index: number, term: number): number {
  if (term >= TERM_KEY_SPAN) throw new RangeError(`term ${term} too large for the checker's keys`);
  return index * TERM_KEY_SPAN + term;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameEntryContent(a: { type: EntryType; data: Uint8Array }, b: { type: EntryType; data: Uint8Array }): boolean {
  return a.type === b.type && sameBytes(a.data, b.data);
}

function describeShort(e: { index: number; term: number; type: EntryType; data: Uint8Array }): string {
  const text = Buffer.from(e.data.buffer, e.data.byteOffset, Math.min(e.data.byteLength, 40)).toString('latin1');
  return `${e.term}/${e.index} ${EntryType[e.type]} ${JSON.stringify(text)}`;
}

interface EntryRecord {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
  /** Term of the entry before it, or -1 when the first observer could not see it (compacted). */
  prevTerm: number;
  firstSeenBy: NodeId;
}

interface CommitRecord {
  term: number;
  /** The lowest term of a node that reported it committed: it was committed in this term or earlier. */
  observedInTerm: number;
  firstSeenBy: NodeId;
}

interface AppliedRecord {
  entry: Entry;
  stateHash: number;
  firstAppliedBy: NodeId;
}

/** Looks up the term of an index in one node's log; undefined when compacted or absent. */
export type TermLookup = (index: number) => number | undefined;

export interface CheckerOptions {
  /** Also check the protocol rules (votes durable before granted, one vote per term...). */
  protocolRules: boolean;
}

export class SafetyChecker {
  readonly #options: CheckerOptions;
  readonly #leaderOfTerm = new Map<number, NodeId>();
  readonly #entries = new Map<number, EntryRecord>();
  readonly #committed = new Map<number, CommitRecord>();
  #commitMax = 0;
  readonly #applied = new Map<number, AppliedRecord>();
  /** Per node, in its current life: commit index and last applied index. */
  readonly #lifeCommit = new Map<NodeId, number>();
  readonly #lifeApplied = new Map<NodeId, number>();
  /** Per node, across lives: the persisted hard state. */
  readonly #persisted = new Map<NodeId, HardState>();
  /** Per node and term, the vote it persisted (protocol rules). */
  readonly #votes = new Map<NodeId, Map<number, NodeId>>();

  constructor(options: CheckerOptions = { protocolRules: true }) {
    this.#options = options;
  }

  get commitMax(): number {
    return this.#commitMax;
  }

  /** Leaders observed so far, by term (for statistics). */
  get leaderTerms(): number {
    return this.#leaderOfTerm.size;
  }

  /** Election safety: `id` acted as leader of `term` (how: what showed it). */
  observeLeader(id: NodeId, term: number, how: string): void {
    const known = this.#leaderOfTerm.get(term);
    if (known === undefined) {
      this.#leaderOfTerm.set(term, id);
      return;
    }
    if (known !== id) {
      throw new InvariantViolation('election-safety', `two leaders in term ${term}: ${known} and ${id} (${how})`);
    }
  }

  /** True when `id` is the first node seen leading `term` and this is the first sighting. */
  hasLeader(term: number): boolean {
    return this.#leaderOfTerm.has(term);
  }

  /**
   * Log matching: `id` persisted `entries` (consecutive); `termAt` answers from its log after
   * the append, for the entry before the first one.
   */
  observeAppend(id: NodeId, entries: readonly Entry[], termAt: TermLookup): void {
    let prevTerm = entries.length > 0 ? termAt(entries[0]!.index - 1) : undefined;
    for (const e of entries) {
      const key = entryKey(e.index, e.term);
      const known = this.#entries.get(key);
      const prev = prevTerm ?? -1;
      if (known === undefined) {
        this.#entries.set(key, { index: e.index, term: e.term, type: e.type, data: e.data, prevTerm: prev, firstSeenBy: id });
      } else {
        if (!sameEntryContent(known, e)) {
          throw new InvariantViolation(
            'log-matching',
            `node ${id} persisted ${describeShort(e)} but node ${known.firstSeenBy} has ${describeShort(known)} at the same index and term`,
          );
        }
        if (known.prevTerm !== -1 && prev !== -1 && known.prevTerm !== prev) {
          throw new InvariantViolation(
            'log-matching',
            `node ${id} persisted ${e.term}/${e.index} after an entry of term ${prev}, node ${known.firstSeenBy} after one of term ${known.prevTerm}`,
          );
        }
        if (known.prevTerm === -1 && prev !== -1) known.prevTerm = prev;
      }
      prevTerm = e.term;
    }
  }

  /**
   * A node in its current life reports commit index `commit` while at `term`; `termAt` reads its
   * log (after persisting the Ready that carried the commit index).
   */
  observeCommit(id: NodeId, commit: number, term: number, termAt: TermLookup): void {
    const before = this.#lifeCommit.get(id) ?? 0;
    if (commit < before) {
      throw new InvariantViolation('commit-monotonic', `node ${id} moved its commit index back from ${before} to ${commit}`);
    }
    this.#lifeCommit.set(id, commit);
    for (let i = before + 1; i <= commit; i++) {
      const t = termAt(i);
      if (t === undefined) continue;
      const known = this.#committed.get(i);
      if (known === undefined) {
        this.#committed.set(i, { term: t, observedInTerm: term, firstSeenBy: id });
      } else if (known.term !== t) {
        throw new InvariantViolation(
          'commit-safety',
          `node ${id} committed index ${i} at term ${t}, node ${known.firstSeenBy} committed it at term ${known.term}`,
        );
      } else if (term < known.observedInTerm) {
        known.observedInTerm = term;
      }
    }
    if (commit > this.#commitMax) this.#commitMax = commit;
  }

  /** A node's life ended (crash): its per-life trackers start over on restart. */
  observeCrash(id: NodeId): void {
    this.#lifeCommit.delete(id);
    this.#lifeApplied.delete(id);
  }

  /**
   * A node persisted hard state `hs` (commit monotonic across lives; with protocol rules also
   * term monotonic and one vote per term).
   */
  observePersistedHardState(id: NodeId, hs: HardState): void {
    const before = this.#persisted.get(id);
    if (before !== undefined && hs.commit < before.commit) {
      throw new InvariantViolation('commit-monotonic', `node ${id} persisted commit ${hs.commit} after ${before.commit}`);
    }
    this.#persisted.set(id, { ...hs });
    if (!this.#options.protocolRules) return;
    if (before !== undefined && hs.term < before.term) {
      throw new InvariantViolation('durable-term', `node ${id} persisted term ${hs.term} after term ${before.term}`);
    }
    if (hs.vote === 0) return;
    let votes = this.#votes.get(id);
    if (votes === undefined) this.#votes.set(id, (votes = new Map()));
    const earlier = votes.get(hs.term);
    if (earlier !== undefined && earlier !== hs.vote) {
      throw new InvariantViolation('one-vote-per-term', `node ${id} voted for ${earlier} and then ${hs.vote} in term ${hs.term}`);
    }
    votes.set(hs.term, hs.vote);
  }

  /**
   * Durability rule: a granted vote for `candidate` in `term` leaves `id` only once it is durable,
   * or once a later term is (a restart then cannot vote in `term` again either).
   */
  observeVoteGranted(id: NodeId, candidate: NodeId, term: number, durable: HardState): void {
    if (!this.#options.protocolRules) return;
    if (durable.term < term || (durable.term === term && durable.vote !== candidate)) {
      throw new InvariantViolation(
        'durable-vote',
        `node ${id} granted its term-${term} vote to ${candidate} but its disk holds term ${durable.term} vote ${durable.vote}`,
      );
    }
  }

  /**
   * Protocol rule: a follower that stepped an append whose last entry is `lastNewIndex` moved its
   * commit index from `before` to `after`; it may not go past that entry (entries after it are not
   * known to match the leader's log).
   */
  observeFollowerCommit(id: NodeId, before: number, after: number, lastNewIndex: number): void {
    if (!this.#options.protocolRules || after <= before || after <= lastNewIndex) return;
    throw new InvariantViolation(
      'follower-commit-bound',
      `node ${id} moved its commit index from ${before} to ${after} on an append whose last entry is ${lastNewIndex}`,
    );
  }

  /**
   * Leader completeness: `id` just became leader of `term`. `termAt` reads its log; entries below
   * `firstIndex` are covered by its snapshot (checked through state-machine safety).
   */
  observeLeaderLog(id: NodeId, term: number, firstIndex: number, termAt: TermLookup): void {
    for (let i = Math.max(1, firstIndex); i <= this.#commitMax; i++) {
      const known = this.#committed.get(i);
      if (known === undefined || known.observedInTerm >= term) continue;
      const t = termAt(i);
      if (t !== known.term) {
        const has = t === undefined ? 'no entry' : `an entry of term ${t}`;
        throw new InvariantViolation(
          'leader-completeness',
          `node ${id} became leader of term ${term} with ${has} at index ${i}, where node ${known.firstSeenBy} ` +
            `committed an entry of term ${known.term} (seen committed in term ${known.observedInTerm})`,
        );
      }
    }
  }

  /** State-machine safety: `id` applied `entry`, reaching state hash `stateHash`. */
  observeApply(id: NodeId, entry: Entry, stateHash: number): void {
    const last = this.#lifeApplied.get(id);
    if (last !== undefined && entry.index !== last + 1) {
      throw new InvariantViolation('apply-order', `node ${id} applied index ${entry.index} after ${last}`);
    }
    this.#lifeApplied.set(id, entry.index);
    const known = this.#applied.get(entry.index);
    if (known === undefined) {
      this.#applied.set(entry.index, { entry, stateHash, firstAppliedBy: id });
      return;
    }
    if (known.entry.term !== entry.term || !sameEntryContent(known.entry, entry)) {
      throw new InvariantViolation(
        'state-machine-safety',
        `node ${id} applied ${describeShort(entry)} but node ${known.firstAppliedBy} applied ${describeShort(known.entry)}`,
      );
    }
    if (known.stateHash !== stateHash) {
      throw new InvariantViolation(
        'state-machine-safety',
        `node ${id} reached state ${stateHash.toString(16)} at index ${entry.index}, node ${known.firstAppliedBy} ${known.stateHash.toString(16)}`,
      );
    }
  }

  /** `id` replaced its state machine with a snapshot image of index `index` and hash `stateHash`. */
  observeRestore(id: NodeId, index: number, stateHash: number): void {
    this.#lifeApplied.set(id, index);
    if (index === 0) return;
    const known = this.#applied.get(index);
    if (known !== undefined && known.stateHash !== stateHash) {
      throw new InvariantViolation(
        'state-machine-safety',
        `node ${id} restored a snapshot at index ${index} with state ${stateHash.toString(16)}, node ${known.firstAppliedBy} had ${known.stateHash.toString(16)}`,
      );
    }
  }

  /** The entry applied at `index` by the first node to apply it (for the client's bookkeeping). */
  appliedEntry(index: number): Entry | undefined {
    return this.#applied.get(index)?.entry;
  }
}
