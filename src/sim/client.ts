// The simulated clients: a stream of proposals with unique payloads (`seed:node:counter`, some
// padded past the message size limit), bursts, leadership transfers, liveness probes after a
// heal, linearizable reads (ReadIndex: the index a read is served at must cover every commit
// known anywhere when the read was asked), and membership changes: remove a voter, add a fresh node as a learner, promote it once it
// has caught up. Only one membership change is in the air at a time, as Raft requires: the next
// one is proposed only after the previous one's log position was applied (with it, or with
// whatever replaced it there).
import type { ConfChange, Entry, NodeId, ReadState } from '../raft/index.js';
import { InvariantViolation } from './checkers.js';
import type { SimNode } from './sim-node.js';
import type { Simulation } from './simulation.js';

/** Probability per tick of a membership step (when one is due and none is pending). */
const MEMBERSHIP_RATE = 0.02;
/** Probability per tick of a ReadIndex request to a random node. */
const READ_RATE = 0.05;
/** Probability per tick that the leader is asked to transfer leadership. */
const TRANSFER_RATE = 0.004;
/** Share of proposals sent to a random node instead of the leader (followers forward them). */
const FORWARDED_PROPOSAL_RATE = 0.2;
/** A learner is promoted once it has applied up to this many entries behind the cluster. */
const LEARNER_LAG_ENTRIES_MAX = 3;
/** Ticks between liveness probes while recovering. */
const PROBE_INTERVAL_TICKS = 2;
/** First byte of a liveness probe's payload ('~'): no client payload starts with it. */
const PROBE_MARK = 0x7e;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface PendingConfChange {
  index: number;
  term: number;
  description: string;
}

export class ClientLoad {
  readonly #sim: Simulation;
  #counter = 0;
  nextProbeId = 0;
  #lastProbeTick = -1;
  #pendingConf: PendingConfChange | undefined = undefined;
  #nextNodeId: NodeId;
  #readCounter = 0;
  /** Reads in flight by request context: the highest commit index known anywhere when asked. */
  readonly #reads = new Map<string, number>();

  constructor(sim: Simulation) {
    this.#sim = sim;
    this.#nextNodeId = sim.options.nodes + 1;
  }

  beforeTick(): void {
    const sim = this.#sim;
    const { prng, params } = sim;
    if (prng.chance(params.proposalRate)) this.#proposeSome();
    if (params.membershipChanges && this.#pendingConf === undefined && prng.chance(MEMBERSHIP_RATE)) this.#membershipStep();
    if (params.leaderTransfers && prng.chance(TRANSFER_RATE)) this.#transfer();
    if (prng.chance(READ_RATE)) this.#read();
    if (sim.faults.recovering && sim.now - this.#lastProbeTick >= PROBE_INTERVAL_TICKS) this.#probe();
  }

  #payload(target: NodeId): Uint8Array {
    const { prng, params, options } = this.#sim;
    const text = `${options.seed}:${target}:${this.#counter++}`;
    const padding = params.payloadPaddingMax > 0 && prng.chance(0.3) ? '.'.repeat(prng.int(params.payloadPaddingMax)) : '';
    return encoder.encode(text + padding);
  }

  #proposalTarget(): SimNode | undefined {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader !== undefined && !sim.prng.chance(FORWARDED_PROPOSAL_RATE)) return leader;
    const up = sim.upNodes();
    return up.length === 0 ? undefined : sim.prng.pick(up);
  }

  #proposeSome(): void {
    const target = this.#proposalTarget();
    if (target === undefined) return;
    const count = this.#sim.prng.range(1, this.#sim.params.proposalBatchMax);
    const payloads = Array.from({ length: count }, () => this.#payload(target.id));
    this.#propose(target, payloads);
  }

  #propose(node: SimNode, payloads: Uint8Array[]): void {
    const sim = this.#sim;
    sim.event(() => `propose ${payloads.length} to ${node.id}: ${decoder.decode(payloads[0]!.subarray(0, 24))}...`);
    sim.stats.proposals += payloads.length;
    const dropped = sim.coreCall(() => node.rn!.proposeBatch(payloads));
    if (dropped !== undefined) sim.stats.proposalsDropped += payloads.length;
    sim.afterNodeEvent(node);
  }

  burst(leader: SimNode, count: number): void {
    for (let i = 0; i < count && leader.up; i++) this.#propose(leader, [this.#payload(leader.id)]);
  }

  #probe(): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader === undefined) return;
    this.#lastProbeTick = sim.now;
    const id = this.nextProbeId++;
    const data = encoder.encode(`~probe:${id}`);
    sim.event(() => `probe ${id} to ${leader.id}`);
    sim.coreCall(() => leader.rn!.propose(data));
    sim.afterNodeEvent(leader);
  }

  #read(): void {
    const up = this.#sim.upNodes();
    if (up.length > 0) this.readAt(this.#sim.prng.pick(up));
  }

  /** Asks `node` for a linearizable read point. */
  readAt(node: SimNode): void {
    const sim = this.#sim;
    const context = `read:${this.#readCounter++}`;
    this.#reads.set(context, sim.checker.commitMax);
    sim.stats.reads++;
    sim.event(() => `read ${context} at ${node.id} (commit known: ${sim.checker.commitMax})`);
    sim.coreCall(() => node.rn!.readIndex(encoder.encode(context)));
    sim.afterNodeEvent(node);
  }

  /** A node handed out a ReadState: a linearizable read must not be served below an earlier commit. */
  onReadState(node: SimNode, rs: ReadState): void {
    const context = decoder.decode(rs.requestCtx);
    const floor = this.#reads.get(context);
    if (floor === undefined) return;
    this.#reads.delete(context);
    this.#sim.stats.readsServed++;
    if (rs.index < floor) {
      throw new InvariantViolation(
        'read-linearizability',
        `node ${node.id} served read ${context} at index ${rs.index}, below index ${floor} committed before it was asked`,
      );
    }
  }

  #transfer(): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader === undefined) return;
    const others = sim.clusterConf.voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const target = sim.prng.pick(others);
    sim.event(() => `transfer leadership ${leader.id} -> ${target}`);
    sim.stats.transfers++;
    sim.coreCall(() => leader.rn!.transferLeader(target));
    sim.afterNodeEvent(leader);
  }

  // ---- membership --------------------------------------------------------------------------------

  #membershipStep(): void {
    const sim = this.#sim;
    const { ConfChangeType } = sim.raft;
    const conf = sim.clusterConf;
    const learner = conf.learners[0];
    if (learner !== undefined) {
      const node = sim.nodes.get(learner);
      if (node?.up && node.sm.applied + LEARNER_LAG_ENTRIES_MAX >= sim.maxApplied) {
        this.#proposeConfChange({ type: ConfChangeType.AddVoter, nodeId: learner, context: new Uint8Array(0) });
      }
      return;
    }
    if (conf.voters.length < sim.options.nodes) {
      // A joining node starts with an empty log and learns the initial membership only from a
      // snapshot (the bootstrap membership is in the index-0 snapshot, not in any entry): wait
      // until every voter has compacted, so that whoever leads will send it one.
      const compacted = conf.voters.every((id) => (sim.nodes.get(id)?.storage.firstIndex() ?? 1) > 1);
      if (compacted) this.#proposeConfChange({ type: ConfChangeType.AddLearner, nodeId: this.#nextNodeId++, context: new Uint8Array(0) });
      return;
    }
    this.#proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: sim.prng.pick(conf.voters), context: new Uint8Array(0) });
  }

  #proposeConfChange(cc: ConfChange): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader === undefined) return;
    const { ConfChangeType, EntryType } = sim.raft;
    const description = `${ConfChangeType[cc.type]} ${cc.nodeId}`;
    sim.event(() => `propose conf change ${description} to ${leader.id}`);
    const log = leader.rn!.raft.raftLog;
    const lastBefore = log.lastIndex();
    const dropped = sim.coreCall(() => leader.rn!.proposeConfChange(cc));
    sim.afterNodeEvent(leader);
    if (dropped !== undefined || log.lastIndex() === lastBefore) return;
    const index = log.lastIndex();
    const entry = log.slice(index, index + 1, Number.MAX_SAFE_INTEGER)[0]!;
    // Replaced by an empty entry (another change is pending), or already overtaken by the cluster.
    if (entry.type !== EntryType.ConfChange || index <= sim.maxApplied) return;
    this.#pendingConf = { index, term: entry.term, description };
  }

  /** Called when an index is applied for the first time anywhere. */
  onFirstApply(e: Entry): void {
    const sim = this.#sim;
    if (e.data.byteLength > 0 && e.data[0] === PROBE_MARK) {
      sim.faults.onProbeApplied(Number(decoder.decode(e.data.subarray('~probe:'.length))));
    }
    if (this.#pendingConf !== undefined && e.index >= this.#pendingConf.index) this.#pendingConf = undefined;
    if (e.type !== sim.raft.EntryType.ConfChange) return;
    const cc = sim.raft.decodeConfChange(e.data);
    sim.clusterConf = sim.raft.applyConfChangeToState(sim.clusterConf, cc);
    sim.stats.confChanges++;
    const { ConfChangeType } = sim.raft;
    sim.event(() => `membership now voters [${sim.clusterConf.voters.join(' ')}] learners [${sim.clusterConf.learners.join(' ')}]`);
    if (cc.type === ConfChangeType.RemoveNode) sim.defer(() => sim.decommission(cc.nodeId));
    if (cc.type === ConfChangeType.AddLearner && !sim.nodes.has(cc.nodeId)) sim.defer(() => sim.addNode(cc.nodeId, undefined));
  }
}
