// What the replicated removal record (history.removals, read from a member after the finals)
// says about the workload's keys: which keys eviction (or TTL expiry) removed a page of, and
// whether the record is complete. The durability checker uses it to tell an evicted page from a
// lost one, the linearizability checker to allow a key to become absent without a delete.
//
// Ordering: a record entry carries the log index of the `evict` command, and the history carries
// only client times; the two cannot be matched exactly. So any eviction record of a key counts
// for every page of that key, whenever it was put. This is as weak as the evidence: pages are
// immutable, and a put of the key after an eviction stores it again, so a final read that misses
// an acknowledged page needs an eviction of it after its put, which such a record may or may not
// be. It is never a guess without a record: a key with no eviction record is never excused.
//
// Completeness: the record is bounded (the oldest entries are trimmed past 100,000). The member's
// replicated counters (Status: evicted_pages, expired_pages) at the applied index the record was
// read at count every eviction ever applied; when the record holds fewer eviction entries up to
// that index, some were trimmed, and a key without a record may still have been evicted.
import type { RemovalEvidence } from '../history.js';
import { keyId } from './common.js';

export interface RemovalAccount {
  /** A record was read at all. */
  available: boolean;
  /** Every eviction and expiry the counters know of is in the record (nothing was trimmed). */
  complete: boolean;
  /** keyId -> evicted and expired entries of that key. */
  evictionsByKey: Map<string, number>;
  evictedEntries: number;
  expiredEntries: number;
  deletedEntries: number;
}

/** Counts the record's entries by reason and by key; see the file comment. */
export function accountRemovals(evidence: RemovalEvidence | undefined): RemovalAccount {
  const account: RemovalAccount = {
    available: evidence !== undefined,
    complete: evidence !== undefined,
    evictionsByKey: new Map(),
    evictedEntries: 0,
    expiredEntries: 0,
    deletedEntries: 0,
  };
  if (evidence === undefined) return account;
  let evictedCounted = 0;
  let expiredCounted = 0;
  for (const entry of evidence.entries) {
    if (entry.reason === 'deleted') account.deletedEntries++;
    if (entry.reason !== 'evicted' && entry.reason !== 'expired') continue;
    if (entry.reason === 'evicted') account.evictedEntries++;
    else account.expiredEntries++;
    // Entries past the counters' applied index are not in the counters: compare like with like.
    if (entry.index <= evidence.appliedIndex) {
      if (entry.reason === 'evicted') evictedCounted++;
      else expiredCounted++;
    }
    const id = keyId(entry);
    account.evictionsByKey.set(id, (account.evictionsByKey.get(id) ?? 0) + 1);
  }
  account.complete = evictedCounted >= evidence.evictedPages && expiredCounted >= evidence.expiredPages;
  return account;
}

/** How a required page that a member lacks is accounted for. */
export type MissingAccount = 'evicted' | 'trimmed' | 'lost';

/** A missing page of `ns`/`key`: evicted when the record names the key, trimmed when it may have lost that, else lost. */
export function accountMissing(account: RemovalAccount, ns: string, key: string): MissingAccount {
  if (account.evictionsByKey.has(keyId({ ns, key }))) return 'evicted';
  if (account.available && !account.complete) return 'trimmed';
  return 'lost';
}
