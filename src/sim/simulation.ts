// The deterministic cluster simulator: N RawNodes over MemoryStorage "disks", a lossy network,
// a fault schedule and a client, all driven by one seeded Prng in simulated ticks. Every event
// (a delivery, a tick, a Ready handled, a proposal, a fault) is one step; the safety checker is
// fed from each step, so a broken invariant stops the run at the step that broke it.
//
// Driver order per Ready (the contract in src/raft/raw-node.ts): persist snapshot, entries and
// hard state; send messages; apply committed entries; advance(). Crashes can cut in before
// persisting (the Ready is lost) or after persisting (messages not sent).
import type { ConfState, Entry, Message, NodeId, Ready } from '../raft/index.js';
import { InvariantViolation, SafetyChecker } from './checkers.js';
import { ClientLoad } from './client.js';
import { FaultScheduler } from './faults.js';
import { SimNetwork, type DropReason, type Envelope } from './network.js';
import { drawParams } from './params.js';
import { Prng } from './prng.js';
import { SimNode, randomIntFrom } from './sim-node.js';
import { describeMessageLine, describeReadyLines } from './trace.js';
import { emptyStats, type RaftModule, type SimOptions, type SimParams, type SimResult, type SimStats } from './types.js';

/** Delivery rounds per tick: messages sent with no delay are delivered within the same tick. */
const DELIVERY_ROUNDS_MAX = 32;
/** Readies handled for one node in one flush (a core that always has a Ready must not hang us). */
const READIES_PER_FLUSH_MAX = 4;
/** Probability that a message dropped by a partition or a down node is reported unreachable. */
const REPORT_UNREACHABLE_RATE = 0.3;

/** A failure of the core itself (an assertion, an unexpected exception): a violation too. */
class CoreFailure extends Error {}

function raftErrorCode(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'RaftError') return (err as Error & { code: string }).code;
  return undefined;
}

export class Simulation {
  readonly options: SimOptions;
  readonly raft: RaftModule;
  readonly prng: Prng;
  readonly params: SimParams;
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly stats: SimStats = emptyStats();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly faults: FaultScheduler;
  readonly client: ClientLoad;
  /** Membership as of the highest index applied anywhere. */
  clusterConf: ConfState;
  /** Highest index applied by any node. */
  maxApplied = 0;
  now = 0;
  step = 0;
  readonly #raftTimers: (n: number) => number;
  readonly #trace: string[] | undefined;
  #deferred: (() => void)[] = [];

  constructor(options: SimOptions) {
    this.options = options;
    this.raft = options.raft;
    this.prng = new Prng(options.seed);
    this.params = drawParams(this.prng);
    this.network = new SimNetwork(this.prng.fork());
    this.network.onDrop = (e, reason) => this.#onDrop(e, reason);
    this.checker = new SafetyChecker({ protocolRules: options.protocolRules ?? true });
    this.#raftTimers = randomIntFrom(this.prng.fork());
    this.#trace = options.trace ? [] : undefined;
    const voters = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.clusterConf = { voters, learners: [] };
    this.faults = new FaultScheduler(this);
    this.client = new ClientLoad(this);
  }

  run(): SimResult {
    let violation: InvariantViolation | undefined;
    try {
      this.event(() => `start seed=${this.options.seed} nodes=${this.options.nodes} params=${JSON.stringify(this.params)}`);
      for (const id of this.clusterConf.voters) this.addNode(id, this.clusterConf);
      while (this.step < this.options.stepsMax) this.#runTick();
    } catch (err) {
      violation = this.#asViolation(err);
      // Not a step of its own: the violation belongs to the step that just ran.
      const line = `VIOLATION at step ${this.step}, tick ${this.now}: ${violation.message}`;
      this.#trace?.push(line);
      this.options.onTraceLine?.(line);
    }
    this.stats.steps = this.step;
    this.stats.ticks = this.now;
    this.stats.commits = this.checker.commitMax;
    this.stats.messagesSent = this.network.stats.sent;
    this.stats.messagesLost = this.network.stats.lost + this.network.stats.cut;
    return {
      seed: this.options.seed,
      nodes: this.options.nodes,
      params: this.params,
      stats: this.stats,
      ...(violation ? { violation: { invariant: violation.invariant, message: violation.message, step: this.step, tick: this.now } } : {}),
      ...(this.#trace ? { trace: this.#trace } : {}),
    };
  }

  #asViolation(err: unknown): InvariantViolation {
    if (err instanceof InvariantViolation) return err;
    const cause = err instanceof CoreFailure ? err.cause : err;
    if (!(cause instanceof Error)) return new InvariantViolation('core-error', String(cause));
    // Where it was thrown: the first stack frame, so the message alone points at the code.
    const frame = cause.stack?.split('\n').find((line) => line.trimStart().startsWith('at '))?.trim() ?? '';
    return new InvariantViolation('core-error', `${cause.name}: ${cause.message} ${frame}`.trimEnd());
  }

  /** Records one step; the text is built only when tracing. */
  event(text: () => string): void {
    this.step++;
    if (this.#trace === undefined) return;
    const line = `${this.step} t${this.now} ${text()}`;
    this.#trace.push(line);
    this.options.onTraceLine?.(line);
  }

  get tracing(): boolean {
    return this.#trace !== undefined;
  }

  countFault(kind: string): void {
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
  }

  defer(action: () => void): void {
    this.#deferred.push(action);
  }

  // ---- the tick loop ---------------------------------------------------------------------------

  #runTick(): void {
    this.faults.beforeTick();
    this.client.beforeTick();
    this.#runDeferred();
    for (let round = 0; round < DELIVERY_ROUNDS_MAX; round++) {
      let moved = this.#deliverDue();
      moved = this.#flushReadies() || moved;
      moved = this.#runDeferred() || moved;
      if (!moved) break;
    }
    this.#tickNodes();
    this.#flushReadies();
    this.faults.afterTick();
    this.now++;
  }

  #runDeferred(): boolean {
    if (this.#deferred.length === 0) return false;
    const actions = this.#deferred;
    this.#deferred = [];
    for (const action of actions) action();
    return true;
  }

  #deliverDue(): boolean {
    let delivered = false;
    for (let e = this.network.takeDue(this.now); e !== undefined; e = this.network.takeDue(this.now)) {
      this.#deliver(e);
      delivered = true;
      if (this.step >= this.options.stepsMax) break;
    }
    return delivered;
  }

  #deliver(e: Envelope): void {
    const m = e.message;
    const node = this.nodes.get(m.to);
    if (node === undefined || !node.up) {
      this.#onDrop(e, 'down');
      return;
    }
    this.event(() => `deliver ${describeMessageLine(m)}`);
    const log = node.rn!.raft.raftLog;
    const commitBefore = log.committed;
    this.coreCall(() => node.rn!.step(m));
    if (m.type === this.raft.MessageType.App && node.up) {
      this.checker.observeFollowerCommit(node.id, commitBefore, log.committed, m.index + m.entries.length);
    }
    if (m.type === this.raft.MessageType.Snap) {
      this.stats.snapshotsSent++;
      this.#reportToSender(e, (sender) => sender.rn!.reportSnapshot(m.to, true), 'snapshot ok');
    }
    this.afterNodeEvent(node);
    if (this.prng.chance(this.params.eagerReadyRate)) this.#handleReadyIfAny(node);
  }

  #onDrop(e: Envelope, reason: DropReason): void {
    const m = e.message;
    if (m.type === this.raft.MessageType.Snap) {
      this.#reportToSender(e, (sender) => sender.rn!.reportSnapshot(m.to, false), `snapshot failed (${reason})`);
    } else if (reason !== 'loss' && this.prng.chance(REPORT_UNREACHABLE_RATE)) {
      this.#reportToSender(e, (sender) => sender.rn!.reportUnreachable(m.to), `unreachable (${reason})`);
    }
  }

  /** Transport feedback goes to the life of the sender that sent the message, if still up. */
  #reportToSender(e: Envelope, report: (sender: SimNode) => void, what: string): void {
    this.defer(() => {
      const sender = this.nodes.get(e.message.from);
      if (sender === undefined || !sender.up || sender.life !== e.senderLife) return;
      this.event(() => `report to ${sender.id}: ${e.message.to} ${what}`);
      this.coreCall(() => report(sender));
      this.afterNodeEvent(sender);
    });
  }

  #tickNodes(): void {
    for (const node of this.prng.shuffle([...this.nodes.values()])) {
      if (!node.up) continue;
      const ticks = node.clockSkew > 0 ? 2 : node.clockSkew < 0 && (this.now & 1) === 1 ? 0 : 1;
      for (let i = 0; i < ticks && node.up; i++) {
        this.event(() => `tick ${node.id}`);
        this.coreCall(() => node.rn!.tick());
        this.afterNodeEvent(node);
      }
    }
  }

  #flushReadies(): boolean {
    let handled = false;
    for (const node of this.prng.shuffle([...this.nodes.values()])) {
      for (let i = 0; i < READIES_PER_FLUSH_MAX && this.#handleReadyIfAny(node); i++) handled = true;
    }
    return handled;
  }

  /** Runs a call into the core; RaftErrors the driver expects are swallowed, anything else fails the run. */
  coreCall(call: () => void): string | undefined {
    try {
      call();
      return undefined;
    } catch (err) {
      const code = raftErrorCode(err);
      if (code === 'proposal-dropped' || code === 'step-peer-not-found') return code;
      if (err instanceof InvariantViolation) throw err;
      throw new CoreFailure('core failure', { cause: err });
    }
  }

  /** Runs a call into the core that must not fail at all. */
  coreValue<T>(call: () => T): T {
    try {
      return call();
    } catch (err) {
      if (err instanceof InvariantViolation) throw err;
      throw new CoreFailure('core failure', { cause: err });
    }
  }

  // ---- observation -----------------------------------------------------------------------------

  /** After any event on `node`: is it a leader now? (election safety, leader completeness) */
  afterNodeEvent(node: SimNode): void {
    const r = node.rn?.raft;
    if (r !== undefined && r.state === this.raft.StateType.Leader) this.#observeLeader(node, r.term, 'is leader');
  }

  #observeLeader(node: SimNode, term: number, how: string): void {
    if (this.checker.hasLeader(term)) {
      this.checker.observeLeader(node.id, term, how);
      return;
    }
    this.checker.observeLeader(node.id, term, how);
    this.stats.elections++;
    this.event(() => `leader ${node.id} term ${term}`);
    const log = node.rn?.raft.raftLog;
    if (log !== undefined) this.checker.observeLeaderLog(node.id, term, log.firstIndex(), (i) => node.liveTerm(i));
    this.faults.onNewLeader(node);
  }

  // ---- the driver: one Ready ---------------------------------------------------------------------

  #handleReadyIfAny(node: SimNode): boolean {
    const rn = node.rn;
    if (rn === undefined || !rn.hasReady()) return false;
    const rd = this.coreValue(() => rn.ready());
    this.event(() => `ready ${node.id}${describeReadyLines(rd)}`);
    if (this.faults.crashBeforePersist(node, rd)) return true;
    this.#persist(node, rd);
    for (const rs of rd.readStates) this.client.onReadState(node, rs);
    const crash = this.faults.crashAfterPersist(node, rd);
    if (crash?.point === 'before-send') {
      this.crash(node, crash.why);
      return true;
    }
    this.#send(node, rd.messages);
    if (crash?.point === 'after-send') {
      this.crash(node, crash.why);
      return true;
    }
    this.#apply(node, rd.committedEntries);
    this.coreCall(() => rn.advance());
    this.#maybeSnapshot(node);
    this.afterNodeEvent(node);
    return true;
  }

  #persist(node: SimNode, rd: Ready): void {
    const storage = node.storage;
    if (rd.snapshot !== undefined) {
      const snapshot = rd.snapshot;
      this.coreCall(() => storage.applySnapshot(snapshot));
      node.sm.restore(snapshot.data);
      if (node.sm.applied !== snapshot.metadata.index) {
        throw new InvariantViolation('snapshot-image', `node ${node.id} got snapshot ${snapshot.metadata.index} holding state of ${node.sm.applied}`);
      }
      node.confState = snapshot.metadata.confState;
      this.checker.observeRestore(node.id, node.sm.applied, node.sm.hash);
    }
    if (rd.entries.length > 0) {
      this.coreCall(() => storage.append(rd.entries));
      this.checker.observeAppend(node.id, rd.entries, (i) => node.storedTerm(i));
    }
    if (rd.hardState !== undefined) {
      const hs = rd.hardState;
      storage.setHardState(hs);
      this.checker.observePersistedHardState(node.id, hs);
      this.checker.observeCommit(node.id, hs.commit, hs.term, (i) => node.storedTerm(i));
    }
  }

  #send(node: SimNode, messages: Message[]): void {
    const { MessageType } = this.raft;
    for (const m of messages) {
      if (m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap) {
        this.#observeLeader(node, m.term, `sent ${MessageType[m.type]}`);
      } else if (m.type === MessageType.VoteResp && !m.reject) {
        this.checker.observeVoteGranted(node.id, m.to, m.term, node.storage.initialState().hardState);
      }
      this.network.send(m, node.life, this.now);
    }
  }

  #apply(node: SimNode, entries: Entry[]): void {
    const { EntryType } = this.raft;
    for (const e of entries) {
      const hash = node.sm.apply(e);
      this.checker.observeApply(node.id, e, hash);
      this.stats.applied++;
      if (e.type === EntryType.ConfChange) {
        const cc = this.raft.decodeConfChange(e.data);
        this.coreCall(() => (node.confState = node.rn!.applyConfChange(cc)));
      }
      if (e.index > this.maxApplied) {
        this.maxApplied = e.index;
        this.client.onFirstApply(e);
      }
    }
  }

  /** Snapshot the state machine and compact the log once enough entries are applied. */
  #maybeSnapshot(node: SimNode): void {
    const storage = node.storage;
    const applied = node.sm.applied;
    if (applied - (storage.firstIndex() - 1) < this.params.snapshotEveryEntries) return;
    if (applied <= storage.snapshot().metadata.index) return;
    storage.createSnapshot(applied, node.confState, node.sm.image());
    const compactIndex = applied - this.params.compactKeepEntries;
    if (compactIndex >= storage.firstIndex()) storage.compact(compactIndex);
    this.stats.snapshotsCreated++;
    this.event(() => `snapshot ${node.id} at ${applied}, log from ${storage.firstIndex()}`);
  }

  // ---- cluster control (faults and client) -----------------------------------------------------

  addNode(id: NodeId, confState: ConfState | undefined): SimNode {
    const node = new SimNode(id, this.raft.MemoryStorage.create(confState));
    this.nodes.set(id, node);
    this.#start(node);
    this.event(() => `add node ${id}`);
    return node;
  }

  #start(node: SimNode): void {
    const logger = this.tracing ? (line: string) => this.#trace!.push(`    log ${node.id}: ${line}`) : undefined;
    this.coreCall(() => node.start(this.raft, this.params, this.#raftTimers, logger));
    this.checker.observeRestore(node.id, node.sm.applied, node.sm.hash);
  }

  crash(node: SimNode, why: string): void {
    if (!node.up) return;
    this.event(() => `crash ${node.id} (${why})`);
    node.crash();
    this.checker.observeCrash(node.id);
    this.stats.crashes++;
  }

  restart(node: SimNode, why: string): void {
    if (node.up || node.decommissioned) return;
    this.event(() => `restart ${node.id} (${why})`);
    this.#start(node);
    this.stats.restarts++;
  }

  decommission(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || node.decommissioned) return;
    this.crash(node, 'removed from the cluster');
    node.decommissioned = true;
  }

  /** Nodes still part of the cluster (members or joining), up or down. */
  liveMembers(): SimNode[] {
    return [...this.nodes.values()].filter((n) => !n.decommissioned);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  /** The up node that believes it leads the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      const r = node.rn?.raft;
      if (r === undefined || r.state !== this.raft.StateType.Leader) continue;
      if (best === undefined || r.term > best.rn!.raft.term) best = node;
    }
    return best;
  }

  handleReadyNow(node: SimNode): void {
    this.#handleReadyIfAny(node);
  }
}
