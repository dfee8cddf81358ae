// The record of a chaos run that the checkers read: every client operation as invoke/complete
// with its outcome, what each member held after healing, and what the harness observed about
// leaders. The workload (workload.ts) writes it; the checkers (checkers/) only read it; the
// report writes it to disk as JSON Lines so a verdict can be re-checked later.
//
// Times are milliseconds on one monotonic clock (performance.now() of the harness process), so
// "A completed before B was invoked" is a plain comparison.

/** What an operation does to the key's register. `get` is served by any replica and is not linearizable. */
export type OpKind = 'put' | 'delete' | 'lookup' | 'get';

/**
 * How an operation ended, as far as the client can know:
 * - `ok`: the cluster answered and the effect (or the read's answer) is certain;
 * - `fail`: the cluster answered with an error that guarantees no effect (refused before proposing);
 * - `unknown`: no certain answer (timeout, connection lost, leadership lost after proposing): the
 *   operation may or may not have taken effect, at any time after its invocation.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

/** A page's identity as the checkers see it: its bytes' crc32c and length (the workload makes every written page unique). */
export interface PageValue {
  crc32c: number;
  bytes: number;
}

export interface Operation {
  /** Unique in the history, in invocation order. */
  id: number;
  /** The workload client (0-based) that ran it; one client runs one operation at a time. */
  client: number;
  kind: OpKind;
  /** Page key, hex. The workload uses one namespace; `ns` is kept for the report. */
  ns: string;
  key: string;
  invokeMs: number;
  /** Absent while in flight; for `unknown` the time the client gave up. */
  completeMs?: number;
  outcome: Outcome;
  /** put: the value written. */
  value?: PageValue;
  /**
   * The answer, for `ok` outcomes:
   * - put: `stored` (written, or already present with the same value) or `exists-different`
   *   (the key held another value: the put had no effect);
   * - delete: `deleted` (deletes always succeed, present or not);
   * - lookup: `present` / `absent`;
   * - get: `absent`, or `found` with the received bytes' identity in `read`.
   */
  result?: 'stored' | 'exists-different' | 'deleted' | 'present' | 'absent' | 'found';
  /** get: identity of the bytes received (crc32c computed by the harness on what arrived). */
  read?: PageValue;
  /** Member id that answered (or was last tried). */
  member?: number;
  /** get: read over same-host shared memory (absent: over gRPC). */
  transfer?: 'shared-memory';
  /** get over shared memory: the page was copied from the member's arena (else it was streamed). */
  copied?: true;
  /** get over shared memory: the client refused a copy from the arena (its crc32c failed) and streamed the page instead. */
  copyRefused?: true;
  /** The error's KVC_* code or message, for `fail` and `unknown`. */
  error?: string;
}

/** What one member serves for each key after healing, read from that member alone. */
export interface MemberFinalState {
  member: number;
  /** key (hex) -> the page's identity, or null when the member does not have it. */
  pages: Record<string, PageValue | null>;
  appliedIndex: number;
  /** The store's state digest (AdminService Status / node digest). */
  digest: string;
}

/** One observation of a member calling itself leader, from status polls or member logs. */
export interface LeaderObservation {
  atMs: number;
  member: number;
  term: number;
}

/** A fault window, for the report and for recovery times. */
export interface FaultEvent {
  nemesis: string;
  /** Human description: "kill n3 (leader)", "partition {1,2} | {3,4,5}". */
  detail: string;
  startMs: number;
  /** When the fault took effect, where the nemesis says (a kill: the SIGKILL); else it did at startMs. */
  injectedMs?: number;
  /** When the fault was healed (undefined if it was still on at the end, which the harness never leaves). */
  endMs?: number;
  members: number[];
}

/** Why a page left the store, as the replicated removal record (AdminService.ListRemovals) says. */
export type RemovalReason = 'evicted' | 'expired' | 'deleted' | 'namespace-dropped';

/** One entry of the replicated removal record. */
export interface RemovalEntry {
  /** Log index of the entry that removed the page. */
  index: number;
  ns: string;
  /** Page key, hex; '' for a dropped namespace (every page of it). */
  key: string;
  reason: RemovalReason;
}

/**
 * The replicated removal record as one member held it after the finals were read: the evidence
 * the durability and linearizability checkers use to tell an evicted page from a lost one. It is
 * read from the member with the highest applied index, after its Status, so every removal that
 * Status counted (and every removal any member had applied when its finals were read) is at or
 * below `appliedIndex` and in `entries`, unless the bounded record trimmed it.
 */
export interface RemovalEvidence {
  member: number;
  /** The member's applied index when its counters were read (before the record). */
  appliedIndex: number;
  /** The oldest index the record still held; 0 when it was empty. */
  oldestIndex: number;
  /** The member's replicated counters (Status) at `appliedIndex`, all namespaces. */
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
  /** The whole record, oldest first (it may run past `appliedIndex`). */
  entries: RemovalEntry[];
}

/** One change the chaos watcher's feed delivered (Watch, src/chaos/watcher.ts). */
export interface WatchedChange {
  index: number;
  type: 'stored' | 'removed' | 'namespace_dropped';
  ns: string;
  /** Page key, hex ('' for a dropped namespace). */
  key: string;
  /** stored: the page's identity. */
  crc32c?: number;
  bytes?: number;
}

/** What the chaos watcher saw: its feed from index 1, the progress it reached, how often it resumed. */
export interface WatchRecord {
  events: WatchedChange[];
  /** The highest progress index delivered: every change up to it was delivered. */
  progressIndex: number;
  /** The converged applied index the watcher was asked to reach before it stopped. */
  targetIndex?: number;
  resumes: number;
  /** Why the feed ended before it was stopped (the client gave up). */
  error?: string;
}

export interface History {
  seed: number;
  nodes: number;
  startedMs: number;
  operations: Operation[];
  finals: MemberFinalState[];
  leaders: LeaderObservation[];
  faults: FaultEvent[];
  /** The members' byte budget when the run set one (`--budget`); absent: the default, far above what a run writes. */
  budgetBytes?: number;
  /** Absent when no member answered ListRemovals (then no missing page is explained by it). */
  removals?: RemovalEvidence;
  /** The Watch feed of the run (absent in histories recorded before it). */
  watch?: WatchRecord;
}
