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
}

export class RawNode {
  readonly #raft: Raft;
  #prevSoftState: SoftState;
  #prevHardState: HardState;
  #inFlight: InFlightReady | undefined = undefined;

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
    };
    return rd;
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
    if (done.snapshotIndex !== undefined) {
      r.raftLog.stableSnapTo(done.snapshotIndex);
      // The state machine was replaced by the snapshot: everything up to it counts as applied.
      r.raftLog.appliedTo(done.snapshotIndex);
    }
    if (done.appliedIndex > 0) {
      r.raftLog.appliedTo(done.appliedIndex);
      if (r.state === StateType.Leader) r.reduceUncommittedBytes(done.appliedBytes);
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
      leadTransferee: r.leadTransferee,
      progress,
      config: r.trk.confState(),
    };
  }
}
