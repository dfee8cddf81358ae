// Types shared by the simulator's parts and its callers (scripts/sim.ts, the mutation runner).
import type * as RaftIndex from '../raft/index.js';

/**
 * The Raft module a run exercises: src/raft/index.ts itself, or a patched copy of it (the
 * mutation runner imports one from a temporary folder). Everything the simulator uses from the
 * core comes through this object, never through a static import, so a patched copy is tested
 * end to end: classes, errors and helpers alike.
 */
export type RaftModule = typeof RaftIndex;

export interface SimOptions {
  seed: number;
  /** Voters at the start (3 or 5); membership changes may add and remove nodes later. */
  nodes: number;
  raft: RaftModule;
  /** Event budget: the run stops after this many steps (deliveries, ticks, readies, faults...). */
  stepsMax: number;
  /** Keep the event trace (replaying a seed with it on gives the same run, traced). */
  trace?: boolean;
  /** Receives each trace line as it happens (with `trace`), e.g. to print a replay. */
  onTraceLine?: (line: string) => void;
  /** Check the protocol rules too (default true); see checkers.ts. */
  protocolRules?: boolean;
}

/** Per-seed parameters, drawn from the seed: the Raft configuration and the workload's shape. */
export interface SimParams {
  electionTick: number;
  heartbeatTick: number;
  maxSizePerMsgBytes: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  maxCommittedSizePerReadyBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Probability per tick that the client proposes. */
  proposalRate: number;
  /** Most entries in one client proposal batch. */
  proposalBatchMax: number;
  /** Largest padding added to a payload (some seeds make entries larger than maxSizePerMsgBytes). */
  payloadPaddingMax: number;
  /** Probability that a node's Ready is handled right after each message it receives. */
  eagerReadyRate: number;
  /** A node snapshots once this many entries are applied past its first index. */
  snapshotEveryEntries: number;
  /** Entries kept in the log below the snapshot index when compacting. */
  compactKeepEntries: number;
  membershipChanges: boolean;
  leaderTransfers: boolean;
}

export interface SimStats {
  steps: number;
  ticks: number;
  /** Highest index known committed anywhere. */
  commits: number;
  /** Leaders elected (distinct terms with a leader). */
  elections: number;
  proposals: number;
  proposalsDropped: number;
  /** Entries applied, summed over nodes. */
  applied: number;
  confChanges: number;
  transfers: number;
  /** ReadIndex requests, and those answered with a read state. */
  reads: number;
  readsServed: number;
  snapshotsSent: number;
  snapshotsCreated: number;
  crashes: number;
  restarts: number;
  messagesSent: number;
  messagesLost: number;
  /** Fault windows that were healed and then checked for liveness. */
  livenessChecks: number;
  /** Longest time, in ticks, from a heal to a fresh proposal committing. */
  livenessTicksMax: number;
  /** How many times each fault kind was used. */
  faults: Record<string, number>;
}

export interface SimViolation {
  invariant: string;
  message: string;
  step: number;
  tick: number;
}

export interface SimResult {
  seed: number;
  nodes: number;
  params: SimParams;
  stats: SimStats;
  violation?: SimViolation;
  /** The event trace, when the run was traced. */
  trace?: string[];
}

export function emptyStats(): SimStats {
  return {
    steps: 0,
    ticks: 0,
    commits: 0,
    elections: 0,
    proposals: 0,
    proposalsDropped: 0,
    applied: 0,
    confChanges: 0,
    transfers: 0,
    reads: 0,
    readsServed: 0,
    snapshotsSent: 0,
    snapshotsCreated: 0,
    crashes: 0,
    restarts: 0,
    messagesSent: 0,
    messagesLost: 0,
    livenessChecks: 0,
    livenessTicksMax: 0,
    faults: {},
  };
}
