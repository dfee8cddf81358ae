// What the client does after a failed attempt: follow a leader redirect at once, back off and try
// another member, or give up. The rule that keeps retries safe: a request is retried after an
// ambiguous failure (the server may or may not have applied it) only when it is idempotent.
// Every cache write is: a put of the same key with the same crc32c is a no-op success, deletes
// and unpins of absent pages succeed, a pin only refreshes its expiry. Membership changes are not
// retried after an ambiguous failure, because a repeated AddMember/RemoveMember could undo an
// operator's later change; they are retried only when the server refused them outright.

import type { KvcClientError } from './client-error.js';

export const DEFAULT_RETRIES = 5;
/** First backoff step; doubled per attempt up to DEFAULT_BACKOFF_MAX_MS. */
export const DEFAULT_BACKOFF_BASE_MS = 100;
/** A Raft election takes one to two election timeouts (0.5 to 1 s with the default tick). */
export const DEFAULT_BACKOFF_MAX_MS = 2_000;
/**
 * How long a write keeps asking while the members know no live leader (an election is under way),
 * without spending its retries: past two of the longest election timeouts (LIMITS.raft) and a
 * split vote's second round.
 */
export const DEFAULT_LEADER_WAIT_MS = 3_000;
/** The pause between those attempts: a new leader is found within about this much of its election. */
export const LEADER_POLL_MS = 40;

/** True for the answers that mean "no leader here to take it" (an election may be under way). */
export function isRefusal(error: KvcClientError): boolean {
  return REFUSED_CODES.has(error.code);
}

export interface RetryPolicy {
  /** Attempts after the first one; redirects count, so a redirect loop cannot spin forever. */
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Writes refused for want of a leader are retried every LEADER_POLL_MS for this long, uncounted (0: off). */
  leaderWaitMs: number;
}

export type Decision = { kind: 'redirect'; leader: string } | { kind: 'backoff' } | { kind: 'fail' };

/** The server refused before doing anything, so any request may be retried. */
const REFUSED_CODES: ReadonlySet<string> = new Set(['KVC_NOT_LEADER', 'KVC_NO_LEADER']);

/** The request may or may not have taken effect: only idempotent requests are retried. */
const AMBIGUOUS_CODES: ReadonlySet<string> = new Set(['KVC_PROPOSAL_DROPPED', 'KVC_DEADLINE_EXCEEDED', 'KVC_UNAVAILABLE']);

/**
 * grpc-js's wording when a call failed because no connection to the member could be made at all:
 * the request never left this process, so even a non-idempotent request may be retried. Matching
 * a message is brittle, so a miss only makes the client more conservative, never less safe.
 */
const NEVER_SENT_DETAIL = 'No connection established';

export function decide(error: KvcClientError, idempotent: boolean, endpoint: string): Decision {
  if (REFUSED_CODES.has(error.code)) {
    // A member naming itself as leader while refusing is not progress: back off instead.
    if (error.leader !== undefined && error.leader !== endpoint) return { kind: 'redirect', leader: error.leader };
    return { kind: 'backoff' };
  }
  if (!AMBIGUOUS_CODES.has(error.code)) return { kind: 'fail' };
  if (idempotent || (error.code === 'KVC_UNAVAILABLE' && error.message.includes(NEVER_SENT_DETAIL))) {
    return { kind: 'backoff' };
  }
  return { kind: 'fail' };
}

/** Half to all of LEADER_POLL_MS: clients waiting out one election do not ask in lockstep. */
export function leaderPollMs(random: () => number = Math.random): number {
  return LEADER_POLL_MS / 2 + random() * (LEADER_POLL_MS / 2);
}

/**
 * Delay before retry number `attempt` (0-based): exponential with "equal jitter", half fixed and
 * half random, so clients that failed together (a leader died) spread out instead of retrying in
 * lockstep, yet never retry at once.
 */
export function backoffMs(policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
