// The driver-facing wrapper of the Raft state machine (etcd's RawNode). The driver loop is:
//   if (rn.hasReady()) { rd = rn.ready(); persist rd.snapshot, rd.entries, rd.hardState (fsync when
//   rd.mustSync); send rd.messages; apply rd.committedEntries; rn.advance(); }
// Persisting before sending is what makes votes and acknowledgements safe across crashes.
import assert from 'node:assert/strict';
import { Raft, makeMessage } from './raft.js';
import { encodeConfChange } from './conf-change.js';
import { payloadBytes } from './log.js';
import {
  EntryType,
  MessageType,
  RaftError,
  StateType,
  isLocalMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
  type SoftState,
  type Status,
} from './types.js';

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** What a handed-out Ready still owes to advance(). */
interface InFlightReady {
  hardState?: HardState;
  lastEntry?: Entry;
  snapshotIndex?: number;
  appliedIndex: number;
  appliedBytes: number;
  /** Through this index, entries committed after ready() were handed out by takeCommittedEntries (0: none). */
  takenIndex: number;
  takenBytes: number;
}

export class RawNode {
  readonly #raft: Raft;
  #prevSoftState: SoftState;
  #prevHardState: HardState;
  #inFlight: InFlightReady | undefined = undefined;
  /** A step counted this leader's log only as far as it was durable: advance() commits what that held back. */
  #heldBackCommit = false;

  constructor(config: RaftConfig) {
    this.#raft = new Raft(config);
    this.#prevSoftState = this.#raft.softState();
    this.#prevHardState = this.#raft.hardState();
  }

  /** The state machine itself, for tests and status; drivers use the methods below. */
  get raft(): Raft {
    return this.#raft;
  }

  tick(): void {
    this.#raft.tick();
  }

  campaign(): void {
    this.#raft.step(makeMessage({ type: MessageType.Hup, from: this.#raft.id }));
  }

  /** Proposes one entry; throws RaftError('proposal-dropped') when it cannot be accepted now. */
  propose(data: Uint8Array): void {
    this.proposeBatch([data]);
  }

  /** Proposes several entries at once (one append, one message per follower). */
  proposeBatch(payloads: Uint8Array[]): void {
    assert.ok(payloads.length > 0, 'empty proposal batch');
    const entries = payloads.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data }));
    this.#raft.step(makeMessage({ type: MessageType.Prop, from: this.#raft.id, entries }));
  }

  proposeConfChange(cc: ConfChange): void {
    const entry = { term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) };
    this.#raft.step(makeMessage({ type: MessageType.Prop, from: this.#raft.id, entries: [entry] }));
  }

  /** Steps a message received from the network. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new RaftError('step-local-message', `${MessageType[m.type]} is local`);
    if (this.#raft.isResponseFromUnknownPeer(m)) {
      throw new RaftError('step-peer-not-found', `response from unknown peer ${m.from}`);
    }
    try {
      this.#raft.step(m);
    } catch (err) {
      // A forwarded proposal the leader cannot take now is dropped, as etcd does: its proposer
      // is on another node and learns of it only by timing out and retrying.
      if (m.type === MessageType.Prop && err instanceof RaftError && err.code === 'proposal-dropped') return;
      throw err;
    }
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.#raft.applyConfChange(cc);
  }

  /** Asks the leader to hand leadership to `to` (works on any member; followers forward it). */
  transferLeader(to: NodeId): void {
    this.#raft.step(makeMessage({ type: MessageType.TransferLeader, from: to }));
  }

  /** Requests a linearizable read point; the answer arrives as a ReadState carrying `requestCtx`. */
  readIndex(requestCtx: Uint8Array): void {
    this.#raft.step(makeMessage({ type: MessageType.ReadIndex, context: requestCtx }));
  }

  reportUnreachable(id: NodeId): void {
    this.#raft.step(makeMessage({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.#raft.step(makeMessage({ type: MessageType.SnapStatus, from: id, reject: !ok }));
  }

  forgetLeader(): void {
    this.#raft.forgetLeader();
  }

  hasReady(): boolean {
    const r = this.#raft;
    const soft = r.softState();
    if (soft.leader !== this.#prevSoftState.leader || soft.state !== this.#prevSoftState.state) return true;
    if (!sameHardState(r.hardState(), this.#prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.raftLog.unstable.entries.length > 0) return true;
    return r.raftLog.hasNextCommittedEntries();
  }

  /** Hands out the pending work; the caller must call advance() before the next ready(). */
  ready(): Ready {
    assert.ok(this.#inFlight === undefined, 'ready() called again before advance()');
    const r = this.#raft;
    const entries = r.raftLog.unstableEntries();
    const committedEntries = r.raftLog.nextCommittedEntries();
    const rd: Ready = { readStates: r.readStates, entries, committedEntries, messages: r.msgs, mustSync: false };
    const soft = r.softState();
    if (soft.leader !== this.#prevSoftState.leader || soft.state !== this.#prevSoftState.state) {
      rd.softState = soft;
      this.#prevSoftState = soft;
    }
    const hard = r.hardState();
    if (!sameHardState(hard, this.#prevHardState)) rd.hardState = hard;
    const snapshot = r.raftLog.unstable.snapshot;
    if (snapshot !== undefined) rd.snapshot = snapshot;
    // Term, vote, new entries and an installed snapshot must be durable before anything is sent
    // (this Ready's acknowledgements vouch for them); the commit index alone need not be.
    rd.mustSync =
      entries.length > 0 ||
      snapshot !== undefined ||
      hard.term !== this.#prevHardState.term ||
      hard.vote !== this.#prevHardState.vote;
    r.msgs = [];
    r.readStates = [];
    const lastCommitted = committedEntries[committedEntries.length - 1];
    this.#inFlight = {
      ...(rd.hardState ? { hardState: rd.hardState } : {}),
      ...(entries.length > 0 ? { lastEntry: entries[entries.length - 1]! } : {}),
      ...(snapshot ? { snapshotIndex: snapshot.metadata.index } : {}),
      appliedIndex: lastCommitted?.index ?? 0,
      appliedBytes: payloadBytes(committedEntries),
      takenIndex: 0,
      takenBytes: 0,
    };
    return rd;
  }

  /**
   * Steps `m` while a Ready is out, counting this member's own log toward a commit quorum only
   * through `durableIndex`. The leader counts its own appends at once (raft.ts #appendEntries):
   * safe while acknowledgements are stepped only after the Ready that wrote those entries was
   * persisted, as they were. A driver that steps a follower's acknowledgement during that write
   * (to apply what it commits sooner: takeCommittedEntries) must not let the leader's unwritten
   * copy complete a quorum: a commit must rest on a majority of copies on disk (Raft thesis
   * §10.2.1: the leader may commit before its own write ends, on a majority of other members'
   * writes).
   */
  stepCountingDurable(m: Message, durableIndex: number): void {
    const r = this.#raft;
    const self = r.trk.progress.get(r.id);
    const match = self?.match ?? 0;
    if (self === undefined || match <= durableIndex) {
      this.step(m);
      return;
    }
    self.match = durableIndex;
    this.#heldBackCommit = true;
    try {
      this.step(m);
    } finally {
      // Unless the step replaced the tracker (a new term), the own log is whole again for later steps.
      if (r.trk.progress.get(r.id) === self && self.match < match) self.match = match;
    }
  }

  /**
   * While a Ready is out (after ready(), before advance()): the entries committed since, up to
   * `durableIndex` (the last index the caller's log holds durably), for the caller to apply now
   * instead of with the next Ready. A leader learns that a follower wrote an entry while it
   * persists its next Ready; without this, applying it (and answering the put) waited for that
   * fdatasync to end. They count as handed out: the next Ready does not carry them, and advance()
   * counts them applied, so the caller must have applied them, in order after the Ready's own
   * committed entries, before it calls advance(). Stops before a configuration change (applied
   * with a Ready, as before) and hands out nothing while a snapshot is pending.
   */
  takeCommittedEntries(durableIndex: number): Entry[] {
    const out = this.#inFlight;
    assert.ok(out !== undefined, 'takeCommittedEntries() outside a Ready');
    const log = this.#raft.raftLog;
    if (out.snapshotIndex !== undefined || log.hasPendingSnapshot()) return [];
    const from = Math.max(log.applied, out.appliedIndex, out.takenIndex) + 1;
    const entries = log.committedEntriesBetween(from, durableIndex);
    const confChange = entries.findIndex((e) => e.type === EntryType.ConfChange);
    const taken = confChange === -1 ? entries : entries.slice(0, confChange);
    if (taken.length === 0) return [];
    out.takenIndex = taken[taken.length - 1]!.index;
    out.takenBytes += payloadBytes(taken);
    return taken;
  }

  /**
   * Removes and returns the queued messages `pick` selects, ahead of the next ready(): for a
   * driver that sends heartbeats and their responses while a Ready is still being persisted (as
   * etcd's node loop ticks and steps between Ready and Advance). Whatever it takes must not depend
   * on that Ready being durable; the rest waits for the next ready().
   */
  takeMessages(pick: (m: Message) => boolean): Message[] {
    const r = this.#raft;
    const taken = r.msgs.filter(pick);
    if (taken.length > 0) r.msgs = r.msgs.filter((m) => !pick(m));
    return taken;
  }

  /** The last Ready was persisted, sent and applied. */
  advance(): void {
    const done = this.#inFlight;
    assert.ok(done !== undefined, 'advance() without ready()');
    this.#inFlight = undefined;
    const r = this.#raft;
    if (done.hardState) this.#prevHardState = done.hardState;
    if (done.lastEntry) r.raftLog.stableTo(done.lastEntry.index, done.lastEntry.term);
    if (this.#heldBackCommit) {
      // The Ready's entries are durable now: an acknowledgement stepped during its write may
      // complete a quorum with them, and no later one may come (a follower down, no new puts).
      this.#heldBackCommit = false;
      r.commitIfQuorum();
    }
    if (done.snapshotIndex !== undefined) {
      r.raftLog.stableSnapTo(done.snapshotIndex);
      // The state machine was replaced by the snapshot: everything up to it counts as applied.
      r.raftLog.appliedTo(done.snapshotIndex);
    }
    const appliedIndex = Math.max(done.appliedIndex, done.takenIndex);
    if (appliedIndex > 0) {
      r.raftLog.appliedTo(appliedIndex);
      if (r.state === StateType.Leader) r.reduceUncommittedBytes(done.appliedBytes + done.takenBytes);
    }
  }

  /**
   * The lowest match of the members other than this one while it leads (followers and learners),
   * or undefined when it does not lead or leads alone. Reads the tracker in place, for callers
   * that ask every tick; status() copies every member's progress.
   */
  lowestPeerMatch(): number | undefined {
    const r = this.#raft;
    if (r.state !== StateType.Leader) return undefined;
    let lowest: number | undefined;
    for (const [id, pr] of r.trk.progress) if (id !== r.id) lowest = Math.min(lowest ?? pr.match, pr.match);
    return lowest;
  }

  status(): Status {
    const r = this.#raft;
    const progress = new Map();
    if (r.state === StateType.Leader) for (const [id, pr] of r.trk.progress) progress.set(id, pr.toStatus());
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      leadTransferee: r.leadTransferee,
      progress,
      config: r.trk.confState(),
    };
  }
}
