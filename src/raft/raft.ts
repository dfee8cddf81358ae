// The Raft state machine (etcd-raft's design): pure and synchronous. Input arrives through
// step() and tick(); output accumulates in `msgs`, the log's unstable tail, `readStates` and the
// commit index, which RawNode hands to the driver as a Ready. No timers, I/O or promises here.
import assert from 'node:assert/strict';
import { RaftLog, NO_LIMIT, payloadBytes } from './log.js';
import { ReadOnly, type ReadIndexStatus } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import { applyConfChangeToState } from './conf-change.js';
import {
  EMPTY_BYTES,
  EntryType,
  MessageType,
  NONE,
  ProgressState,
  RaftError,
  StateType,
  isEmptyHardState,
  isResponseMessage,
  voteResponseType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type SoftState,
  type Snapshot,
} from './types.js';

type CampaignType = 'pre-election' | 'election' | 'transfer';

/** Context of a vote request caused by leadership transfer: it may bypass the leader lease. */
export const CAMPAIGN_TRANSFER_CONTEXT = new TextEncoder().encode('CampaignTransfer');

function isTransferContext(context: Uint8Array | undefined): boolean {
  return context !== undefined && Buffer.compare(context, CAMPAIGN_TRANSFER_CONTEXT) === 0;
}

/** A message with every field defaulted; callers override what matters. */
export function makeMessage(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return { to: NONE, from: NONE, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...fields };
}

const STATE_NAMES: Record<StateType, string> = {
  [StateType.Follower]: 'follower',
  [StateType.Candidate]: 'candidate',
  [StateType.Leader]: 'leader',
  [StateType.PreCandidate]: 'pre-candidate',
};

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  state: StateType = StateType.Follower;
  isLearner = false;
  /** Outgoing messages, handed out in the next Ready. */
  msgs: Message[] = [];
  lead: NodeId = NONE;
  leadTransferee: NodeId = NONE;
  /** Only one conf change may be pending: this is the log index of the latest one (leader only). */
  pendingConfIndex = 0;
  /** Payload bytes of the leader's uncommitted tail, bounded by maxUncommittedBytes. */
  uncommittedBytes = 0;
  readOnly: ReadOnly;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];

  readonly #config: RaftConfig;
  readonly #maxMsgBytes: number;
  readonly #maxUncommittedBytes: number;
  readonly #randomInt: (n: number) => number;
  readonly #log: (line: string) => void;

  constructor(config: RaftConfig) {
    assert.ok(config.id !== NONE, 'cannot use none as id');
    assert.ok(config.heartbeatTick > 0 && config.electionTick > config.heartbeatTick, 'need 0 < heartbeatTick < electionTick');
    assert.ok(config.maxInflightMsgs > 0, 'maxInflightMsgs must be > 0');
    assert.ok(config.readOnlyOption !== 'lease-based' || config.checkQuorum, 'lease-based reads need checkQuorum');
    this.#config = config;
    this.id = config.id;
    this.#maxMsgBytes = config.maxSizePerMsgBytes > 0 ? config.maxSizePerMsgBytes : NO_LIMIT;
    this.#maxUncommittedBytes = config.maxUncommittedEntriesBytes ? config.maxUncommittedEntriesBytes : NO_LIMIT;
    this.#randomInt = config.randomInt ?? ((n) => Math.floor(Math.random() * n));
    this.#log = config.logger ?? (() => {});
    this.raftLog = new RaftLog(config.storage, config.maxCommittedSizePerReadyBytes ?? 0);
    this.trk = new ProgressTracker(config.maxInflightMsgs, config.maxInflightBytes ?? 0);
    this.readOnly = new ReadOnly(config.readOnlyOption ?? 'safe');

    const { hardState, confState } = config.storage.initialState();
    this.#switchToConfig(confState);
    if (!isEmptyHardState(hardState)) this.#loadState(hardState);
    if (config.applied !== undefined && config.applied > 0) this.raftLog.appliedTo(config.applied);
    this.becomeFollower(this.term, NONE);
    this.#log(
      `newRaft ${this.id} [peers: [${confState.voters.join(',')}], learners: [${confState.learners.join(',')}], ` +
        `term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, ` +
        `lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  get preVote(): boolean {
    return this.#config.preVote;
  }

  get checkQuorum(): boolean {
    return this.#config.checkQuorum;
  }

  get electionTimeout(): number {
    return this.#config.electionTick;
  }

  softState(): SoftState {
    return { leader: this.lead, state: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  #loadState(hs: HardState): void {
    assert.ok(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---- sending -------------------------------------------------------------------------------

  /** Queues a message; vote traffic carries an explicit term, everything else our current term. */
  #send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    const isVote =
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp;
    if (isVote) {
      assert.ok(m.term !== 0, `term should be set when sending ${MessageType[m.type]}`);
    } else {
      assert.ok(m.term === 0, `term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // Proposals and read requests are forwarded without a term: they are not Raft RPCs.
      if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends one append (or a snapshot) to `to`; false when nothing was sent. */
  #maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.raftLog.term(pr.next - 1);
      // A throttled Replicate follower gets only empty appends (prompted by heartbeat responses):
      // if every message in flight was lost, its answer clears the window instead of stalling.
      const throttled = pr.state === ProgressState.Replicate && pr.inflights.full();
      entries = throttled ? [] : this.raftLog.entriesFrom(pr.next, this.#maxMsgBytes);
    } catch (err) {
      if (err instanceof RaftError && (err.code === 'compacted' || err.code === 'unavailable')) {
        return this.#maybeSendSnapshot(to);
      }
      throw err;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.#send(
      makeMessage({ type: MessageType.App, to, index: pr.next - 1, logTerm: prevTerm, entries, commit: this.raftLog.committed }),
    );
    pr.updateOnEntriesSend(entries.length, payloadBytes(entries));
    return true;
  }

  #sendAppend(to: NodeId): void {
    this.#maybeSendAppend(to, true);
  }

  /** Pipelining: after the first append, keep sending while the follower's window has room. */
  #sendAppendsUntilPaused(to: NodeId): void {
    if (!this.#maybeSendAppend(to, true)) return;
    while (this.#maybeSendAppend(to, false));
  }

  #maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.trk.progress.get(to)!;
    if (!pr.recentActive) {
      this.#log(`${this.id} ignored sending snapshot to ${to} since it is not recently active`);
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (err) {
      if (err instanceof RaftError && err.code === 'snapshot-temporarily-unavailable') {
        this.#log(`${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
        return false;
      }
      throw err;
    }
    assert.ok(snapshot.metadata.index !== 0, 'need non-empty snapshot');
    this.#log(
      `${this.id} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot` +
        `[index: ${snapshot.metadata.index}, term: ${snapshot.metadata.term}] to ${to}`,
    );
    pr.becomeSnapshot(snapshot.metadata.index);
    this.#send(makeMessage({ type: MessageType.Snap, to, snapshot }));
    return true;
  }

  #sendHeartbeat(to: NodeId, context: Uint8Array | undefined): void {
    // A follower may not have all committed entries yet: never tell it to commit past its match.
    const commit = Math.min(this.trk.progress.get(to)!.match, this.raftLog.committed);
    this.#send(makeMessage({ type: MessageType.Heartbeat, to, commit, ...(context ? { context } : {}) }));
  }

  #forEachPeer(fn: (id: NodeId) => void): void {
    for (const id of this.trk.progress.keys()) if (id !== this.id) fn(id);
  }

  bcastAppend(): void {
    this.#forEachPeer((id) => this.#sendAppendsUntilPaused(id));
  }

  #bcastHeartbeat(context: Uint8Array | undefined): void {
    this.#forEachPeer((id) => this.#sendHeartbeat(id, context));
  }

  // ---- state transitions ---------------------------------------------------------------------

  #reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.#resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      const fresh = this.trk.newProgress(id === this.id ? lastIndex : 0, lastIndex + 1, pr.isLearner, false);
      this.trk.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  #resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.#randomInt(this.electionTimeout);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.#reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.#log(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert.ok(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.#reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.#log(`${this.id} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    assert.ok(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    // A pre-candidate changes neither term nor vote: a failed pre-election leaves no trace.
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.#log(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert.ok(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.#reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Conf changes in the uncommitted tail may be pending: allow none until all of it is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The no-op entry of the new term: committing it commits every earlier entry (paper §5.4.2).
    const appended = this.#appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
    assert.ok(appended, 'empty entry was dropped');
    this.#log(`${this.id} became leader at term ${this.term}`);
  }

  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  #hup(type: CampaignType): void {
    if (this.state === StateType.Leader) {
      this.#log(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.#log(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.#hasUnappliedConfChange()) {
      this.#log(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.#log(`${this.id} is starting a new election at term ${this.term}`);
    this.#campaign(type);
  }

  #hasUnappliedConfChange(): boolean {
    const { applied, committed } = this.raftLog;
    if (committed <= applied) return false;
    const pending = this.raftLog.slice(applied + 1, committed + 1, NO_LIMIT);
    return pending.some((e) => e.type === EntryType.ConfChange);
  }

  #campaign(type: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (type === 'pre-election') {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      // Pre-votes ask for the term we would have, without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    // Our own vote counts at once: the driver persists it (hard state) before the requests leave.
    if (this.#poll(this.id, voteResponseType(voteType), true) === 'won') {
      if (type === 'pre-election') this.#campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    const ids = [...this.trk.voters].sort((a, b) => a - b);
    for (const id of ids) {
      if (id === this.id) continue;
      this.#log(
        `${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteType]} request to ${id} at term ${this.term}`,
      );
      const context = type === 'transfer' ? { context: CAMPAIGN_TRANSFER_CONTEXT } : {};
      this.#send(makeMessage({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, ...context }));
    }
  }

  #poll(id: NodeId, type: MessageType, granted: boolean): 'won' | 'lost' | 'pending' {
    this.#log(`${this.id} received ${MessageType[type]}${granted ? '' : ' rejection'} from ${id} at term ${this.term}`);
    this.trk.recordVote(id, granted);
    const { granted: g, rejected, result } = this.trk.tallyVotes();
    this.#log(`${this.id} has received ${g} ${MessageType[type]} votes and ${rejected} vote rejections`);
    return result;
  }

  // ---- stepping ------------------------------------------------------------------------------

  /** Processes one message (local or from the network). Throws RaftError('proposal-dropped'). */
  step(m: Message): void {
    if (!this.#stepTerm(m)) return;
    switch (m.type) {
      case MessageType.Hup:
        this.#hup(this.preVote ? 'pre-election' : 'election');
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.#handleVoteRequest(m);
        return;
      default:
        if (this.state === StateType.Leader) this.#stepLeader(m);
        else if (this.state === StateType.Follower) this.#stepFollower(m);
        else this.#stepCandidate(m);
    }
  }

  /** Term rules shared by every state; false when the message is fully handled (or ignored). */
  #stepTerm(m: Message): boolean {
    if (m.term === 0) return true; // Local message.
    if (m.term > this.term) return this.#stepHigherTerm(m);
    if (m.term < this.term) {
      this.#stepLowerTerm(m);
      return false;
    }
    return true;
  }

  #stepHigherTerm(m: Message): boolean {
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      const force = isTransferContext(m.context);
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
      if (!force && inLease) {
        // We heard from a leader within the minimum election timeout: keep following it (thesis §4.2.3).
        this.#log(
          `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ignored ` +
            `${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired`,
        );
        return false;
      }
    }
    if (m.type === MessageType.PreVote) return true; // Never change our term in response to a pre-vote.
    if (m.type === MessageType.PreVoteResp && !m.reject) return true; // We will bump the term on winning.
    this.#log(`${this.id} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${m.from} [term: ${m.term}]`);
    const fromLeader = m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  #stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.App)) {
      // A stale leader (e.g. after a partition) learns our term from this and steps down; without
      // it, a node that bumped its term while cut off could never rejoin under check-quorum.
      this.#send(makeMessage({ type: MessageType.AppResp, to: m.from }));
    } else if (m.type === MessageType.PreVote) {
      // Reject explicitly so a pre-candidate of a lower term learns ours (mixed pre-vote rollouts).
      this.#send(makeMessage({ type: MessageType.PreVoteResp, to: m.from, term: this.term, reject: true }));
    } else {
      this.#log(`${this.id} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${m.from} [term: ${m.term}]`);
    }
  }

  #handleVoteRequest(m: Message): void {
    // We can vote for who we voted for already, for anyone when we have no vote and no leader in
    // this term, and always grant a pre-vote for a future term (it changes nothing here).
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    const respType = voteResponseType(m.type);
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.#log(`${this.id} cast ${MessageType[m.type]} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`);
      this.#send(makeMessage({ type: respType, to: m.from, term: m.term }));
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.#log(`${this.id} rejected ${MessageType[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`);
      this.#send(makeMessage({ type: respType, to: m.from, term: this.term, reject: true }));
    }
  }

  #stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.#bcastHeartbeat(this.readOnly.lastPendingRequestContext());
        return;
      case MessageType.CheckQuorum:
        if (!this.trk.quorumActive(this.id)) {
          this.#log(`${this.id} stepped down to follower since quorum is not active`);
          this.becomeFollower(this.term, NONE);
        }
        // Each round starts afresh: a member must be heard from again before the next check.
        this.#forEachPeer((id) => (this.trk.progress.get(id)!.recentActive = false));
        return;
      case MessageType.Prop:
        this.#leaderPropose(m);
        return;
      case MessageType.ReadIndex:
        this.#leaderReadIndex(m);
        return;
    }
    const pr = this.trk.progress.get(m.from);
    if (pr === undefined) {
      this.#log(`${this.id} no progress available for ${m.from}`);
      return;
    }
    switch (m.type) {
      case MessageType.AppResp:
        this.#handleAppendResponse(m);
        return;
      case MessageType.HeartbeatResp:
        this.#handleHeartbeatResponse(m);
        return;
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for a heartbeat response before probing again, whether the transfer worked or not.
        pr.msgAppFlowPaused = true;
        this.#log(`${this.id} snapshot ${m.reject ? 'failed' : 'succeeded'}, resumed sending replication messages to ${m.from}`);
        return;
      case MessageType.Unreachable:
        // The follower may have restarted and lost appends in flight: probe it again.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.TransferLeader:
        this.#handleTransferLeader(m);
        return;
    }
  }

  #leaderPropose(m: Message): void {
    assert.ok(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
    if (!this.trk.progress.has(this.id)) {
      // We were removed from the configuration while leader: nothing we propose can commit.
      throw new RaftError('proposal-dropped', 'leader was removed from the configuration');
    }
    if (this.leadTransferee !== NONE) {
      throw new RaftError('proposal-dropped', `leadership is being transferred to ${this.leadTransferee}`);
    }
    const entries = m.entries.map((e, i) => {
      if (e.type !== EntryType.ConfChange) return e;
      if (this.pendingConfIndex > this.raftLog.applied) {
        // One membership change at a time: a second one while the first is unapplied becomes a no-op.
        this.#log(`${this.id} ignoring conf change at index ${this.raftLog.lastIndex() + i + 1}: previous change at ${this.pendingConfIndex} not applied yet (applied ${this.raftLog.applied})`);
        return { ...e, type: EntryType.Normal, data: EMPTY_BYTES };
      }
      this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
      return e;
    });
    if (!this.#appendEntries(entries)) {
      throw new RaftError('proposal-dropped', 'too many uncommitted bytes');
    }
    this.bcastAppend();
  }

  #appendEntries(entries: Entry[]): boolean {
    const bytes = payloadBytes(entries);
    // Always accept one proposal when nothing is pending, even a large one, so progress is possible.
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.#maxUncommittedBytes) {
      this.#log(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    this.uncommittedBytes += bytes;
    let index = this.raftLog.lastIndex();
    const stamped = entries.map((e) => ({ term: this.term, index: ++index, type: e.type, data: e.data }));
    const last = this.raftLog.append(stamped);
    // The leader's own append counts toward the quorum at once: the driver persists these entries
    // before sending the appends that could bring the acknowledgements completing that quorum.
    this.trk.progress.get(this.id)!.maybeUpdate(last);
    this.#maybeCommit();
    return true;
  }

  reduceUncommittedBytes(bytes: number): void {
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - bytes);
  }

  /** Commits what the quorum allows now (a leader whose own log just became durable), and tells the followers. */
  commitIfQuorum(): void {
    if (this.state === StateType.Leader && this.#maybeCommit()) this.bcastAppend();
  }

  /** Commits the quorum index if it is of our term; releases reads waiting for that. */
  #maybeCommit(): boolean {
    if (!this.raftLog.maybeCommit(this.trk.committed(), this.term)) return false;
    this.#releasePendingReadIndexMessages();
    return true;
  }

  #handleAppendResponse(m: Message): void {
    const pr = this.trk.progress.get(m.from)!;
    pr.recentActive = true;
    if (m.reject) {
      this.#log(`${this.id} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`);
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) {
        // Skip every entry of the follower's conflicting term at once (fast backtracking).
        nextProbe = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
      }
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.#sendAppend(m.from);
      }
      return;
    }
    const moved = pr.maybeUpdate(m.index);
    if (!moved && !(pr.match === m.index && pr.state === ProgressState.Probe)) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.raftLog.firstIndex()) {
      // The follower can be fed from the log again (its snapshot or an older one covers the rest).
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index);
    }
    if (this.#maybeCommit()) {
      this.bcastAppend();
    } else if (m.from !== this.id) {
      // The window may have opened (Probe -> Replicate, or acks freed it): send what is pending.
      while (this.#maybeSendAppend(m.from, false));
    }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.#log(`${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`);
      this.#sendTimeoutNow(m.from);
    }
  }

  #handleHeartbeatResponse(m: Message): void {
    const pr = this.trk.progress.get(m.from)!;
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    if (m.reject && m.rejectHint < pr.match) {
      // The follower lost entries it had acknowledged (see #handleHeartbeat): what we knew of it
      // is void. Probe again from where its log ends; the commit index is not affected.
      this.#log(`${this.id} member ${m.from} lost acknowledged entries (match ${pr.match}, its last index ${m.rejectHint}); probing it again`);
      pr.match = 0;
      pr.becomeProbe();
      pr.next = m.rejectHint + 1;
    }
    if (pr.match < this.raftLog.lastIndex() || pr.state === ProgressState.Probe) this.#sendAppend(m.from);
    if (this.readOnly.option !== 'safe' || m.context === undefined || m.context.byteLength === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined) return;
    let votersAcked = 0;
    for (const id of acks) if (this.trk.voters.has(id)) votersAcked++;
    if (votersAcked < this.trk.quorum()) return;
    for (const status of this.readOnly.advance(m.context)) this.#answerReadIndex(status);
  }

  #answerReadIndex(status: ReadIndexStatus): void {
    const reply = this.#responseToReadIndexRequest(status.request, status.index);
    if (reply !== undefined) this.#send(reply);
  }

  #handleTransferLeader(m: Message): void {
    const pr = this.trk.progress.get(m.from)!;
    if (pr.isLearner) {
      this.#log(`${this.id} is learner. Ignored transferring leadership`);
      return;
    }
    const transferee = m.from;
    const last = this.leadTransferee;
    if (last !== NONE) {
      if (last === transferee) {
        this.#log(`${this.id} [term ${this.term}] transfer leadership to ${transferee} is in progress, ignores request to same node`);
        return;
      }
      this.#log(`${this.id} [term ${this.term}] abort previous transferring leadership to ${last}`);
      this.leadTransferee = NONE;
    }
    if (transferee === this.id) {
      this.#log(`${this.id} is already leader. Ignored transferring leadership to self`);
      return;
    }
    this.#log(`${this.id} [term ${this.term}] starts to transfer leadership to ${transferee}`);
    // The transfer must finish within one election timeout, or it is abandoned (see tickHeartbeat).
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) {
      this.#log(`${this.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
      this.#sendTimeoutNow(transferee);
    } else {
      this.#sendAppend(transferee);
    }
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#send(makeMessage({ type: MessageType.TimeoutNow, to }));
  }

  #committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  #leaderReadIndex(m: Message): void {
    if (this.trk.isSingleton()) {
      const reply = this.#responseToReadIndexRequest(m, this.raftLog.committed);
      if (reply !== undefined) this.#send(reply);
      return;
    }
    // A new leader does not know the commit index until an entry of its own term commits (thesis §6.4).
    if (!this.#committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.#sendReadIndexResponse(m);
  }

  #sendReadIndexResponse(m: Message): void {
    if (this.readOnly.option === 'safe') {
      this.readOnly.addRequest(this.raftLog.committed, m);
      // Our own acknowledgement; a single-voter group with learners is done at once.
      const acks = this.readOnly.recvAck(this.id, m.context!);
      if (acks !== undefined && this.trk.quorum() <= 1) {
        for (const status of this.readOnly.advance(m.context!)) this.#answerReadIndex(status);
        return;
      }
      this.#bcastHeartbeat(m.context);
      return;
    }
    const reply = this.#responseToReadIndexRequest(m, this.raftLog.committed);
    if (reply !== undefined) this.#send(reply);
  }

  #releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.#committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.#sendReadIndexResponse(m);
  }

  /** A local read becomes a ReadState; a follower's read becomes a ReadIndexResp to it. */
  #responseToReadIndexRequest(request: Message, readIndex: number): Message | undefined {
    if (request.from === NONE || request.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: request.context! });
      return undefined;
    }
    return makeMessage({ type: MessageType.ReadIndexResp, to: request.from, index: readIndex, context: request.context! });
  }

  #stepCandidate(m: Message): void {
    const myVoteResp = this.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Prop:
        throw new RaftError('proposal-dropped', `${this.id} no leader at term ${this.term}`);
      case MessageType.App:
        this.becomeFollower(m.term, m.from); // Always m.term === this.term here.
        this.#handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.#handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.#handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        this.#log(`${this.id} [term ${this.term} state ${STATE_NAMES[this.state]}] ignored MsgTimeoutNow from ${m.from}`);
        return;
      case myVoteResp: {
        const result = this.#poll(m.from, m.type, !m.reject);
        if (result === 'won') {
          if (this.state === StateType.PreCandidate) {
            this.#campaign('election');
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A lost pre-vote or vote: m.term equals ours or is the one a pre-vote rejection told us.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
    }
  }

  #stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE) throw new RaftError('proposal-dropped', `${this.id} no leader at term ${this.term}`);
        if (this.#config.disableProposalForwarding) {
          throw new RaftError('proposal-dropped', `${this.id} not forwarding to leader ${this.lead} (disabled)`);
        }
        this.#send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.#handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) {
          this.#log(`${this.id} no leader at term ${this.term}; dropping leader transfer msg`);
          return;
        }
        this.#send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.TimeoutNow:
        this.#log(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
        // Transfers never use pre-vote: the leader asked for it, we are not rejoining from a partition.
        this.#hup('transfer');
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) {
          this.#log(`${this.id} no leader at term ${this.term}; dropping index reading msg`);
          return;
        }
        this.#send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context! });
        return;
    }
  }

  #handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index matches the leader's log: say how far we are.
      this.#send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.#send(makeMessage({ type: MessageType.AppResp, to: m.from, index: lastNew }));
      return;
    }
    // Hint the leader at the last index whose term could match, so it skips whole terms at once.
    const probe = Math.min(m.index, this.raftLog.lastIndex());
    const [hintIndex, hintTerm] = this.raftLog.findConflictByTerm(probe, m.logTerm);
    this.#log(
      `${this.id} [logterm: ${this.raftLog.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    this.#send(
      makeMessage({ type: MessageType.AppResp, to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }),
    );
  }

  #handleHeartbeat(m: Message): void {
    const lastIndex = this.raftLog.lastIndex();
    if (m.commit > lastIndex) {
      // The leader only sends a commit index we acknowledged holding, and committed entries are
      // never truncated: our log lost entries we had made durable (a wiped or restored data
      // directory). Tell the leader where our log really ends instead of crashing, so it can
      // feed us again (a snapshot when it compacted past us).
      this.#log(`${this.id} [last index ${lastIndex}] got heartbeat commit ${m.commit} from ${m.from}: our log lost acknowledged entries`);
      this.#send(makeMessage({ type: MessageType.HeartbeatResp, to: m.from, reject: true, rejectHint: lastIndex, ...(m.context ? { context: m.context } : {}) }));
      return;
    }
    this.raftLog.commitTo(m.commit);
    this.#send(makeMessage({ type: MessageType.HeartbeatResp, to: m.from, ...(m.context ? { context: m.context } : {}) }));
  }

  #handleSnapshot(m: Message): void {
    const snapshot = m.snapshot!;
    const { index, term } = snapshot.metadata;
    if (this.#restore(snapshot)) {
      this.#log(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`);
      this.#send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.#log(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      this.#send(makeMessage({ type: MessageType.AppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot sent by the leader; false when it is obsolete or not for us. */
  #restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.state !== StateType.Follower) {
      // Defensive, as in etcd: only a follower should ever get here.
      this.#log(`${this.id} attempted to restore snapshot as ${STATE_NAMES[this.state]}; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (!confState.voters.includes(this.id) && !confState.learners.includes(this.id)) {
      this.#log(`${this.id} attempted to restore snapshot but it is not in the ConfState; should never happen`);
      return false;
    }
    if (this.raftLog.matchTerm(index, term)) {
      // We have the snapshot's last entry already: just fast-forward the commit index.
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(snapshot);
    this.trk.progress.clear();
    this.#switchToConfig(confState);
    const self = this.trk.progress.get(this.id)!;
    self.maybeUpdate(self.next - 1);
    return true;
  }

  // ---- membership ----------------------------------------------------------------------------

  /** Applies a committed membership change; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    const next = applyConfChangeToState(this.trk.confState(), cc);
    assert.ok(next.voters.length > 0, 'removed all voters');
    return this.#switchToConfig(next);
  }

  #switchToConfig(cs: ConfState): ConfState {
    this.trk.applyConfState(cs, this.raftLog.lastIndex());
    const self = this.trk.progress.get(this.id);
    this.isLearner = self !== undefined && self.isLearner;
    if ((self === undefined || this.isLearner) && this.state === StateType.Leader) {
      // A removed or demoted leader steps down; otherwise it would keep heartbeating a group it
      // no longer belongs to and block a new election there.
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== StateType.Leader || cs.voters.length === 0) return cs;
    // The quorum may have shrunk: commit what it now allows, and feed new members.
    if (this.#maybeCommit()) this.bcastAppend();
    else this.#forEachPeer((id) => this.#maybeSendAppend(id, false));
    if (this.leadTransferee !== NONE && !this.trk.voters.has(this.leadTransferee)) this.leadTransferee = NONE;
    return cs;
  }

  // ---- ticks ---------------------------------------------------------------------------------

  tick(): void {
    if (this.state === StateType.Leader) this.#tickHeartbeat();
    else this.#tickElection();
  }

  #tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(makeMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  #tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(makeMessage({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.#config.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(makeMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  /** Drops the known leader (e.g. the application knows it is gone); keeps term and timer. */
  forgetLeader(): void {
    if (this.state !== StateType.Follower || this.lead === NONE) return;
    if (this.readOnly.option === 'lease-based') {
      this.#log(`${this.id} [term ${this.term}] ignoring forget-leader: lease-based reads rely on the lease`);
      return;
    }
    this.#log(`${this.id} forgetting leader ${this.lead} at term ${this.term}`);
    this.lead = NONE;
  }

  /** True when `m` is a response from a node we do not know (RawNode refuses it). */
  isResponseFromUnknownPeer(m: Message): boolean {
    return isResponseMessage(m.type) && !this.trk.progress.has(m.from);
  }
}
