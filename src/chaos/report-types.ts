// The shape of what a run reports: the one JSON document of `kvc chaos --json` (the issue's
// fields first, then context) and its eviction part. A module of its own so that report.ts, which
// builds it, and report-html.ts, which draws it, both import it and not each other.
import type { KillWindow } from './unavailability.js';

export interface ChaosSummary {
  ok: boolean;
  seed: number;
  operations: number;
  acknowledgedPuts: number;
  lostPuts: number;
  corruptReads: number;
  linearizable: boolean | 'unknown';
  leadersPerTermMax: number;
  converged: boolean;
  faults: Record<string, number>;
  recoverySecondsMax: number;
  nodes: number;
  clients: number;
  durationSeconds: number;
  elapsedSeconds: number;
  /** Operations by kind and outcome, e.g. {"put": {"ok": 10, "unknown": 1}}. */
  outcomes: Record<string, Record<string, number>>;
  /** Why the checkers failed the run, one line each (empty when they passed). */
  failures: string[];
  /** Cluster misbehaviour the harness saw itself (each one fails the run). */
  incidents: string[];
  /** The watcher's feed as the watch-feed checker saw it (changes delivered, resumes); null without one. */
  watch: { changes: number; resumes: number } | null;
  /** What eviction did and how the checkers accounted for it; null when no removal record was read. */
  evictions: EvictionSummary | null;
  /** Per kill, how long clients could not write: from the SIGKILL to the first acknowledged put (unavailability.ts). */
  killUnavailability: KillWindow[];
  /**
   * Gets over same-host shared memory (their bytes are checked with every other read's: corrupt
   * reads): answered, pages found, found pages copied from an arena (the rest were streamed), and
   * copies the client refused (crc32c failed) and streamed instead.
   */
  sharedMemory: { gets: number; found: number; copied: number; copiesRefused: number };
  report?: string;
}

export interface EvictionSummary {
  /** The members' budget with `--budget`; null: the default, far above what a run writes. */
  budgetBytes: number | null;
  /** Replicated counters (Status) of the member the record was read from. */
  evictedPages: number;
  evictedBytes: number;
  /** Entries of the removal record (ListRemovals) by reason: the removals the checkers saw. */
  removalsSeen: { evicted: number; expired: number; deleted: number };
  /** False when the record was trimmed of evictions the counters know of. */
  recordComplete: boolean;
  /** Acknowledged pages missing at the end that the record shows evicted: not lost. */
  acknowledgedEvicted: number;
  /** Acknowledged pages missing that a trimmed record can neither explain nor rule out. */
  acknowledgedUndecided: number;
  /** Puts refused because the budget was full and nothing could be evicted (KVC_QUOTA_EXHAUSTED). */
  putsRefusedFull: number;
}
