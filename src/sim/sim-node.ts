// One simulated server: a "disk" (MemoryStorage, which survives crashes), and, while it is up, a
// RawNode and an in-memory state machine (both lost in a crash). A restart builds a new RawNode
// on the same disk and restores the state machine from the disk's latest snapshot; the committed
// entries after that snapshot are then applied again.
import type { ConfState, NodeId, RaftConfig } from '../raft/index.js';
import type { Prng } from './prng.js';
import { SimStateMachine } from './state-machine.js';
import type { RaftModule, SimParams } from './types.js';

type RawNodeInstance = InstanceType<RaftModule['RawNode']>;
type StorageInstance = InstanceType<RaftModule['MemoryStorage']>;

export class SimNode {
  readonly id: NodeId;
  readonly storage: StorageInstance;
  rn: RawNodeInstance | undefined = undefined;
  sm = new SimStateMachine();
  /** The configuration as of the last applied entry (what a snapshot records). */
  confState: ConfState;
  /** Incremented at every start: reports for an earlier life are not delivered to this one. */
  life = 0;
  /** Removed from the cluster and shut down for good. */
  decommissioned = false;
  /** Ticks to skip or repeat (clock-skew fault): > 0 ticks twice, < 0 skips ticks. */
  clockSkew = 0;

  constructor(id: NodeId, storage: StorageInstance) {
    this.id = id;
    this.storage = storage;
    this.confState = storage.initialState().confState;
  }

  get up(): boolean {
    return this.rn !== undefined;
  }

  /** Starts (or restarts) the node on its disk. */
  start(raft: RaftModule, params: SimParams, randomInt: (n: number) => number, logger?: (line: string) => void): void {
    const snapshot = this.storage.snapshot();
    this.sm = new SimStateMachine();
    this.sm.restore(snapshot.data);
    this.confState = this.storage.initialState().confState;
    const config: RaftConfig = {
      id: this.id,
      electionTick: params.electionTick,
      heartbeatTick: params.heartbeatTick,
      storage: this.storage,
      applied: snapshot.metadata.index,
      maxSizePerMsgBytes: params.maxSizePerMsgBytes,
      maxInflightMsgs: params.maxInflightMsgs,
      maxInflightBytes: params.maxInflightBytes,
      maxCommittedSizePerReadyBytes: params.maxCommittedSizePerReadyBytes,
      checkQuorum: params.checkQuorum,
      preVote: params.preVote,
      randomInt,
      ...(logger ? { logger } : {}),
    };
    this.rn = new raft.RawNode(config);
    this.life++;
  }

  /** Drops everything not on disk. */
  crash(): void {
    this.rn = undefined;
    this.life++;
  }

  /** Term of `index` in the persisted log, or undefined when compacted or absent. */
  storedTerm(index: number): number | undefined {
    if (index < this.storage.firstIndex() - 1 || index > this.storage.lastIndex()) return undefined;
    return this.storage.term(index);
  }

  /** Term of `index` in the RawNode's whole log (persisted and unstable), or undefined. */
  liveTerm(index: number): number | undefined {
    const log = this.rn?.raft.raftLog;
    if (log === undefined) return undefined;
    if (index < log.firstIndex() - 1 || index > log.lastIndex()) return undefined;
    return log.term(index);
  }
}

/** A Prng-backed `randomInt` for RaftConfig (election timeouts). */
export function randomIntFrom(prng: Prng): (n: number) => number {
  return (n) => prng.int(n);
}
