// The durability checker: after healing, every page whose put was acknowledged must be on every
// member, with the same bytes, unless a delete may legitimately have removed it. It also flags
// member copies that no put wrote (corruption) and pages an acknowledged delete should have
// removed for good (a lost delete).
//
// The rule for "required", thought through on the register (register-model.ts):
// - A put answered `ok` + `stored` took effect, or found its own value already there, at some
//   point in its interval; either way the key held its value right then.
// - From then on only a delete can change the key: a later put of another value is answered
//   `exists-different` and changes nothing (first writer wins), and a later put of the same value
//   keeps it. So a later different value also needs a delete in between.
// - A delete can be ordered after the put unless it completed before the put was invoked. A
//   delete that failed had no effect; one with an unknown outcome may take effect at any time
//   after its invocation, so it counts as possibly after the put.
// So a page (key, value) is required when some `ok` + `stored` put of it was invoked after every
// `ok` or `unknown` delete of that key had completed (no delete can follow it). Pages are counted
// once however many puts acknowledged them, and a required page that any member lacks (or holds
// with other bytes) is lost.
//
// Evictions: a required page that a member lacks is not lost when the replicated removal record
// (history.removals; removals.ts) has an eviction or expiry of its key: it is `evicted`. When the
// record was trimmed and does not name the key, the page is `trimmed`: neither lost nor evicted,
// since either may be true, and the verdict is not ok (not shown). Without a record (none was
// read) every missing page is lost, as in a run without eviction. Lost = missing and not
// accounted for.
//
// Corruption: a member's copy whose (crc32c, length) no put of that key (of any outcome) wrote.
// Lost delete: a member holds value v although an `ok` delete was invoked after every put of v
// completed, and every put of v was answered (`ok`): nothing can have written v after the delete.
//
// The members' final pages are keyed by page key only (the workload uses one namespace), so
// operations are grouped by key here, not by namespace and key.
import type { History, MemberFinalState, Operation, PageValue } from '../history.js';
import { EXAMPLES_MAX, assertWellFormed, completedByMs, maxOf, sameValue, valueId } from './common.js';
import { accountMissing, accountRemovals, type RemovalAccount } from './removals.js';

export interface LostPut {
  key: string;
  value: PageValue;
  /** The acknowledged puts that required it. */
  putIds: number[];
  /** Members that do not hold it, and what each holds instead (null: nothing). */
  missingOn: Array<{ member: number; holds: PageValue | null }>;
}

export interface MemberCopy {
  member: number;
  key: string;
  value: PageValue;
}

export interface DurabilityResult {
  /** Puts answered `ok` + `stored` (operations, not pages). */
  acknowledgedPuts: number;
  /** Distinct acknowledged pages that no delete can have removed. */
  requiredPages: number;
  /** Acknowledged pages a possible later delete excuses. */
  excusedPages: number;
  /** Required pages missing or different on at least one member, not accounted for by the removal record. */
  lostPuts: number;
  /** Required pages missing that the removal record shows evicted (or expired). */
  evictedPages: number;
  /** Required pages missing whose key the removal record does not name, but that was trimmed. */
  trimmedPages: number;
  /** What the removal record held (absent: none was read). */
  removalRecord?: { complete: boolean; evictedEntries: number; expiredEntries: number; deletedEntries: number; keysEvicted: number };
  corruptCopies: number;
  /** Copies an acknowledged delete should have removed. */
  resurrectedCopies: number;
  members: number;
  /** Examples, at most EXAMPLES_MAX each. */
  lost: LostPut[];
  /** Examples of missing pages the record accounts for, and of pages a trimmed record leaves undecided. */
  evicted: LostPut[];
  trimmed: LostPut[];
  corrupt: MemberCopy[];
  resurrected: MemberCopy[];
}

interface KeyOps {
  puts: Operation[];
  deletes: Operation[];
}

function byKey(operations: readonly Operation[]): Map<string, KeyOps> {
  const keys = new Map<string, KeyOps>();
  for (const op of operations) {
    if (op.kind !== 'put' && op.kind !== 'delete') continue;
    let entry = keys.get(op.key);
    if (entry === undefined) {
      entry = { puts: [], deletes: [] };
      keys.set(op.key, entry);
    }
    (op.kind === 'put' ? entry.puts : entry.deletes).push(op);
  }
  return keys;
}

/** The acknowledged pages of one key that no delete can follow, keyed by value id. */
function requiredPages(ops: KeyOps): { required: Map<string, Operation[]>; acknowledged: Set<string> } {
  // The latest completion of a delete that may have taken effect: a put invoked after it cannot be undone.
  const lastDeleteMs = maxOf(ops.deletes.filter((d) => d.outcome !== 'fail').map(completedByMs));
  const required = new Map<string, Operation[]>();
  const acknowledged = new Set<string>();
  for (const put of ops.puts) {
    if (put.outcome !== 'ok' || put.result !== 'stored') continue;
    const id = valueId(put.value!);
    acknowledged.add(id);
    if (lastDeleteMs >= put.invokeMs) continue;
    required.set(id, [...(required.get(id) ?? []), put]);
  }
  return { required, acknowledged };
}

/** Whether an `ok` delete of the key provably came after every put of `value`. */
function deletedForGood(ops: KeyOps, value: PageValue): boolean {
  const puts = ops.puts.filter((put) => sameValue(put.value, value));
  if (puts.some((put) => put.outcome !== 'ok')) return false;
  const lastPutMs = maxOf(puts.map(completedByMs));
  return ops.deletes.some((d) => d.outcome === 'ok' && d.invokeMs > lastPutMs);
}

function checkCopies(finals: readonly MemberFinalState[], keys: Map<string, KeyOps>, result: DurabilityResult): void {
  for (const final of finals) {
    for (const [key, value] of Object.entries(final.pages)) {
      if (value === null) continue;
      const ops = keys.get(key) ?? { puts: [], deletes: [] };
      const copy: MemberCopy = { member: final.member, key, value };
      if (!ops.puts.some((put) => sameValue(put.value, value))) {
        result.corruptCopies++;
        if (result.corrupt.length < EXAMPLES_MAX) result.corrupt.push(copy);
      } else if (deletedForGood(ops, value)) {
        result.resurrectedCopies++;
        if (result.resurrected.length < EXAMPLES_MAX) result.resurrected.push(copy);
      }
    }
  }
}

/** Counts one required page that some member lacks, as the removal record accounts for it. */
function countMissing(page: LostPut, ns: string, account: RemovalAccount, result: DurabilityResult): void {
  const how = accountMissing(account, ns, page.key);
  const [examples, counter] =
    how === 'evicted' ? [result.evicted, 'evictedPages' as const] : how === 'trimmed' ? [result.trimmed, 'trimmedPages' as const] : [result.lost, 'lostPuts' as const];
  result[counter]++;
  if (examples.length < EXAMPLES_MAX) examples.push(page);
}

function emptyResult(history: Pick<History, 'operations' | 'finals'>, account: RemovalAccount): DurabilityResult {
  return {
    acknowledgedPuts: history.operations.filter((op) => op.kind === 'put' && op.outcome === 'ok' && op.result === 'stored').length,
    requiredPages: 0,
    excusedPages: 0,
    lostPuts: 0,
    evictedPages: 0,
    trimmedPages: 0,
    ...(account.available
      ? {
          removalRecord: {
            complete: account.complete,
            evictedEntries: account.evictedEntries,
            expiredEntries: account.expiredEntries,
            deletedEntries: account.deletedEntries,
            keysEvicted: account.evictionsByKey.size,
          },
        }
      : {}),
    corruptCopies: 0,
    resurrectedCopies: 0,
    members: history.finals.length,
    lost: [],
    evicted: [],
    trimmed: [],
    corrupt: [],
    resurrected: [],
  };
}

/** Checks the members' final states against the acknowledged puts; see the file comment. */
export function checkDurability(history: Pick<History, 'operations' | 'finals' | 'removals'>): DurabilityResult {
  for (const op of history.operations) assertWellFormed(op);
  const keys = byKey(history.operations);
  const account = accountRemovals(history.removals);
  const result = emptyResult(history, account);
  for (const [key, ops] of [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const { required, acknowledged } = requiredPages(ops);
    result.requiredPages += required.size;
    result.excusedPages += acknowledged.size - required.size;
    for (const puts of required.values()) {
      const value = puts[0].value!;
      const missingOn = history.finals
        .filter((final) => !sameValue(final.pages[key], value))
        .map((final) => ({ member: final.member, holds: final.pages[key] ?? null }));
      if (missingOn.length === 0) continue;
      countMissing({ key, value, putIds: puts.map((put) => put.id), missingOn }, puts[0].ns, account, result);
    }
  }
  checkCopies(history.finals, keys, result);
  return result;
}
