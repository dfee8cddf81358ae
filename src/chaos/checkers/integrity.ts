// The integrity checker: no `get` ever returned bytes that no put wrote for that key.
//
// A get is served by any replica and is not linearizable, so a stale answer (an older page, or
// `absent` for a page just written) is allowed here; linearizable lookups are the linearizability
// checker's business. What a get may never return is a page that no put of that key (of any
// outcome: an unknown or even a failed put may have sent the bytes) wrote, identified by the
// crc32c and length of what the client received, nor a page whose every put was invoked only
// after the get had already completed (bytes cannot arrive before anyone sent them).
import type { History, Operation, PageValue } from '../history.js';
import { EXAMPLES_MAX, assertWellFormed, groupByKey, sameValue } from './common.js';

export interface CorruptRead {
  get: Operation;
  /** The values that puts of that key wrote (up to EXAMPLES_MAX), for comparison. */
  written: PageValue[];
  reason: 'never-written' | 'written-later';
}

export interface IntegrityResult {
  /** Gets answered `ok`. */
  reads: number;
  /** Gets that returned a page. */
  pagesRead: number;
  corruptReads: number;
  /** Examples, at most EXAMPLES_MAX. */
  corrupt: CorruptRead[];
}

function classify(get: Operation, puts: readonly Operation[]): CorruptRead['reason'] | undefined {
  const writers = puts.filter((put) => sameValue(put.value, get.read));
  if (writers.length === 0) return 'never-written';
  const completeMs = get.completeMs ?? Number.POSITIVE_INFINITY;
  return writers.some((put) => put.invokeMs <= completeMs) ? undefined : 'written-later';
}

/** Checks every `ok` get's bytes against the puts of its key; see the file comment. */
export function checkIntegrity(history: Pick<History, 'operations'>): IntegrityResult {
  const result: IntegrityResult = { reads: 0, pagesRead: 0, corruptReads: 0, corrupt: [] };
  for (const ops of groupByKey(history.operations).values()) {
    const puts = ops.filter((op) => op.kind === 'put');
    for (const get of ops) {
      assertWellFormed(get);
      if (get.kind !== 'get' || get.outcome !== 'ok') continue;
      result.reads++;
      if (get.result !== 'found') continue;
      result.pagesRead++;
      const reason = classify(get, puts);
      if (reason === undefined) continue;
      result.corruptReads++;
      if (result.corrupt.length < EXAMPLES_MAX) {
        result.corrupt.push({ get, written: puts.slice(0, EXAMPLES_MAX).map((put) => put.value!), reason });
      }
    }
  }
  return result;
}
