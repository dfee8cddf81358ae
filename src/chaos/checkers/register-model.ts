// The sequential specification the linearizability checker tests each key against, and the
// encoding of one key's operations into the arrays its search runs over.
//
// Per key the cache is a register over {absent, value} (DESIGN §2, §6):
// - put(v): absent -> v, answer `stored`; holding v -> unchanged, `stored`; holding w != v ->
//   unchanged, `exists-different` (first writer wins: pages are immutable);
// - delete: -> absent, `deleted`;
// - linearizable lookup: `present` / `absent`.
// `get` is served by any replica and is not linearizable, so it is not part of this model.
//
// Which operations take part:
// - `ok` operations are definite: their answer is checked and they must be ordered between their
//   invocation and their completion;
// - `fail` operations certainly had no effect and are dropped;
// - `unknown` puts and deletes may or may not have taken effect, at any time after their
//   invocation. They get no completion (Porcupine gives them an infinite one) and may also never
//   be used, which is the same thing as ordering them after everything else. An `unknown` lookup
//   observed nothing anyone knows and is dropped.
//
// State encoding: 0 is absent; 1 is "present with a value that no other put of this key writes";
// 2 + i is "present with shared value i", a value that more than one put of this key writes, one
// of them definite (a client retrying the same page). Values written once are all folded into state 1: after such
// a put is ordered, no other operation can tell its value from any other unique value (every
// other put of the key answers `exists-different` to both, lookups answer `present`), so the
// search needs to tell them apart only through the shared values. This folding is what lets
// Porcupine's cache of (ordered set, state) recognise configurations that differ only in which
// unique page won.
//
// Evictions: the leader may evict a page (an `evict` command in the log), which is a delete no
// client invoked. When the removal record shows k evictions (or expiries) of a key, the key gets k
// more unknown deletes, invoked before everything (-Infinity): each may take effect at any time or
// never. That allows every order the real evictions could have taken, so it accuses nothing that
// eviction explains, and the key's other operations are still checked against each other.
//
// Unknown operations are grouped in classes that the future cannot tell apart: class 0 holds the
// unknown deletes, class c >= 1 the unknown puts whose ordered effect is state c (class 1: all
// unknown puts of unique values). Two unknown operations of one class that have both been invoked
// are interchangeable in every continuation (neither has a completion that constrains anything),
// so the search tracks how many of each class it has used, never which ones.
import type { Operation } from '../history.js';
import { valueId } from './common.js';

export const STATE_ABSENT = 0;
/** Present, holding a value that only one put of the key writes. */
export const STATE_UNIQUE = 1;
/** Returned by a step the specification does not allow. */
export const ILLEGAL = -1;

/** Answers of definite operations, as small integers for the search's hot loop. */
export const Answer = {
  PutStored: 0,
  PutExistsDifferent: 1,
  Deleted: 2,
  LookupPresent: 3,
  LookupAbsent: 4,
} as const;
export type Answer = (typeof Answer)[keyof typeof Answer];

/** One key's operations, encoded for the search. Definite operations are indexed by return rank. */
export interface KeyProblem {
  ns: string;
  key: string;
  /** Definite operations ordered by completion (the order of their return events). */
  definite: Operation[];
  answers: Uint8Array;
  /** 1 for a definite operation that never changes the state (a lookup, an `exists-different` put); see below. */
  readOnly: Uint8Array;
  /** For puts: the state their value gives (STATE_UNIQUE or a shared value's code); 0 otherwise. */
  valueStates: Int32Array;
  invokeMs: Float64Array;
  completeMs: Float64Array;
  /** Unknown puts and deletes (for the witness); the search sees only their classes. */
  unknown: Operation[];
  /** Per class, the invocation times of its unknown operations, ascending. Class 0 is deletes. */
  classInvokeMs: Float64Array[];
}

/** The encoded answer of an `ok` operation; common.ts asserted that its result fits its kind. */
const ANSWERS: Record<NonNullable<Operation['result']>, Answer> = {
  stored: Answer.PutStored,
  'exists-different': Answer.PutExistsDifferent,
  deleted: Answer.Deleted,
  present: Answer.LookupPresent,
  absent: Answer.LookupAbsent,
  found: Answer.LookupPresent, // Gets never reach the model; listed for the Record's completeness.
};

/**
 * Codes each put's value: 2 + i for shared value i, a value that several puts write and at least
 * one definite put; STATE_UNIQUE for the rest. A value that only unknown puts write can never be
 * told from a unique one (only a definite put's answer compares values), so it is not shared.
 */
function codeValues(puts: readonly Operation[]): Map<Operation, number> {
  const writers = new Map<string, { count: number; definite: boolean }>();
  for (const op of puts) {
    const entry = writers.get(valueId(op.value!)) ?? { count: 0, definite: false };
    entry.count++;
    entry.definite ||= op.outcome === 'ok';
    writers.set(valueId(op.value!), entry);
  }
  const sharedCodes = new Map<string, number>();
  const codes = new Map<Operation, number>();
  for (const op of puts) {
    const id = valueId(op.value!);
    const entry = writers.get(id)!;
    if (entry.count < 2 || !entry.definite) {
      codes.set(op, STATE_UNIQUE);
      continue;
    }
    let code = sharedCodes.get(id);
    if (code === undefined) {
      code = 2 + sharedCodes.size;
      sharedCodes.set(id, code);
    }
    codes.set(op, code);
  }
  return codes;
}

/**
 * Builds the search problem for one key's operations (all of the same ns and key); `evictions`
 * deletes no client invoked are added as unknown deletes invoked at -Infinity (see above).
 */
export function encodeKey(ns: string, key: string, operations: readonly Operation[], evictions = 0): KeyProblem {
  const relevant = operations.filter(
    (op) => op.kind !== 'get' && op.outcome !== 'fail' && !(op.kind === 'lookup' && op.outcome === 'unknown'),
  );
  const codes = codeValues(relevant.filter((op) => op.kind === 'put'));
  const completion = (op: Operation): number => op.completeMs ?? Number.POSITIVE_INFINITY;
  // Ties in completion are broken by id so that the order, and so every result, is deterministic.
  const definite = relevant
    .filter((op) => op.outcome === 'ok')
    .sort((a, b) => completion(a) - completion(b) || a.id - b.id);
  const unknown = relevant.filter((op) => op.outcome === 'unknown');
  const classCount = 2 + new Set([...codes.values()].filter((code) => code >= 2)).size;
  const classTimes: number[][] = Array.from({ length: classCount }, () => []);
  for (const op of unknown) classTimes[op.kind === 'delete' ? 0 : codes.get(op)!].push(op.invokeMs);
  for (let i = 0; i < evictions; i++) classTimes[0].push(Number.NEGATIVE_INFINITY);
  return {
    ns,
    key,
    definite,
    answers: Uint8Array.from(definite, (op) => ANSWERS[op.result!]),
    readOnly: Uint8Array.from(definite, (op) => (op.kind === 'lookup' || op.result === 'exists-different' ? 1 : 0)),
    valueStates: Int32Array.from(definite, (op) => codes.get(op) ?? 0),
    invokeMs: Float64Array.from(definite, (op) => op.invokeMs),
    completeMs: Float64Array.from(definite, completion),
    unknown,
    classInvokeMs: classTimes.map((times) => Float64Array.from(times.sort((a, b) => a - b))),
  };
}

// Read-only operations (lookups, `exists-different` puts) are ordered greedily. If a
// configuration has any linearization and a read-only operation x may be ordered now (invoked in
// time, its answer legal in the current state), then ordering x now also leads to one: take the
// linearization and move x to the front. x changes no state, so everything after it sees the same
// states; x's answer is legal at the front by assumption; and every operation that had to precede
// x (completed before x was invoked) is already ordered, or x could not be ordered now. So both
// searches order such an x first and try no alternative there: if that fails, the configuration
// fails. Without this, every subset of the concurrent lookups would be a configuration of its own.

/** The state after a definite operation with this answer, or ILLEGAL if the answer is impossible there. */
export function stepDefinite(state: number, answer: Answer, valueState: number): number {
  switch (answer) {
    case Answer.PutStored:
      // A unique value can never already be held: only this put writes it.
      if (state === STATE_ABSENT) return valueState;
      return valueState !== STATE_UNIQUE && state === valueState ? state : ILLEGAL;
    case Answer.PutExistsDifferent:
      if (state === STATE_ABSENT) return ILLEGAL;
      return valueState !== STATE_UNIQUE && state === valueState ? ILLEGAL : state;
    case Answer.Deleted:
      return STATE_ABSENT;
    case Answer.LookupPresent:
      return state === STATE_ABSENT ? ILLEGAL : state;
    case Answer.LookupAbsent:
      return state === STATE_ABSENT ? state : ILLEGAL;
  }
}

/**
 * The state after using one unknown operation of class `cls`, or ILLEGAL when it would change
 * nothing: an unknown delete of an absent key, or an unknown put of a present one (first writer
 * wins). Using an operation that changes nothing only spends it, so the search never does.
 */
export function stepUnknown(state: number, cls: number): number {
  if (cls === 0) return state === STATE_ABSENT ? ILLEGAL : STATE_ABSENT;
  return state === STATE_ABSENT ? cls : ILLEGAL;
}
