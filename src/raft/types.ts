// Wire-independent data types of the Raft core. Everything here is plain data: the core never
// does I/O, so these objects are what the node driver persists, sends and applies.
//
// Ownership: entries and messages returned by the core (through `Ready`) are owned by the
// caller once `ready()` returns; the core keeps references to entry objects in its unstable log
// until `advance()`, so callers must not mutate them. `data` buffers are never copied by the core.

import assert from 'node:assert/strict';

/** A member id. 0 means "nobody" (no leader, no vote). */
export type NodeId = number;
export const NONE: NodeId = 0;

export enum EntryType {
  Normal = 0,
  /** `data` is an encoded `ConfChange` (see conf-change.ts). */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque payload; empty for the leader's no-op entry. Never copied by the core. */
  data: Uint8Array;
}

export enum ConfChangeType {
  AddVoter = 0,
  AddLearner = 1,
  RemoveNode = 2,
}

/** A single-server membership change, replicated through the log as an EntryType.ConfChange. */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to the core (the node driver puts the member's address here). */
  context: Uint8Array;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  /** The snapshot covers the log up to and including `index`, whose term is `term`. */
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** Opaque state-machine image (the store streams its own data; the core only carries this). */
  data: Uint8Array;
}

/** What must be durable before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export enum MessageType {
  /** Local: start an election (campaign). Never sent over the network. */
  Hup = 0,
  /** Local: leader's heartbeat tick. Never sent over the network. */
  Beat = 1,
  /** A proposal: local, or forwarded by a follower to the leader. */
  Prop = 2,
  App = 3,
  AppResp = 4,
  Vote = 5,
  VoteResp = 6,
  Snap = 7,
  Heartbeat = 8,
  HeartbeatResp = 9,
  /** Local: the transport could not reach `from`. */
  Unreachable = 10,
  /** Local: result of sending a snapshot to `from` (reject = failed). */
  SnapStatus = 11,
  /** Local: leader checks it still hears from a quorum. */
  CheckQuorum = 12,
  /** Ask the leader to hand leadership to `from`. */
  TransferLeader = 13,
  /** Leader tells the transfer target to campaign now. */
  TimeoutNow = 14,
  ReadIndex = 15,
  ReadIndexResp = 16,
  PreVote = 17,
  PreVoteResp = 18,
}

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** For App: term of the entry before `entries`; for Vote/PreVote: candidate's last log term. */
  logTerm: number;
  /** For App: index of the entry before `entries`; for AppResp: highest index matched or rejected. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** For a rejected AppResp: the follower's best guess of where the leader should probe next. */
  rejectHint: number;
  /** ReadIndex request context and heartbeat context; opaque. */
  context?: Uint8Array;
}

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

export interface SoftState {
  leader: NodeId;
  state: StateType;
}

export interface ReadState {
  /** Reads with `requestCtx` are linearizable once the applied index reaches `index`. */
  index: number;
  requestCtx: Uint8Array;
}

/**
 * One batch of work for the node driver. Contract (etcd's): persist `hardState` and `entries`
 * (and `snapshot`) durably first; then send `messages`; then apply `committedEntries` in order;
 * then call `advance()`. Fields that did not change are absent (`hardState`, `softState`,
 * `snapshot`) or empty arrays.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  readStates: ReadState[];
  /** New or rewritten log entries to append to stable storage (they may overwrite a tail). */
  entries: Entry[];
  /** A snapshot to install in stable storage and the state machine. */
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  /** True when hardState or entries changed in a way that needs an fsync before sending. */
  mustSync: boolean;
}

export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  inflightCount: number;
  inflightBytes: number;
  pendingSnapshot: number;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  /** The last index of the log, unstable entries included (what this member has received, written or not). */
  lastIndex: number;
  leadTransferee: NodeId;
  /** Only on the leader: replication progress of every member. */
  progress: Map<NodeId, ProgressStatus>;
  config: ConfState;
}

export type ReadOnlyOption = 'safe' | 'lease-based';

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing a leader before a follower campaigns; randomized in [e, 2e). */
  electionTick: number;
  heartbeatTick: number;
  storage: LogStorage;
  /** Last applied index when restarting (entries up to it are not handed out again). */
  applied?: number;
  /** Most bytes of entries in one append message (one larger entry is still sent alone). */
  maxSizePerMsgBytes: number;
  /** Most append messages in flight to one follower before it is paused. */
  maxInflightMsgs: number;
  /** Most bytes of entries in flight to one follower (0 = unlimited). */
  maxInflightBytes?: number;
  /** Leader drops proposals once the uncommitted tail reaches this many bytes (0 = unlimited). */
  maxUncommittedEntriesBytes?: number;
  /** Most bytes of committed entries handed out in one Ready (0 = unlimited). */
  maxCommittedSizePerReadyBytes?: number;
  checkQuorum: boolean;
  preVote: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /**
   * Source of randomness for the election timeout: returns an integer in [0, n). The simulator
   * passes a seeded PRNG so runs replay exactly; defaults to Math.random.
   */
  randomInt?: (n: number) => number;
  /** Receives one line per notable state change ("1 became leader at term 2"). */
  logger?: (line: string) => void;
}

/**
 * Read access to the stable Raft log, as the core needs it. All methods are synchronous.
 * Index ranges are half-open `[lo, hi)`. Contract (etcd's Storage):
 * - `firstIndex()` is the index of the first entry still available (snapshot index + 1);
 * - `lastIndex()` is the last entry's index (snapshot index when the log is empty);
 * - `term(i)` works for `firstIndex() - 1 <= i <= lastIndex()` (the snapshot's own index included),
 *   throws `RaftError` code 'compacted' below and 'unavailable' above;
 * - `entries(lo, hi, maxBytes)` returns at least one entry when `lo < hi` even if it alone is
 *   over `maxBytes`; throws 'compacted' when `lo < firstIndex()`, 'unavailable' when
 *   `hi > lastIndex() + 1`. Returned arrays belong to the caller; entry objects must not be mutated;
 * - `snapshot()` returns the most recent snapshot (it may throw 'snapshot-temporarily-unavailable').
 */
export interface LogStorage {
  initialState(): { hardState: HardState; confState: ConfState };
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export type RaftErrorCode =
  | 'compacted'
  | 'unavailable'
  | 'snapshot-out-of-date'
  | 'snapshot-temporarily-unavailable'
  | 'proposal-dropped'
  | 'step-local-message'
  | 'step-peer-not-found';

/** An expected operating error of the core (never a bug: bugs are assertion failures). */
export class RaftError extends Error {
  readonly code: RaftErrorCode;
  constructor(code: RaftErrorCode, message?: string) {
    super(message ?? code);
    this.name = 'RaftError';
    this.code = code;
  }
}

/**
 * The range checks of the LogStorage contract, for implementations whose log starts after a
 * dummy entry at `dummyIndex` (the snapshot's index) and ends at `lastIndex`: `term(index)` is
 * valid in [dummyIndex, lastIndex], `entries(lo, hi)` in [dummyIndex + 1, lastIndex + 1].
 * Throws RaftError 'compacted' below and 'unavailable' above.
 */
export function checkTermRange(index: number, dummyIndex: number, lastIndex: number): void {
  if (index < dummyIndex) throw new RaftError('compacted', `term(${index}): compacted below ${dummyIndex}`);
  if (index > lastIndex) throw new RaftError('unavailable', `term(${index}): after the last index ${lastIndex}`);
}

export function checkEntriesRange(lo: number, hi: number, dummyIndex: number, lastIndex: number): void {
  if (lo <= dummyIndex) throw new RaftError('compacted', `entries(${lo}, ${hi}): compacted below ${dummyIndex + 1}`);
  if (hi > lastIndex + 1) throw new RaftError('unavailable', `entries(${lo}, ${hi}): after the last index ${lastIndex}`);
  // A reversed range is a bug in the caller, not an operating error.
  if (lo > hi) assert.fail(`entries(${lo}, ${hi}): lo is above hi`);
}

/** Bytes an entry counts for in size limits: payload plus a fixed header estimate. */
export const ENTRY_OVERHEAD_BYTES = 16;
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export const EMPTY_BYTES = new Uint8Array(0);

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: EMPTY_BYTES };
}

export function isEmptySnapshot(snapshot: Snapshot | undefined): boolean {
  return snapshot === undefined || snapshot.metadata.index === 0;
}

/** True for message types that are only ever stepped locally and never cross the network. */
export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.Hup ||
    type === MessageType.Beat ||
    type === MessageType.Unreachable ||
    type === MessageType.SnapStatus ||
    type === MessageType.CheckQuorum
  );
}

/** Responses are answers to a request of the receiver; they never need a pending proposal. */
export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.AppResp ||
    type === MessageType.VoteResp ||
    type === MessageType.HeartbeatResp ||
    type === MessageType.Unreachable ||
    type === MessageType.ReadIndexResp ||
    type === MessageType.PreVoteResp
  );
}

/** The response type for a vote request type. */
export function voteResponseType(type: MessageType): MessageType {
  return type === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}
